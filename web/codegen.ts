import type { CodegenConfig } from "@graphql-codegen/cli";

// Typed operations from the API's schema (the repository's schema.graphql, kept
// current by `make schema`). src/live/ is left out: it uses fields of the
// subscriptions branch that this schema does not have yet (see src/live/README.md).
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**", "!src/live/**"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: "string" },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition, relayStylePagination } from "@apollo/client/utilities";
import { generatePersistedQueryIdsAtRuntime } from "@apollo/persisted-query-lists";
import { createClient } from "graphql-ws";

const GRAPHQL_PATH = "/graphql";

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// The ids are computed as @apollo/generate-persisted-query-manifest computes them
// (top-level definitions sorted, then SHA-256), so they are the ids of the build's
// manifest, which a safelisted API runs. Hashed queries go over GET: cacheable.
const persisted = new PersistedQueryLink({
  ...generatePersistedQueryIdsAtRuntime({ sha256 }),
  useGETForHashedQueries: true,
});

const http = new HttpLink({ uri: GRAPHQL_PATH });

function websocketUrl(): string {
  const url = new URL(GRAPHQL_PATH, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

// Connects lazily, on the first subscription only (graphql-transport-ws).
const ws = new GraphQLWsLink(createClient({ url: websocketUrl, lazy: true, retryAttempts: 0 }));

function isSubscription(operation: ApolloLink.Operation): boolean {
  const definition = getMainDefinition(operation.query);
  return definition.kind === "OperationDefinition" && definition.operation === "subscription";
}

// Every connection is keyed by the arguments that pick its items (not the paging
// ones), so differently filtered or ordered lists are cached apart and pages merge.
const cache = new InMemoryCache({
  typePolicies: {
    Query: {
      fields: {
        articles: relayStylePagination(["filter", "orderBy"]),
        search: relayStylePagination(["query", "filter"]),
        providers: relayStylePagination(["orderBy"]),
        topics: relayStylePagination(["orderBy"]),
      },
    },
    Article: { fields: { mentionedIn: relayStylePagination() } },
    Provider: { fields: { articles: relayStylePagination(["filter", "orderBy"]) } },
    Topic: { fields: { articles: relayStylePagination(["filter", "orderBy"]) } },
    Category: { fields: { articles: relayStylePagination(["filter", "orderBy"]) } },
  },
});

export const client = new ApolloClient({
  link: ApolloLink.split(isSubscription, ws, persisted.concat(http)),
  cache,
});

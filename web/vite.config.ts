import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the app with hot reload and forwards /graphql (HTTP and
// WebSocket) to the API of `make serve`; the built app is served by the API itself.
const api = process.env.NEWSGRAPH_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  server: { proxy: { "/graphql": { target: api, ws: true } } },
  build: {
    sourcemap: true,
    // The libraries in three chunks that change at their own pace (each under
    // Vite's 500 kB warning), and each page in its own (App.tsx loads them lazily).
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: "react", test: /node_modules[\\/](react|react-dom|react-router|scheduler)[\\/]/ },
            { name: "graphql", test: /node_modules[\\/](graphql|graphql-ws)[\\/]/ },
            { name: "apollo", test: /node_modules[\\/]/ },
          ],
        },
      },
    },
  },
});

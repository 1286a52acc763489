// GraphiQL for newsgraph: queries over HTTP, subscriptions over WebSocket
// (graphql-transport-ws) on the same /graphql, the explorer plugin, and the home
// page query in the first tab. Loaded from the API's own origin (no inline script,
// so the page's Content-Security-Policy needs no 'unsafe-inline').
(function () {
  "use strict";
  const config = JSON.parse(
    document.getElementById("newsgraph-graphiql").textContent,
  );
  const url = new URL(config.url, window.location.href);
  const subscriptionUrl = new URL(url);
  subscriptionUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";

  const headers = {};
  const csrfToken = Cookies.get("csrftoken");
  if (csrfToken) {
    headers["x-csrftoken"] = csrfToken;
  }

  const fetcher = GraphiQL.createFetcher({
    url: url.toString(),
    headers: headers,
    subscriptionUrl: subscriptionUrl.toString(),
  });
  const parameters = new URLSearchParams(window.location.search);

  function NewsgraphGraphiQL() {
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.defaultQuery,
      query: parameters.get("q") || undefined,
      variables: parameters.get("variables") || undefined,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      defaultEditorToolsVisibility: true,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(NewsgraphGraphiQL),
  );
})();

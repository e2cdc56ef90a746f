// Starts GraphiQL with the settings the server wrote into #playground-config. This file is
// served from the binary like the rest, so the page needs no inline script.
(function () {
  var cfg = JSON.parse(document.getElementById("playground-config").textContent);
  var url = new URL(cfg.endpoint, window.location.href);
  var wsUrl = new URL(cfg.endpoint, window.location.href);
  wsUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({ url: url.toString(), subscriptionUrl: wsUrl.toString() });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: cfg.defaultQuery,
      defaultHeaders: cfg.defaultHeaders,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: true,
    })
  );
})();

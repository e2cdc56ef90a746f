// Starts GraphiQL with the settings the server wrote into #playground-config. This file is
// served from the binary like the rest, so the page needs no inline script.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("playground-config").textContent);
  // GraphiQL's dialogs add a <style> element; the CSP admits it only with this nonce.
  window.__webpack_nonce__ = cfg.styleNonce;
  var url = new URL(cfg.endpoint, window.location.href);
  var wsUrl = new URL(url.toString());
  wsUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({ url: url.toString(), subscriptionUrl: wsUrl.toString() });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: cfg.defaultQuery,
      defaultHeaders: cfg.defaultHeaders,
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: true,
    })
  );
})();

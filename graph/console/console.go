// Package console serves the operator console at /console: one page that draws the
// programme's analytics (schema/analytics.graphqls) as charts, each figure fetched by one
// GraphQL query that the page shows on request, so an operator learns the API from it.
// Its assets are embedded in the binary, like the playground's, so it works offline:
// Chart.js comes from the npm registry at generate time (fetch-assets.sh) and is committed;
// console.js and console.css are written by hand, without a framework.
package console

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"

	"github.com/membergraph/membergraph/graph/webasset"
)

//go:embed assets
var assetFS embed.FS

// Path is where the page is served; its assets are under Path + "/assets/".
const Path = "/console"

const assetPrefix = Path + "/assets/"

// Options configure the page.
type Options struct {
	Endpoint string // GraphQL endpoint path, default "/graphql"
	// DefaultToken, if non-nil, returns the bearer token pre-filled for this request (the
	// development token for visitors on loopback, as the playground's headers); "" leaves
	// the field for the operator, whose token the page keeps in the browser's storage.
	DefaultToken func(r *http.Request) string
}

// csp allows only this server's scripts and styles, no inline script or eval, and requests
// to this server only: the page needs nothing from outside.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>membergraph console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{call .Asset "console.css"}}">
</head>
<body>
<noscript>The console needs JavaScript.</noscript>
<script id="console-config" type="application/json">{{.Config}}</script>
<script src="{{call .Asset "chart.umd.min.js"}}"></script>
<script src="{{call .Asset "console.js"}}"></script>
</body>
</html>
`))

// config is read by console.js; html/template JSON-encodes it for the script element.
type config struct {
	Endpoint string `json:"endpoint"`
	Token    string `json:"token"`
}

type handler struct {
	opts   Options
	assets *webasset.Set
}

// Handler serves the page at Path and its assets under Path + "/assets/".
func Handler(opts Options) http.Handler {
	if opts.Endpoint == "" {
		opts.Endpoint = "/graphql"
	}
	return &handler{opts: opts, assets: webasset.Load(assetFS, "assets", assetPrefix)}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !webasset.ReadOnly(w, r) {
		return
	}
	if r.URL.Path == Path {
		h.servePage(w, r)
		return
	}
	h.assets.Serve(w, r)
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	var token string
	if h.opts.DefaultToken != nil {
		token = h.opts.DefaultToken(r)
	}
	var buf bytes.Buffer
	err := page.Execute(&buf, map[string]any{
		"Config": config{Endpoint: h.opts.Endpoint, Token: token},
		"Asset":  h.assets.URL,
	})
	if err != nil {
		http.Error(w, "console unavailable", http.StatusInternalServerError)
		return
	}
	webasset.WritePage(w, buf.Bytes(), csp)
}

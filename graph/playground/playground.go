// Package playground serves GraphiQL from assets embedded in the binary, so admins can
// explore the API with no internet: fetch-assets.sh pins and fetches them from the npm
// registry at generate time, and they are committed.
package playground

import (
	"bytes"
	"crypto/rand"
	"embed"
	"fmt"
	"html/template"
	"net/http"

	"github.com/membergraph/membergraph/graph/webasset"
)

//go:embed assets
var assetFS embed.FS

// Options configure the page.
type Options struct {
	Title    string // page title, default "membergraph"
	Endpoint string // GraphQL endpoint path, e.g. "/graphql"
	// DefaultHeaders, if non-nil, returns the JSON object text placed in GraphiQL's
	// headers editor for this request (e.g. a development Authorization header). Nil → a
	// placeholder `{"Authorization": "Bearer <token>"}`.
	DefaultHeaders func(r *http.Request) string
}

// DefaultQuery is the first query a visitor sees.
const DefaultQuery = `# Welcome to membergraph.
# Put a token in the Headers tab below
# (membergraph token --role ADMIN prints one), then run:
{
  program {
    name
    tiers { key name level minScore }
  }
}
`

const placeholderHeaders = `{"Authorization": "Bearer <token>"}`

// cspFormat allows only this server's scripts, no eval and no inline script. Inline styles
// need the per-request nonce: the page's own <style> and the <style> GraphiQL's dialogs add
// (init.js hands it the nonce). Fonts and icons are data: URIs inside graphiql.min.css.
const cspFormat = "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-%s'; " +
	"font-src 'self' data:; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const assetPrefix = "/playground/"

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{call .Asset "graphiql.min.css"}}">
<style nonce="{{.Nonce}}">html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading the playground…</div>
<noscript>The playground needs JavaScript.</noscript>
<script id="playground-config" type="application/json">{{.Config}}</script>
<script src="{{call .Asset "react.production.min.js"}}"></script>
<script src="{{call .Asset "react-dom.production.min.js"}}"></script>
<script src="{{call .Asset "graphiql.min.js"}}"></script>
<script src="{{call .Asset "init.js"}}"></script>
</body>
</html>
`))

// config is read by init.js; html/template JSON-encodes it for the script element, so no
// value can close the element.
type config struct {
	Endpoint       string `json:"endpoint"`
	DefaultQuery   string `json:"defaultQuery"`
	DefaultHeaders string `json:"defaultHeaders"`
	StyleNonce     string `json:"styleNonce"`
}

type handler struct {
	opts   Options
	assets *webasset.Set
}

// Handler serves the page at "/" and its assets under "/playground/".
func Handler(opts Options) http.Handler {
	if opts.Title == "" {
		opts.Title = "membergraph"
	}
	if opts.Endpoint == "" {
		opts.Endpoint = "/graphql"
	}
	return &handler{opts: opts, assets: webasset.Load(assetFS, "assets", assetPrefix)}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !webasset.ReadOnly(w, r) {
		return
	}
	if r.URL.Path == "/" {
		h.servePage(w, r)
		return
	}
	h.assets.Serve(w, r)
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	headers := placeholderHeaders
	if h.opts.DefaultHeaders != nil {
		headers = h.opts.DefaultHeaders(r)
	}
	if headers == "" {
		headers = placeholderHeaders
	}
	nonce := rand.Text()
	var buf bytes.Buffer
	err := page.Execute(&buf, map[string]any{
		"Title": h.opts.Title,
		"Nonce": nonce,
		"Config": config{
			Endpoint:       h.opts.Endpoint,
			DefaultQuery:   DefaultQuery,
			DefaultHeaders: headers,
			StyleNonce:     nonce,
		},
		"Asset": h.assets.URL,
	})
	if err != nil {
		http.Error(w, "playground unavailable", http.StatusInternalServerError)
		return
	}
	webasset.WritePage(w, buf.Bytes(), fmt.Sprintf(cspFormat, nonce))
}

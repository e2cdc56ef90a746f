// Package playground serves GraphiQL from assets embedded in the binary, so admins can
// explore the API with no internet: fetch-assets.sh pins and fetches them from the npm
// registry at generate time, and they are committed.
package playground

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed assets
var assetFS embed.FS

// Options configure the page.
type Options struct {
	Title    string // page title; default "membergraph"
	Endpoint string // GraphQL endpoint path, e.g. "/graphql"
	// DefaultHeaders, if set, returns the JSON object text for GraphiQL's headers editor
	// for this request (e.g. a development token); "" falls back to a placeholder.
	DefaultHeaders func(r *http.Request) string
}

// DefaultQuery is the first query a visitor sees.
const DefaultQuery = `# Welcome to membergraph. Set your token in the Headers tab below, then run:
{
  program {
    name
    tiers { key name level minScore }
  }
}
`

const placeholderHeaders = `{"Authorization": "Bearer <token: membergraph token --role ADMIN>"}`

// csp allows only this server's scripts and styles. Inline styles are allowed because
// GraphiQL's editors set them; fonts and icons come as data: URIs inside the CSS.
const csp = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"font-src 'self' data:; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="stylesheet" href="{{call .Asset "graphiql.min.css"}}">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading the playground…</div>
<script id="playground-config" type="application/json">{{.Config}}</script>
<script src="{{call .Asset "react.production.min.js"}}"></script>
<script src="{{call .Asset "react-dom.production.min.js"}}"></script>
<script src="{{call .Asset "graphiql.min.js"}}"></script>
<script src="{{call .Asset "init.js"}}"></script>
</body>
</html>
`))

type asset struct {
	body        []byte
	contentType string
	version     string // content hash; asset URLs carry it so they can be cached forever
}

type handler struct {
	opts   Options
	assets map[string]asset
}

// Handler serves the page at "/" and its assets under "/playground/".
func Handler(opts Options) http.Handler {
	if opts.Title == "" {
		opts.Title = "membergraph"
	}
	h := &handler{opts: opts, assets: map[string]asset{}}
	entries, err := fs.ReadDir(assetFS, "assets")
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	for _, e := range entries {
		b, _ := assetFS.ReadFile("assets/" + e.Name())
		ct := mime.TypeByExtension(path.Ext(e.Name()))
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		}
		sum := sha256.Sum256(b)
		h.assets[e.Name()] = asset{body: b, contentType: ct, version: hex.EncodeToString(sum[:6])}
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.URL.Path == "/" {
		h.servePage(w, r)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/playground/")
	a, found := h.assets[name]
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	if r.URL.Query().Get("v") == a.version {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	_, _ = w.Write(a.body)
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	headers := ""
	if h.opts.DefaultHeaders != nil {
		headers = h.opts.DefaultHeaders(r)
	}
	if headers == "" {
		headers = placeholderHeaders
	}
	cfg, _ := json.Marshal(map[string]string{
		"endpoint":       h.opts.Endpoint,
		"defaultQuery":   DefaultQuery,
		"defaultHeaders": headers,
	})
	var buf bytes.Buffer
	err := page.Execute(&buf, map[string]any{
		"Title": h.opts.Title,
		// html/template escapes JSON inside a script element safely (no "</script>").
		"Config": template.JS(cfg),
		"Asset": func(name string) string {
			return "/playground/" + name + "?v=" + h.assets[name].version
		},
	})
	if err != nil {
		http.Error(w, "playground unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(buf.Bytes())
}

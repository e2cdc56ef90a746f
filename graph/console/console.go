// Package console serves the operator console at /console: one page that draws the
// programme's analytics (schema/analytics.graphqls) as charts, each figure fetched by one
// GraphQL query that the page shows on request, so an operator learns the API from it.
// Its assets are embedded in the binary, like the playground's, so it works offline:
// Chart.js comes from the npm registry at generate time (fetch-assets.sh) and is committed;
// console.js and console.css are written by hand, without a framework.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
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

type asset struct {
	body        []byte
	contentType string
	version     string // content hash, carried in the asset URLs
}

type handler struct {
	opts   Options
	assets map[string]*asset
}

// Handler serves the page at Path and its assets under Path + "/assets/".
func Handler(opts Options) http.Handler {
	if opts.Endpoint == "" {
		opts.Endpoint = "/graphql"
	}
	h := &handler{opts: opts, assets: map[string]*asset{}}
	entries, err := fs.ReadDir(assetFS, "assets")
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	for _, e := range entries {
		b, err := assetFS.ReadFile("assets/" + e.Name())
		if err != nil {
			panic(err)
		}
		ct := mime.TypeByExtension(path.Ext(e.Name()))
		if ct == "" {
			ct = "text/plain; charset=utf-8" // VERSIONS and the licence
		}
		sum := sha256.Sum256(b)
		h.assets[e.Name()] = &asset{body: b, contentType: ct, version: hex.EncodeToString(sum[:6])}
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
	if r.URL.Path == Path {
		h.servePage(w, r)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, assetPrefix)
	a, found := h.assets[name]
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	if r.URL.Query().Get("v") == a.version {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	hd.Set("ETag", `"`+a.version+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	var token string
	if h.opts.DefaultToken != nil {
		token = h.opts.DefaultToken(r)
	}
	var buf bytes.Buffer
	err := page.Execute(&buf, map[string]any{
		"Config": config{Endpoint: h.opts.Endpoint, Token: token},
		"Asset": func(name string) (string, error) {
			a, ok := h.assets[name]
			if !ok {
				return "", fmt.Errorf("console: no asset %q", name)
			}
			return assetPrefix + name + "?v=" + a.version, nil
		},
	})
	if err != nil {
		http.Error(w, "console unavailable", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", csp)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	_, _ = w.Write(buf.Bytes())
}

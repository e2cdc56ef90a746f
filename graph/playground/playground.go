// Package playground serves GraphiQL from assets embedded in the binary, so admins can
// explore the API with no internet: fetch-assets.sh pins and fetches them from the npm
// registry at generate time, and they are committed.
package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
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
	"sync"
	"time"
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

type asset struct {
	body        []byte
	contentType string
	version     string // content hash; asset URLs carry it so they can be cached forever

	gzipOnce sync.Once
	gzipped  []byte // nil when compression does not pay
}

type handler struct {
	opts   Options
	assets map[string]*asset
}

// Handler serves the page at "/" and its assets under "/playground/".
func Handler(opts Options) http.Handler {
	if opts.Title == "" {
		opts.Title = "membergraph"
	}
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
			ct = "text/plain; charset=utf-8" // VERSIONS and the licences
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
	if r.URL.Path == "/" {
		h.servePage(w, r)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, assetPrefix)
	a, found := h.assets[name]
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	h.serveAsset(w, r, a)
}

func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, a *asset) {
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("Vary", "Accept-Encoding")
	// A page from an older or newer binary may ask for another version: serve what we
	// have, but only the version the page names is cacheable forever.
	if r.URL.Query().Get("v") == a.version {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	body, etag := a.body, `"`+a.version+`"`
	if acceptsGzip(r) {
		if gz := a.gzip(); gz != nil {
			body, etag = gz, `"`+a.version+`-gzip"`
			hd.Set("Content-Encoding", "gzip")
		}
	}
	hd.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// gzip compresses once, on first use, so handlers built in tests stay cheap; graphiql.min.js
// shrinks from about 1 MB to a quarter.
func (a *asset) gzip() []byte {
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(a.body)
		_ = zw.Close()
		if buf.Len() < len(a.body)*9/10 {
			a.gzipped = buf.Bytes()
		}
	})
	return a.gzipped
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
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
		"Asset": func(name string) (string, error) {
			a, ok := h.assets[name]
			if !ok {
				return "", fmt.Errorf("playground: no asset %q", name)
			}
			return assetPrefix + name + "?v=" + a.version, nil
		},
	})
	if err != nil {
		http.Error(w, "playground unavailable", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", fmt.Sprintf(cspFormat, nonce))
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	_, _ = w.Write(buf.Bytes())
}

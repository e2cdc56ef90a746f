// Package webasset serves the pages built into the binary (the playground, the console):
// their embedded assets, each under a content-hash version that the page's URLs carry so
// they can be cached forever, gzip-compressed where that pays, and the page itself with the
// headers that keep it from being framed, cached or leaking its address.
package webasset

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Set is the assets of one page, served under one URL prefix.
type Set struct {
	prefix string
	assets map[string]*asset
}

type asset struct {
	body        []byte
	contentType string
	version     string // content hash; asset URLs carry it so they can be cached forever

	gzipOnce sync.Once
	gzipped  []byte // nil when compression does not pay
}

// Load reads every file of dir in fsys as an asset served under prefix (which ends in "/").
// It panics when dir cannot be read: the embedded directory is part of the binary.
func Load(fsys fs.FS, dir, prefix string) *Set {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		panic(err)
	}
	s := &Set{prefix: prefix, assets: make(map[string]*asset, len(entries))}
	for _, e := range entries {
		b, err := fs.ReadFile(fsys, dir+"/"+e.Name())
		if err != nil {
			panic(err)
		}
		ct := mime.TypeByExtension(path.Ext(e.Name()))
		if ct == "" {
			ct = "text/plain; charset=utf-8" // VERSIONS and the licences
		}
		sum := sha256.Sum256(b)
		s.assets[e.Name()] = &asset{body: b, contentType: ct, version: hex.EncodeToString(sum[:6])}
	}
	return s
}

// URL is the versioned address of the named asset, for the page's template.
func (s *Set) URL(name string) (string, error) {
	a, ok := s.assets[name]
	if !ok {
		return "", fmt.Errorf("webasset: no asset %q", name)
	}
	return s.prefix + name + "?v=" + a.version, nil
}

// Serve answers a request for an asset under the Set's prefix, or 404.
func (s *Set) Serve(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, s.prefix)
	a, found := s.assets[name]
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
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

// ReadOnly answers 405 to anything but GET and HEAD and reports whether the request may
// go on; every answer it lets through is marked nosniff.
func ReadOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	return true
}

// WritePage sends a rendered page under csp: never cached (it may carry a development
// token), never framed, and sending no referrer.
func WritePage(w http.ResponseWriter, page []byte, csp string) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(len(page)))
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", csp)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	_, _ = w.Write(page)
}

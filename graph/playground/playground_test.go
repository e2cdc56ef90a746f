package playground_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/membergraph/membergraph/graph/playground"
)

func serve(t *testing.T, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var attrRE = regexp.MustCompile(`(?i)\s(src|href)\s*=\s*"([^"]*)"`)

// refs returns the src and href attribute values of the page, unescaped.
func refs(page string) []string {
	var out []string
	for _, m := range attrRE.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[2]))
	}
	return out
}

func TestPageReferencesOnlyEmbeddedAssets(t *testing.T) {
	h := playground.Handler(playground.Options{Endpoint: "/graphql"})
	rec := serve(t, h, http.MethodGet, "/")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	for k, want := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	body := rec.Body.String()
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Errorf("page names an absolute URL:\n%s", body)
	}
	rs := refs(body)
	if len(rs) != 6 {
		t.Fatalf("page references %d URLs, want 6: %q", len(rs), rs)
	}
	wantType := map[string]string{
		".js":  "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8",
	}
	for _, ref := range rs {
		u, err := url.Parse(ref)
		if err != nil {
			t.Errorf("%q: %v", ref, err)
			continue
		}
		if u.Scheme == "data" { // the empty favicon, which saves a request
			continue
		}
		if u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/playground/") || u.Query().Get("v") == "" {
			t.Errorf("reference not to a versioned embedded asset: %q", ref)
			continue
		}
		a := serve(t, h, http.MethodGet, ref)
		ct := wantType[u.Path[strings.LastIndex(u.Path, "."):]]
		if a.Code != 200 || a.Header().Get("Content-Type") != ct || a.Body.Len() == 0 {
			t.Errorf("%s: %d %q, want 200 %q", ref, a.Code, a.Header().Get("Content-Type"), ct)
		}
		if got := a.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", ref, got)
		}
		if a.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", ref)
		}
		// Compressed, the same bytes.
		z := serve(t, h, http.MethodGet, ref, "Accept-Encoding", "br, gzip")
		if z.Header().Get("Content-Encoding") != "gzip" {
			if z.Body.Len() > 4096 {
				t.Errorf("%s: %d bytes served uncompressed", ref, z.Body.Len())
			}
			continue
		}
		zr, err := gzip.NewReader(z.Body)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(plain, a.Body.Bytes()) {
			t.Errorf("%s: gzip body differs (%v)", ref, err)
		}
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	rec := serve(t, playground.Handler(playground.Options{}), http.MethodGet, "/")
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %q: %s", want, csp)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http", "*"} {
		if strings.Contains(csp, bad) {
			t.Errorf("CSP allows %q: %s", bad, csp)
		}
	}
	nonce := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(csp)
	if nonce == nil || !strings.Contains(rec.Body.String(), `<style nonce="`+nonce[1]+`">`) {
		t.Errorf("the page's style does not carry the CSP nonce %q", nonce)
	}
	again := serve(t, playground.Handler(playground.Options{}), http.MethodGet, "/").Header().Get("Content-Security-Policy")
	if again == csp {
		t.Error("the nonce is the same on two responses")
	}
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]`).MatchString(strings.ReplaceAll(rec.Body.String(), `<script id="playground-config" type="application/json">`, "")) {
		t.Error("page has an inline script; the CSP would block it")
	}
}

func TestRefusals(t *testing.T) {
	h := playground.Handler(playground.Options{Endpoint: "/graphql"})
	for _, target := range []string{"/playground/nope.js", "/playground/", "/playground", "/playground/../assets/init.js", "/index.html", "/graphql"} {
		if rec := serve(t, h, http.MethodGet, target); rec.Code != 404 {
			t.Errorf("GET %s: %d, want 404", target, rec.Code)
		}
	}
	for _, target := range []string{"/", "/playground/init.js"} {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
			rec := serve(t, h, m, target)
			if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: %d Allow=%q", m, target, rec.Code, rec.Header().Get("Allow"))
			}
		}
	}
	if rec := serve(t, h, http.MethodGet, "/playground/init.js?v=stale"); rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("stale version: %d %q, want 200 no-cache", rec.Code, rec.Header().Get("Cache-Control"))
	}
	if rec := serve(t, h, http.MethodHead, "/"); rec.Code != 200 || rec.Header().Get("Content-Security-Policy") == "" {
		t.Errorf("HEAD /: %d", rec.Code)
	}
	for _, lic := range []string{"LICENSE.graphiql", "LICENSE.react", "LICENSE.react-dom", "VERSIONS"} {
		if rec := serve(t, h, http.MethodGet, "/playground/"+lic); rec.Code != 200 || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%s: %d %q", lic, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
}

var configRE = regexp.MustCompile(`(?s)<script id="playground-config" type="application/json">(.*?)</script>`)

// pageConfig returns what init.js would read from the page.
func pageConfig(t *testing.T, page string) map[string]string {
	t.Helper()
	m := configRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no config element in:\n%s", page)
	}
	var cfg map[string]string
	if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
		t.Fatalf("config is not JSON: %v\n%s", err, m[1])
	}
	return cfg
}

// TestDefaultHeadersAreEscaped: whatever the headers text holds, it cannot end the
// config script element or inject markup, and reaches GraphiQL unchanged.
func TestDefaultHeadersAreEscaped(t *testing.T) {
	evil := `{"Authorization": "</script><script>alert(1)</script><!--"} & '`
	h := playground.Handler(playground.Options{
		Title:          "<b>mg</b>",
		Endpoint:       "/graphql",
		DefaultHeaders: func(*http.Request) string { return evil },
	})
	body := serve(t, h, http.MethodGet, "/").Body.String()
	if strings.Contains(body, "<script>alert(1)") || strings.Contains(body, "<!--") || strings.Contains(body, "<b>") {
		t.Errorf("a value broke out of its place:\n%s", body)
	}
	cfg := pageConfig(t, body)
	if cfg["defaultHeaders"] != evil || cfg["endpoint"] != "/graphql" || cfg["defaultQuery"] != playground.DefaultQuery {
		t.Errorf("config = %q", cfg)
	}
	if cfg["styleNonce"] == "" {
		t.Error("config carries no style nonce")
	}

	for name, fn := range map[string]func(*http.Request) string{"nil": nil, "empty": func(*http.Request) string { return "" }} {
		page := serve(t, playground.Handler(playground.Options{DefaultHeaders: fn}), http.MethodGet, "/").Body.String()
		if got := pageConfig(t, page)["defaultHeaders"]; got != `{"Authorization": "Bearer <token>"}` {
			t.Errorf("%s DefaultHeaders: placeholder %q", name, got)
		}
		if !strings.Contains(page, "<title>membergraph</title>") {
			t.Errorf("%s: default title missing", name)
		}
	}
}

func TestDefaultQueryAsksForTheProgramme(t *testing.T) {
	want := regexp.MustCompile(`\{\s*program\s*\{\s*name\s*tiers\s*\{\s*key name level minScore\s*\}\s*\}\s*\}`)
	if !want.MatchString(playground.DefaultQuery) {
		t.Errorf("DefaultQuery = %q", playground.DefaultQuery)
	}
}

package playground_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/membergraph/membergraph/graph/playground"
)

func get(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestPageReferencesOnlyEmbeddedAssets(t *testing.T) {
	h := playground.Handler(playground.Options{Endpoint: "/graphql"})
	rec := get(t, h, http.MethodGet, "/")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "http") {
		t.Errorf("CSP = %q", csp)
	}
	body := rec.Body.String()
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(refs) < 5 {
		t.Fatalf("page references %d assets: %s", len(refs), body)
	}
	wantType := map[string]string{".js": "text/javascript", ".css": "text/css"}
	for _, m := range refs {
		ref := strings.ReplaceAll(m[1], "&amp;", "&")
		if !strings.HasPrefix(ref, "/playground/") {
			t.Errorf("reference outside the binary: %s", ref)
			continue
		}
		a := get(t, h, http.MethodGet, ref)
		name := strings.SplitN(ref, "?", 2)[0]
		ext := name[strings.LastIndex(name, "."):]
		if a.Code != 200 || !strings.HasPrefix(a.Header().Get("Content-Type"), wantType[ext]) || a.Body.Len() == 0 {
			t.Errorf("%s: %d %q", ref, a.Code, a.Header().Get("Content-Type"))
		}
		if !strings.Contains(a.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("%s: versioned asset not cacheable: %q", ref, a.Header().Get("Cache-Control"))
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("page has an inline script; the CSP would block it")
	}
}

func TestRefusals(t *testing.T) {
	h := playground.Handler(playground.Options{Endpoint: "/graphql"})
	if rec := get(t, h, http.MethodGet, "/playground/nope.js"); rec.Code != 404 {
		t.Errorf("unknown asset: %d", rec.Code)
	}
	if rec := get(t, h, http.MethodGet, "/playground/../assets/init.js"); rec.Code != 404 {
		t.Errorf("path escape: %d", rec.Code)
	}
	if rec := get(t, h, http.MethodPost, "/"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", rec.Code)
	}
	if rec := get(t, h, http.MethodGet, "/playground/init.js?v=stale"); !strings.Contains(rec.Header().Get("Cache-Control"), "no-cache") {
		t.Errorf("stale version cached forever: %q", rec.Header().Get("Cache-Control"))
	}
}

// TestDefaultHeadersAreEscaped: whatever the headers text holds, it cannot end the
// config script element or inject markup.
func TestDefaultHeadersAreEscaped(t *testing.T) {
	evil := `{"Authorization": "</script><script>alert(1)</script>"}`
	h := playground.Handler(playground.Options{Endpoint: "/graphql", DefaultHeaders: func(*http.Request) string { return evil }})
	rec := get(t, h, http.MethodGet, "/")
	body, _ := io.ReadAll(rec.Body)
	if strings.Contains(string(body), "<script>alert(1)") {
		t.Errorf("headers text broke out of the config element:\n%s", body)
	}
	placeholder := get(t, playground.Handler(playground.Options{Endpoint: "/graphql"}), http.MethodGet, "/").Body.String()
	if !strings.Contains(placeholder, "membergraph token --role ADMIN") {
		t.Error("without DefaultHeaders the page shows no placeholder")
	}
}

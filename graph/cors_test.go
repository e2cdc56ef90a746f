package graph_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/browsertest"
	"github.com/membergraph/membergraph/internal/storetest"
)

// corsPage is a front end's page: it calls the API with a bearer token from its own
// origin and writes what became of the call into the DOM.
const corsPage = `<!doctype html><pre id="out">pending</pre><script>
fetch(%q, {method: "POST", headers: {"Content-Type": "application/json", "Authorization": "Bearer %s"},
  body: JSON.stringify({query: "query Key { program { key } }"})})
  .then(r => r.json().then(j => "ok " + j.data.program.key + " request-id " + (r.headers.get("X-Request-Id") ? "readable" : "hidden")))
  .catch(e => "blocked " + e.name)
  .then(s => { document.getElementById("out").textContent = s })
</script>`

// TestCORSFromAnotherOrigin opens, in headless Chromium, two pages served on other
// 127.0.0.1 ports than the API: the one whose origin is allowed reads the answer (after a
// preflight for Authorization and Content-Type), the other is blocked by the browser.
func TestCORSFromAnotherOrigin(t *testing.T) {
	browsertest.Chromium(t)
	db := storetest.Open(t, storetest.Backends()[0])
	serve := func(body func() string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(body()))
		}))
		t.Cleanup(s.Close)
		return s
	}
	var page string
	allowed := serve(func() string { return page })
	other := serve(func() string { return page })
	origins, err := graph.ParseCORSOrigins(" " + allowed.URL + "/ , http://localhost:5173")
	if err != nil {
		t.Fatal(err)
	}
	a := newAPI(t, db, func(c *graph.ServerConfig) { c.CORSOrigins = origins })
	page = fmt.Sprintf(corsPage, a.srv.URL+"/graphql", a.token(auth.RoleAdmin, "ops"))
	for _, tc := range []struct {
		name, url, want string
	}{
		{"allowed origin", allowed.URL, `<pre id="out">ok jd request-id readable</pre>`},
		{"other origin", other.URL, `<pre id="out">blocked TypeError</pre>`},
	} {
		if dom := browsertest.DumpDOM(t, tc.url); !strings.Contains(dom, tc.want) {
			t.Errorf("%s: want %s; DOM:\n%.1500s", tc.name, tc.want, dom)
		}
	}
}

// TestCORSHeaders: what the browser test relies on, header by header, and that a server
// without an allow-list sends no CORS headers at all.
func TestCORSHeaders(t *testing.T) {
	db := storetest.Open(t, storetest.Backends()[0])
	a := newAPI(t, db, func(c *graph.ServerConfig) { c.CORSOrigins = []string{"http://localhost:5173"} })
	plain := newAPI(t, storetest.Open(t, storetest.Backends()[0]))
	preflight := func(base, origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, base+"/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	r := preflight(a.srv.URL, "http://localhost:5173")
	h := r.Header
	if r.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || h.Get("Access-Control-Allow-Credentials") != "" ||
		!strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
		t.Errorf("allowed preflight: %d %v", r.StatusCode, h)
	}
	for _, o := range []string{"http://localhost:5174", "https://localhost:5173", "null"} {
		if r := preflight(a.srv.URL, o); r.Header.Get("Access-Control-Allow-Origin") != "" || !strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Origin") {
			t.Errorf("preflight from %s: %v", o, r.Header)
		}
	}
	if r := preflight(plain.srv.URL, "http://localhost:5173"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("no allow-list, yet: %v", r.Header)
	}
	// An allowed origin's real request still needs its token.
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/graphql", strings.NewReader(`{"query":"{ program { key } }"}`))
	req.Header.Set("Origin", "http://localhost:5173")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
		t.Errorf("tokenless request from an allowed origin: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestParseCORSOrigins(t *testing.T) {
	got, err := graph.ParseCORSOrigins("HTTP://LocalHost:5173, https://admin.example.com/,,")
	if err != nil || strings.Join(got, " ") != "http://localhost:5173 https://admin.example.com" {
		t.Errorf("parsed %v, %v", got, err)
	}
	if got, err := graph.ParseCORSOrigins(""); err != nil || len(got) != 0 {
		t.Errorf("empty list: %v %v", got, err)
	}
	for _, bad := range []string{"*", "https://*.example.com", "localhost:5173", "http://localhost:5173/app", "ftp://x", "http://u:p@x", "http://x?y"} {
		if _, err := graph.ParseCORSOrigins(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

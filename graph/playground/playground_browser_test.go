package playground_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/membergraph/membergraph/graph/playground"
	"github.com/membergraph/membergraph/internal/browsertest"
)

type apiRequest struct {
	method, authorization, contentType, body string
}

// apiRecorder stands in for /graphql: this test's subject is the page, not the server.
type apiRecorder struct {
	mu   sync.Mutex
	seen []apiRequest
}

func (a *apiRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.seen = append(a.seen, apiRequest{r.Method, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(body)})
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = io.WriteString(w, `{"errors":[{"message":"unauthenticated"}]}`)
}

func (a *apiRecorder) requests() []apiRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]apiRequest(nil), a.seen...)
}

// probeJS writes CSP violations, script errors and failed loads into the DOM, where the
// dump shows them; the page's own CSP admits it as a same-origin script.
const probeJS = `(function () {
  function report(cls, text) {
    var p = document.createElement("pre");
    p.className = cls;
    p.textContent = text;
    (document.body || document.documentElement).appendChild(p);
  }
  document.addEventListener("securitypolicyviolation", function (e) {
    report("probe-csp-violation", e.violatedDirective + " blocked " + e.blockedURI + " in " + e.sourceFile + ":" + e.lineNumber);
  });
  window.addEventListener("error", function (e) {
    if (e.target !== window) {
      report("probe-load-error", "failed to load " + (e.target.src || e.target.href || e.target.tagName));
    } else {
      report("probe-js-error", e.message + " in " + e.filename + ":" + e.lineno);
    }
  }, true);
})();
`

// withProbe puts the probe first in the page's head, before anything it should watch.
func withProbe(pg http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			pg.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		pg.ServeHTTP(rec, r)
		body := bytes.Replace(rec.Body.Bytes(), []byte("<head>"), []byte(`<head><script src="/probe.js"></script>`), 1)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

// TestPlaygroundWorksOffline loads the page in headless Chromium on a machine with no route
// outside: GraphiQL must render from the embedded assets under the page's CSP and send the
// default headers to the endpoint when it loads the schema.
func TestPlaygroundWorksOffline(t *testing.T) {
	browsertest.Chromium(t)
	const authorization = "Bearer browser-test-token"
	api := &apiRecorder{}
	mux := http.NewServeMux()
	mux.Handle("/graphql", api)
	mux.HandleFunc("GET /probe.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = io.WriteString(w, probeJS)
	})
	mux.Handle("/", withProbe(playground.Handler(playground.Options{
		Endpoint: "/graphql",
		DefaultHeaders: func(*http.Request) string {
			return `{"Authorization": "` + authorization + `"}`
		},
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	dom := browsertest.DumpDOM(t, srv.URL+"/")

	if !strings.Contains(dom, "graphiql-container") {
		t.Fatalf("GraphiQL did not render; DOM:\n%.3000s", dom)
	}
	for _, m := range regexp.MustCompile(`<pre class="probe-[^"]+">[^<]*</pre>`).FindAllString(dom, -1) {
		t.Errorf("in the page: %s", m)
	}
	if !strings.Contains(dom, `src="/probe.js"`) {
		t.Error("the probe is not in the page")
	}
	// The editors show the default query and, visible, the default headers.
	for _, want := range []string{"minScore", "browser-test-token"} {
		if !strings.Contains(dom, want) {
			t.Errorf("DOM lacks %q", want)
		}
	}

	reqs := api.requests()
	var introspected bool
	for _, r := range reqs {
		if r.method != http.MethodPost {
			t.Errorf("%s /graphql: GraphiQL should only POST", r.method)
			continue
		}
		if r.authorization == authorization && strings.HasPrefix(r.contentType, "application/json") && strings.Contains(r.body, "IntrospectionQuery") {
			introspected = true
		}
	}
	if !introspected {
		t.Errorf("no POST /graphql loaded the schema with Authorization %q; saw %+v", authorization, reqs)
	}
}

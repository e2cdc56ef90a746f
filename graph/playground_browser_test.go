package graph_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/browsertest"
	"github.com/membergraph/membergraph/internal/storetest"
)

// TestPlaygroundWorksOffline opens the playground of the real server in headless Chromium on
// a machine with no route to the internet. GraphiQL must render from the embedded assets
// and, with the pre-filled development token, load the schema from /graphql — which the
// server's metrics record as a successful introspection query.
func TestPlaygroundWorksOffline(t *testing.T) {
	browsertest.Chromium(t)
	db := storetest.Open(t, storetest.Backends()[0])
	a := newAPI(t, db, func(c *graph.ServerConfig) {
		tok, err := c.Signer.Issue(auth.TokenRequest{Role: auth.RoleAdmin, Subject: "dev", TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		c.DevToken = tok
	})
	dom := browsertest.DumpDOM(t, a.srv.URL+"/", 15*time.Second)
	if !strings.Contains(dom, "graphiql-container") {
		t.Fatalf("GraphiQL did not render; DOM:\n%.2000s", dom)
	}
	resp, err := http.Get(a.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(m), `membergraph_graphql_operations_total{operation="IntrospectionQuery",outcome="ok",type="query"}`) {
		t.Errorf("the page did not load the schema with its token; metrics:\n%s", grep(string(m), "membergraph_graphql_operations_total"))
	}
}

func grep(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

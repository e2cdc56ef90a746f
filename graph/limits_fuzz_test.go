package graph_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/storetest"
)

// naiveSize counts selections with every spread expanded, the slow way (no memo), giving up
// once it has counted more than budget in all; cycle reports a fragment reached from itself.
type naiveSize struct {
	fragments map[string]*ast.FragmentDefinition
	budget    int
	counted   int
	cycle     bool
}

// size is what set selects, counted from 0 (at most just over budget).
func (n *naiveSize) size(set ast.SelectionSet, path map[string]bool) int {
	n.counted = 0
	n.set(set, path)
	return n.counted
}

func (n *naiveSize) set(set ast.SelectionSet, path map[string]bool) {
	for _, s := range set {
		if n.counted > n.budget || n.cycle {
			return
		}
		n.counted++
		switch s := s.(type) {
		case *ast.Field:
			n.set(s.SelectionSet, path)
		case *ast.InlineFragment:
			n.set(s.SelectionSet, path)
		case *ast.FragmentSpread:
			f := n.fragments[s.Name]
			if f == nil {
				continue
			}
			if path[s.Name] {
				n.cycle = true
				return
			}
			path[s.Name] = true
			n.set(f.SelectionSet, path)
			delete(path, s.Name)
		}
	}
}

// FuzzGraphQLLimits posts random documents to a real server with a selection limit of 40.
// Whatever the document, the answer is JSON, never INTERNAL nor a 5xx, and comes quickly;
// a document whose operations alone select more than 40 (counted naively here) is refused,
// and one that selects at most 40 with every fragment counted once more as defined is not
// refused for its size.
func FuzzGraphQLLimits(f *testing.F) {
	const limit = 40
	db := storetest.Open(f, storetest.Backends()[0])
	a := newAPI(f, db, func(c *graph.ServerConfig) { c.SelectionLimit = limit })
	admin := a.token(auth.RoleAdmin, "")
	for _, q := range []string{
		fanOut(26), fanOut(3), fanOut(4), introspection.Query,
		`{ program { key name tiers { key } } }`,
		`{ program { ...P ...P } } fragment P on Program { key name }`,
		`{ members { edges { node { ...A } } } } fragment A on Member { id ...B } fragment B on Member { ...A }`,
		`{ member(externalId: "a") { ` + strings.Repeat("... on Member { ", 50) + "id" + strings.Repeat(" }", 50) + " } }",
		`query A { program { key } } query B { program { name } }`,
		`mutation { a: registerMember(input: {externalId: "x", registrationChannel: APP}) { member { id } } }`,
		`{ program { key } } fragment U on Program { ...U }`,
		`{ __typename }`, `{`, ``, `fragment F on Member { id }`,
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		a := *a // the fuzz input's own t reports its failures
		a.t = t
		body, _ := json.Marshal(map[string]any{"query": q})
		start := time.Now()
		done := make(chan result, 1)
		go func() { done <- a.do(admin, q, nil) }()
		var r result
		select {
		case r = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("no answer in 10 s: %s", body)
		}
		took := time.Since(start)
		if r.Status >= 500 || r.code() == graph.CodeInternal {
			t.Fatalf("%d %+v for %s", r.Status, r.Errors, body)
		}
		if took > 2*time.Second {
			t.Fatalf("answered in %v: %s", took, body)
		}
		doc, err := parser.ParseQuery(&ast.Source{Input: q})
		if err != nil {
			return
		}
		n := naiveSize{fragments: map[string]*ast.FragmentDefinition{}, budget: limit}
		for _, fr := range doc.Fragments {
			if n.fragments[fr.Name] == nil {
				n.fragments[fr.Name] = fr
			}
		}
		ops := 0
		for _, op := range doc.Operations {
			ops += n.size(op.SelectionSet, map[string]bool{})
		}
		all := ops
		for _, fr := range doc.Fragments {
			all += n.size(fr.SelectionSet, map[string]bool{fr.Name: true})
		}
		refusedForSize := r.code() == graph.CodeSelectionLimit
		switch {
		case n.cycle:
			if r.code() != "GRAPHQL_VALIDATION_FAILED" && !refusedForSize {
				t.Fatalf("fragment cycle answered %d %+v: %s", r.Status, r.Errors, body)
			}
		case ops > limit && !refusedForSize:
			t.Fatalf("operations select %d+ > %d, answered %d %+v: %s", ops, limit, r.Status, r.Errors, body)
		case all <= limit && refusedForSize:
			t.Fatalf("selects %d ≤ %d with every fragment counted twice, refused: %s", all, limit, body)
		}
		if refusedForSize && r.Status != http.StatusOK && r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("refused with HTTP %d", r.Status)
		}
	})
}

package graph_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/introspection"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// fanOut is the document of issue 13 item 1: each fragment spreads the one before twice, so
// `levels` of them select 2^levels copies of F0's two fields in about 40 bytes a level.
func fanOut(levels int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{ member(externalId: \"alice\") { ...F%d } }\nfragment F0 on Member { id externalId }\n", levels)
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "fragment F%d on Member { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	return b.String()
}

// bestOf is the shortest of n runs of f.
func bestOf(n int, f func()) time.Duration {
	best := time.Duration(1<<63 - 1)
	for range n {
		start := time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return best
}

// TestFragmentFanOutRefusedFast: 26 levels of doubling fragments (1 KB) used to cost 13 s
// of CPU in the complexity walk; they are refused before validation, in microseconds.
func TestFragmentFanOutRefusedFast(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		admin := a.token(auth.RoleAdmin, "")
		q := fanOut(26)
		if len(q) > 1200 {
			t.Fatalf("the document is %d bytes, want about 1 KB", len(q))
		}
		var r result
		took := bestOf(5, func() { r = a.do(admin, q, nil) })
		if r.code() != graph.CodeSelectionLimit || r.Data["member"] != nil {
			t.Fatalf("26 levels: %d %+v, want %s", r.Status, r.Errors, graph.CodeSelectionLimit)
		}
		t.Logf("26 levels refused in %v (best of 5)", took)
		if took > 10*time.Millisecond {
			t.Errorf("26 levels refused in %v (best of 5), want ≤ 10 ms", took)
		}
		// Fk holds two spreads and twice F(k−1): size(Fk) = 2 + 2·size(Fk−1) with size(F0) =
		// 2, so size(Fk) = 2^(k+2) − 2. With member and its spread, 11 levels select
		// 2 + 8190 = 8192 > 5000 and 10 levels 2 + 4094 = 4096, within the default and answered.
		if r := a.do(admin, fanOut(11), nil); r.code() != graph.CodeSelectionLimit {
			t.Errorf("11 levels: %+v, want %s", r.Errors, graph.CodeSelectionLimit)
		}
		a.register("alice", nil)
		if r := a.do(admin, fanOut(10), nil); len(r.Errors) > 0 || !strings.Contains(string(r.Data["member"]), `"alice"`) {
			t.Errorf("10 levels refused: %+v", r.Errors)
		}
	})
}

// TestFragmentFanOutDoesNotStall: 16 fan-out documents at once leave a normal query
// answered promptly (before, 16 of them held both cores for over a minute).
func TestFragmentFanOutDoesNotStall(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		admin := a.token(auth.RoleAdmin, "")
		q := fanOut(26)
		var codes sync.Map
		took := bestOf(3, func() {
			var wg sync.WaitGroup
			for i := range 16 {
				wg.Go(func() { codes.Store(i, a.do(admin, q, nil).code()) })
			}
			var v struct{ Member struct{ ExternalID string } }
			a.must(admin, `{ member(externalId: "alice") { externalId } }`, nil, &v)
			if v.Member.ExternalID != "alice" {
				t.Errorf("normal query under load: %+v", v)
			}
			wg.Wait()
		})
		codes.Range(func(k, v any) bool {
			if v != graph.CodeSelectionLimit {
				t.Errorf("fan-out request %v: %q, want %s", k, v, graph.CodeSelectionLimit)
			}
			return true
		})
		t.Logf("16 fan-out requests and a normal query in %v (best of 3)", took)
		if took > time.Second {
			t.Errorf("16 fan-out requests and a normal query took %v (best of 3), want well under 1 s", took)
		}
	})
}

// TestSelectionLimitCounts: the count by hand, at a limit of 7. `{ program { ...P ...P } }`
// with P = `{ key name }` is program (1) + two spreads (2) + P's two fields twice (4) = 7.
func TestSelectionLimitCounts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		admin := ""
		at := func(limit int) *api {
			a := newAPI(t, db, func(c *graph.ServerConfig) { c.SelectionLimit = limit })
			admin = a.token(auth.RoleAdmin, "")
			return a
		}
		twice := `{ program { ...P ...P } } fragment P on Program { key name }`
		if r := at(7).do(admin, twice, nil); len(r.Errors) > 0 {
			t.Errorf("7 selections at a limit of 7: %+v", r.Errors)
		}
		if r := at(6).do(admin, twice, nil); r.code() != graph.CodeSelectionLimit {
			t.Errorf("7 selections at a limit of 6: %+v", r.Errors)
		}
		// A fragment no operation spreads is counted as it stands (validation walks it too):
		// 2 + 2 = 4 > 3, refused for its size before validation refuses it as unused.
		if r := at(3).do(admin, `{ program { key } } fragment P on Program { key name }`, nil); r.code() != graph.CodeSelectionLimit {
			t.Errorf("unused fragment over the limit: %+v", r.Errors)
		}
		// Every operation of the document counts, not only the one run: 2 + 2 > 3.
		if r := at(3).do(admin, `query A { program { key } } query B { program { key } }`, nil); r.code() != graph.CodeSelectionLimit {
			t.Errorf("two operations over the limit: %+v", r.Errors)
		}
		// GraphiQL's schema query passes the default limit.
		if r := at(0).do(admin, introspection.Query, nil); len(r.Errors) > 0 {
			t.Errorf("introspection query refused: %+v", r.Errors)
		}
	})
}

// TestFragmentCyclesAndNesting: a fragment cycle is refused without being walked, however
// many fragments fan out into it, and inline fragments nested to the parser's limit are
// answered quickly (they add selections, not depth).
func TestFragmentCyclesAndNesting(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		admin := a.token(auth.RoleAdmin, "")
		for name, q := range map[string]string{
			"self":  `{ members { edges { node { ...A } } } } fragment A on Member { id ...A }`,
			"pair":  `{ members { edges { node { ...A } } } } fragment A on Member { id ...B } fragment B on Member { ...A }`,
			"fan":   strings.Replace(fanOut(26), "fragment F0 on Member { id externalId }", "fragment F0 on Member { id ...F26 }", 1),
			"alone": `{ program { key } } fragment A on Member { id ...B } fragment B on Member { ...A }`,
		} {
			var r result
			took := bestOf(3, func() { r = a.do(admin, q, nil) })
			if r.code() != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(r.Errors[0].Message, "within itself") {
				t.Errorf("%s cycle: %+v", name, r.Errors)
			}
			if took > 10*time.Millisecond {
				t.Errorf("%s cycle refused in %v", name, took)
			}
		}
		const n = 990 // gqlparser refuses nesting beyond 1000
		nested := `{ member(externalId: "alice") { ` + strings.Repeat("... on Member { ", n) + "externalId" + strings.Repeat(" }", n) + " } }"
		var r result
		took := bestOf(3, func() { r = a.do(admin, nested, nil) })
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data["member"]), `"alice"`) {
			t.Errorf("%d nested inline fragments: %+v %s", n, r.Errors, r.Data["member"])
		}
		if took > 200*time.Millisecond {
			t.Errorf("%d nested inline fragments answered in %v", n, took)
		}
		deeper := `{ member(externalId: "alice") { ` + strings.Repeat("... on Member { ", 1200) + "externalId" + strings.Repeat(" }", 1200) + " } }"
		if r := a.do(admin, deeper, nil); r.code() != "GRAPHQL_PARSE_FAILED" {
			t.Errorf("1200 nested inline fragments: %+v", r.Errors)
		}
		// Depth through fragments is measured once per fragment and still counts in full.
		deep := `{ members { edges { node { ...T } } } } fragment T on Member { tier { ...B } } fragment B on Tier { benefits { key } }`
		b := newAPI(t, db, func(c *graph.ServerConfig) { c.DepthLimit = 4 })
		if r := b.do(b.token(auth.RoleAdmin, ""), deep, nil); r.code() != graph.CodeDepthLimit {
			t.Errorf("5 levels through fragments at a depth limit of 4: %+v", r.Errors)
		}
	})
}

// TestMutationLimit: a request runs at most 10 mutation fields (aliases count, so do those
// inside fragments); the 11th refuses the whole request and nothing is written.
func TestMutationLimit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		admin := a.token(auth.RoleAdmin, "")
		mutations := func(n int, prefix string) string {
			var b strings.Builder
			b.WriteString("mutation { ")
			for i := range n {
				fmt.Fprintf(&b, `m%d: registerMember(input: {externalId: "%s%d", registrationChannel: APP}) { member { externalId } } `, i, prefix, i)
			}
			return b.String() + "}"
		}
		count := func() int {
			var out struct{ Members struct{ TotalCount int } }
			a.must(admin, `{ members { totalCount } }`, nil, &out)
			return out.Members.TotalCount
		}
		r := a.do(admin, mutations(11, "over"), nil)
		if r.code() != graph.CodeMutationLimit || r.Status != http.StatusUnprocessableEntity && r.Status != http.StatusOK {
			t.Errorf("11 mutations: %d %+v, want %s", r.Status, r.Errors, graph.CodeMutationLimit)
		}
		if n := count(); n != 0 {
			t.Errorf("11 mutations refused but %d members written", n)
		}
		inFragment := `mutation { ...M } fragment M on Mutation { ` + strings.TrimSuffix(strings.TrimPrefix(mutations(11, "frag"), "mutation { "), "}") + `}`
		if r := a.do(admin, inFragment, nil); r.code() != graph.CodeMutationLimit {
			t.Errorf("11 mutations in a fragment: %+v", r.Errors)
		}
		if r := a.do(admin, mutations(10, "ok"), nil); len(r.Errors) > 0 {
			t.Errorf("10 mutations: %+v", r.Errors)
		}
		if n := count(); n != 10 {
			t.Errorf("10 mutations wrote %d members", n)
		}
	})
}

// TestNoSuggestionsInProduction: a mistyped argument, enum value, input field, type or a
// field missing its selection gets no "Did you mean" in production; in development the
// first three still do (fields never do).
func TestNoSuggestionsInProduction(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		mistakes := map[string]struct {
			q          string
			devSuggest bool
		}{
			"argument":     {`{ member(externalIdd: "alice") { id } }`, true},
			"enum value":   {`{ members(orderBy: {field: EXTERNAL_IDD}) { totalCount } }`, true},
			"input field":  {`{ members(where: {externalIdd: "alice"}) { totalCount } }`, true},
			"type":         {`query($c: Cursorr) { members(after: $c) { totalCount } }`, false},
			"no selection": {`{ program }`, true},
			"field":        {`{ progra { key } }`, false},
		}
		for _, production := range []bool{false, true} {
			a := newAPI(t, db, func(c *graph.ServerConfig) { c.Production = production })
			admin := a.token(auth.RoleAdmin, "")
			for what, m := range mistakes {
				q := m.q
				r := a.do(admin, q, nil)
				if r.code() != "GRAPHQL_VALIDATION_FAILED" {
					t.Errorf("production %v, mistyped %s: %+v", production, what, r.Errors)
					continue
				}
				suggests := false
				for _, e := range r.Errors {
					suggests = suggests || strings.Contains(e.Message, "Did you mean")
				}
				if suggests != (m.devSuggest && !production) {
					t.Errorf("production %v, mistyped %s: suggests %v: %+v", production, what, suggests, r.Errors)
				}
			}
		}
	})
}

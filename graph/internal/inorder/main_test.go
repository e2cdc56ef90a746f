package main

import (
	"os"
	"strings"
	"testing"
)

// TestGeneratedIsInOrder: graph/generated.go is as go generate leaves it — rewritten — so a
// regeneration that skipped this step (gqlgen alone) fails here, and the profile's medals are
// among the lists marshalled in order while a list whose elements reach resolvers is not.
func TestGeneratedIsInOrder(t *testing.T) {
	src, err := os.ReadFile("../../generated.go")
	if err != nil {
		t.Fatal(err)
	}
	out, n, f := rewrite(src)
	if string(out) != string(src) {
		t.Fatal("graph/generated.go is not rewritten: run go generate ./... (not gqlgen alone)")
	}
	if n == 0 || f == 0 {
		t.Fatalf("%d lists marshalled in order, %d plain fields", n, f)
	}
	fn := func(prefix string) string {
		i := strings.Index(string(src), "\nfunc (ec *executionContext) "+prefix)
		if i < 0 {
			t.Fatalf("%s not generated", prefix)
		}
		body := string(src[i+1:])
		return body[:strings.Index(body, "\n}\n")]
	}
	if b := fn("marshalNMedalStatus2ᚕ"); !strings.Contains(b, inOrder) {
		t.Errorf("Member.medals' list still starts a goroutine per medal:\n%s", b)
	}
	if b := fn("_MedalProgress_current("); !strings.Contains(b, plain) {
		t.Errorf("MedalProgress.current still takes the field middleware chain:\n%s", b)
	}
	// A resolver, or a field with arguments, keeps gqlgen's path.
	if b := fn("_Member_medals("); !strings.Contains(b, resolve) {
		t.Errorf("Member.medals, a resolver, lost the field middleware chain:\n%s", b)
	}
	// A connection's members have resolver fields (score, points...): their reads overlap.
	if b := fn("marshalOMemberEdge2ᚕ"); !strings.Contains(b, concurrent) {
		t.Errorf("a list of members lost its goroutines:\n%s", b)
	}
}

package main

import (
	"testing"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk/sdktest"
)

// TestConformance runs the SDK's kit on the built plugin; its grants award points through
// the kit's host, once per grant.
func TestConformance(t *testing.T) {
	host := sdktest.NewHost()
	sdktest.Run(t, sdktest.Target{Key: "pointsexchange", Path: sdktest.BuildGo(t, "pointsexchange", "."), Benefit: "AIRLINE_MILES",
		Member: &partnerv1.Member{ExternalId: "alice"}, Params: map[string]string{"amount": "1000"}, Host: host})
	// Each member's grant of 1,000 miles at 80 points per 100 miles: 800 points, however
	// often it was retried.
	for _, m := range []string{"alice", "alice-2"} {
		if got := host.Awarded(m); got != 800 {
			t.Fatalf("%s was awarded %d points, want 800", m, got)
		}
	}
}

// TestConformancePlus runs the kit on the PLUS benefit: each member's term is asked of the
// platform under the grant's key, so however often a grant is retried (also after a restart)
// the member has one term.
func TestConformancePlus(t *testing.T) {
	host := sdktest.NewHost()
	bin := sdktest.BuildGo(t, "pointsexchange", ".")
	sdktest.Run(t, sdktest.Target{Key: "pointsexchange", Path: bin, Benefit: "PLUS",
		Member: &partnerv1.Member{ExternalId: "alice"}, Params: map[string]string{"pay": "AIRLINE_MILES"}, Host: host})
	for _, m := range []string{"alice", "alice-2", "alice-3"} {
		if ts := host.PlusTerms(m); len(ts) != 1 || ts[0].Plan != "ANNUAL" {
			t.Errorf("%s has the terms %v, want one ANNUAL", m, ts)
		}
	}
}

package main

import (
	"testing"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk/sdktest"
)

// TestConformance runs the SDK's kit on the built plugin.
func TestConformance(t *testing.T) {
	sdktest.Run(t, sdktest.Target{Key: "videovip", Path: sdktest.BuildGo(t, "videovip", "."), Benefit: "VIP_YEAR",
		Member: &partnerv1.Member{ExternalId: "alice", TierKey: "GOLD"}, Ineligible: &partnerv1.Member{ExternalId: "bob", TierKey: "SILVER"}})
}

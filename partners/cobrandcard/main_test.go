package main

import (
	"testing"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk/sdktest"
)

// TestConformance runs the SDK's kit on the built plugin.
func TestConformance(t *testing.T) {
	sdktest.Run(t, sdktest.Target{Key: "cobrandcard", Path: sdktest.BuildGo(t, "cobrandcard", "."), Benefit: "CARD_LINK",
		Member: &partnerv1.Member{ExternalId: "alice"}, Params: map[string]string{"token": "tok_abcdef123", "last4": "4242"}})
}

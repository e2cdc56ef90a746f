package sdktest_test

import (
	"testing"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk/sdktest"
)

// TestKitOnTheTestPartner runs the kit on the host's well-behaved test partner.
func TestKitOnTheTestPartner(t *testing.T) {
	sdktest.Run(t, sdktest.Target{Key: "good", Path: sdktest.BuildGo(t, "good", "../../host/testdata/testpartner"),
		Benefit: "FAST", Member: &partnerv1.Member{ExternalId: "alice"}, Ineligible: &partnerv1.Member{ExternalId: "ineligible-bob"}})
}

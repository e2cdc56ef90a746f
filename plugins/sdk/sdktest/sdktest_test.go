package sdktest_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk/sdktest"
)

// TestKitOnTheTestPartner runs the kit on the host's well-behaved test partner.
func TestKitOnTheTestPartner(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "good")
	if out, err := exec.Command("go", "build", "-o", bin, "../../host/testdata/testpartner").CombinedOutput(); err != nil {
		t.Fatal(string(out))
	}
	sdktest.Run(t, sdktest.Target{Key: "good", Path: bin, Benefit: "FAST", Member: &partnerv1.Member{ExternalId: "alice"}})
}

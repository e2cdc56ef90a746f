// Package cafeperks_test checks the Node.js partner through the same protocol and kit as the
// Go partners. It needs node and npm (and the npm registry for the first build); without
// them it says so and skips.
package cafeperks_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk/sdktest"
)

func TestConformance(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipped: the Node.js partner needs %s, which is not installed", tool)
		}
	}
	bin := filepath.Join(t.TempDir(), "cafeperks")
	if out, err := exec.Command("./build.sh", bin).CombinedOutput(); err != nil {
		t.Fatalf("building the Node.js partner: %v\n%s", err, out)
	}
	sdktest.Run(t, sdktest.Target{Key: "cafeperks", Path: bin, Benefit: "FREE_DRINK", Member: &partnerv1.Member{ExternalId: "alice"}})
}

package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk/sdktest"
)

// TestConformance runs the SDK's kit on the built plugin.
func TestConformance(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "videovip")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatal(string(out))
	}
	sdktest.Run(t, sdktest.Target{Key: "videovip", Path: bin, Benefit: "VIP_YEAR",
		Member: &partnerv1.Member{ExternalId: "alice", TierKey: "GOLD"}})
}

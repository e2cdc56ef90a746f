package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/membergraph/membergraph/plugins/host"
	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk/sdktest"
)

// TestConformance runs the SDK's kit on the built plugin.
func TestConformance(t *testing.T) {
	sdktest.Run(t, sdktest.Target{Key: "videovip", Path: sdktest.BuildGo(t, "videovip", "."), Benefit: "VIP_YEAR",
		Member: &partnerv1.Member{ExternalId: "alice", TierKey: "GOLD"}, Ineligible: &partnerv1.Member{ExternalId: "bob", TierKey: "SILVER"}})
}

// TestNotifyOnce starts the built plugin under the real host: it says it offers Notify, a
// notification is one line of notifications.jsonl in its state directory, and the same
// idempotency key again — also after a restart of the plugin — is replayed, not sent.
func TestNotifyOnce(t *testing.T) {
	dir := t.TempDir()
	bin := sdktest.BuildGo(t, "videovip", ".")
	raw, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "videovip"), raw, 0o755); err != nil {
		t.Fatal(err)
	}
	cat := host.Catalogue{}
	if err := cat.Trust(dir, "videovip"); err != nil {
		t.Fatal(err)
	}
	if err := cat.Save(dir); err != nil {
		t.Fatal(err)
	}
	req := &partnerv1.NotifyRequest{IdempotencyKey: "campaign:spring:2026-12-04:7", Member: &partnerv1.Member{ExternalId: "alice"},
		Template: "VIP_TRIAL", CampaignKey: "spring"}
	var first string
	for round := range 2 { // the second round is a new process over the same state directory
		m, err := host.Start(context.Background(), host.Config{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := m.OffersNotify("videovip"); err != nil || !ok {
			m.Close()
			t.Fatalf("round %d: OffersNotify = %v, %v; want true", round, ok, err)
		}
		for i := range 2 {
			res, err := m.Notify(context.Background(), "videovip", req)
			if err != nil {
				m.Close()
				t.Fatal(err)
			}
			if round == 0 && i == 0 {
				if res.Replayed || res.NotificationId == "" {
					t.Errorf("first notify = %v; want a new id", res)
				}
				first = res.NotificationId
			} else if !res.Replayed || res.NotificationId != first {
				t.Errorf("round %d call %d = %v; want replayed %s", round, i, res, first)
			}
		}
		m.Close()
	}
	lines, err := os.ReadFile(filepath.Join(dir, "state", "videovip", "notifications.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(lines), "\n"); n != 1 {
		t.Errorf("notifications.jsonl has %d lines; want 1:\n%s", n, lines)
	}
}

package campaign

import (
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent"
	entcampaign "github.com/membergraph/membergraph/ent/campaign"
	"github.com/membergraph/membergraph/ent/campaignresult"
)

// TestDue: each schedule's run key and whether it is due, in Shanghai (UTC+8).
func TestDue(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	once := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	// 2026-12-03 is a Thursday (ISO weekday 4); 00:30 UTC is 08:30 in Shanghai.
	at := func(h, m int) time.Time { return time.Date(2026, 12, 3, h, m, 0, 0, time.UTC) }
	nine := 9 * 60
	cases := []struct {
		name string
		c    ent.Campaign
		now  time.Time
		key  string
		due  bool
	}{
		{"once before", ent.Campaign{TriggerKind: entcampaign.TriggerKindONCE, OnceAt: &once}, once.Add(-time.Second), "ONCE", false},
		{"once at", ent.Campaign{TriggerKind: entcampaign.TriggerKindONCE, OnceAt: &once}, once, "ONCE", true},
		{"daily 08:30 local, before 09:00", ent.Campaign{TriggerKind: entcampaign.TriggerKindDAILY, MinuteOfDay: nine}, at(0, 30), "2026-12-03", false},
		{"daily 09:00 local", ent.Campaign{TriggerKind: entcampaign.TriggerKindDAILY, MinuteOfDay: nine}, at(1, 0), "2026-12-03", true},
		// 17:00 UTC on the 3rd is 01:00 on the 4th in Shanghai: the 4th's run, not yet due.
		{"daily past local midnight", ent.Campaign{TriggerKind: entcampaign.TriggerKindDAILY, MinuteOfDay: nine}, at(17, 0), "2026-12-04", false},
		{"weekly Thursday", ent.Campaign{TriggerKind: entcampaign.TriggerKindWEEKLY, MinuteOfDay: nine, Weekday: 4}, at(1, 0), "2026-12-03", true},
		{"weekly Friday on a Thursday", ent.Campaign{TriggerKind: entcampaign.TriggerKindWEEKLY, MinuteOfDay: nine, Weekday: 5}, at(1, 0), "2026-12-03", false},
		{"monthly 3rd", ent.Campaign{TriggerKind: entcampaign.TriggerKindMONTHLY, MinuteOfDay: nine, MonthDay: 3}, at(1, 0), "2026-12-03", true},
		{"monthly 4th on the 3rd", ent.Campaign{TriggerKind: entcampaign.TriggerKindMONTHLY, MinuteOfDay: nine, MonthDay: 4}, at(1, 0), "2026-12-03", false},
		{"event never scheduled", ent.Campaign{TriggerKind: entcampaign.TriggerKindEVENT}, at(1, 0), "", false},
	}
	for _, c := range cases {
		key, due := Due(&c.c, c.now, sh)
		if due != c.due || (c.key != "" && key != c.key) {
			t.Errorf("%s: Due = %q, %v; want %q, %v", c.name, key, due, c.key, c.due)
		}
	}
}

// TestDecide: cap, consent and budgets, in member order. 30 points each; member 2 was hit
// twice with a cap of 2, member 4 does not consent; the campaign has 100 left (3 hits) and
// the store 70 (2 hits): 1 hit (70 and 40 left), 2 capped, 3 hit (40 and 10 left), 4 no
// consent, 5 skipped by the store budget (10 < 30) — the campaign's 40 would still allow it.
func TestDecide(t *testing.T) {
	c := &ent.Campaign{Points: 30, CapHits: 2, CapDays: 7}
	st := State{Hits: map[int]int{2: 2, 3: 1}, Consenting: map[int]bool{1: true, 2: true, 3: true, 5: true},
		CampaignLeft: 100, StoreLeft: 70}
	got := Decide(c, []int{1, 2, 3, 4, 5}, st)
	want := []Outcome{
		{1, campaignresult.StatusDONE, "", 30},
		{2, campaignresult.StatusSKIPPED, ReasonFrequencyCap, 0},
		{3, campaignresult.StatusDONE, "", 30},
		{4, campaignresult.StatusSKIPPED, ReasonNoConsent, 0},
		{5, campaignresult.StatusSKIPPED, ReasonStoreBudget, 0},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("member %d: %+v, want %+v", i+1, got[i], want[i])
		}
	}
	if CostCents(150, 100) != 150 || CostCents(1, 100) != 1 || CostCents(199, 200) != 99 {
		t.Error("CostCents: 150 points at 100/¥ = 150 cents; 1 = 1; 199 at 200/¥ = 99.5, down to 99")
	}
}

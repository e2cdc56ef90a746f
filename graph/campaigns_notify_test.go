package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/outboxmessage"
	"github.com/membergraph/membergraph/ent/privacy"
	"github.com/membergraph/membergraph/internal/campaign"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/plugins/host"
	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
)

// TestCampaignNotify: a NOTIFY campaign sends through the real videovip plugin, once per
// member of its segment, and a second run the same day sends nothing; a partner without
// notifications (cobrandcard), an unknown one, and a missing template are refused at their
// fields and create nothing.
func TestCampaignNotify(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newCampaignFixture(t, db)
		dir := builtPlugins(t)
		m, err := host.Start(context.Background(), host.Config{Dir: dir, CallTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		f.svc.SetNotifier(m)
		f.members(3, 1) // app-1..app-3 in the segment "app", web-1 outside it
		notify := func(key, partner, template string) map[string]any {
			return map[string]any{"key": key, "name": "Notify " + key, "segment": "app",
				"trigger": map[string]any{"kind": "DAILY", "timeOfDay": "09:00"},
				"action":  map[string]any{"kind": "NOTIFY", "partner": partner, "template": template}}
		}
		for _, c := range []struct {
			name, partner, template, field, code string
		}{
			{"no Notify", "cobrandcard", "VIP_TRIAL", "input.action.partner", "FAILED_PRECONDITION"},
			{"unknown partner", "nobody", "VIP_TRIAL", "input.action.partner", "FAILED_PRECONDITION"},
			{"no partner", "", "VIP_TRIAL", "input.action.partner", "INVALID_ARGUMENT"},
			{"no template", "videovip", "", "input.action.template", "INVALID_ARGUMENT"},
		} {
			ue := f.create(notify("bad", c.partner, c.template))
			if len(ue) != 1 || fmt.Sprint(ue[0].Field) != fmt.Sprint(campaignFieldPath(c.field)) || ue[0].Code != c.code {
				t.Errorf("%s: %+v, want %s at %s", c.name, ue, c.code, c.field)
			}
		}
		var list struct{ Campaigns []struct{ Key string } }
		f.must(f.admin, `{ campaigns { key } }`, nil, &list)
		if len(list.Campaigns) != 0 {
			t.Fatalf("refused input created %+v", list.Campaigns)
		}

		f.mustCreate(notify("vip", "videovip", "VIP_TRIAL"))
		// 16:00 in Shanghai, past 09:00: today's run is due and hits the 3 app members,
		// crediting nothing.
		if st := f.runDue(); st.Runs != 1 || st.Done != 3 || st.Failed != 0 || st.Points != 0 {
			t.Fatalf("first run = %+v, want 1 run notifying 3 members", st)
		}
		if st := f.runDue(); st.Runs != 0 {
			t.Fatalf("second run the same day = %+v, want none", st)
		}
		run := f.campaign("vip").Runs.Edges[0].Node
		if run.Key != "2026-11-22" || run.FinishedAt == nil || run.Done != 3 || len(run.Results.Edges) != 3 {
			t.Fatalf("run = %+v", run)
		}
		for i, e := range run.Results.Edges {
			if want := (campaignResultView{Member: fmt.Sprintf("app-%d", i+1), Status: "DONE"}); e.Node != want {
				t.Errorf("result %d = %+v, want %+v", i, e.Node, want)
			}
		}
		// What the plugin sent: one line per member, app-1..app-3, each under its own key.
		raw, err := os.ReadFile(filepath.Join(dir, "state", "videovip", "notifications.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		sent := map[string]int{}
		keys := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			var n struct{ IdempotencyKey, ExternalID, Template, CampaignKey string }
			if err := json.Unmarshal([]byte(line), &n); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			if n.Template != "VIP_TRIAL" || n.CampaignKey != "vip" || !strings.HasPrefix(n.IdempotencyKey, "campaign:vip:2026-11-22:") {
				t.Errorf("notification %+v", n)
			}
			sent[n.ExternalID]++
			keys[n.IdempotencyKey] = true
		}
		if want := map[string]int{"app-1": 1, "app-2": 1, "app-3": 1}; fmt.Sprint(sent) != fmt.Sprint(want) || len(keys) != 3 {
			t.Fatalf("sent %v under %d keys, want %v under 3", sent, len(keys), want)
		}
		if b := f.balance("app-1"); b != 0 {
			t.Errorf("app-1 has %d points from a NOTIFY campaign", b)
		}
	})
}

// TestCampaignNotifyResume: a process without the plugins (membergraph campaigns run)
// records the members PENDING and leaves the run unfinished; the next run with them sends
// each once. One member's key was already sent before the resume — a crash after the call,
// before its record — and the partner replays it instead of sending again.
func TestCampaignNotifyResume(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newCampaignFixture(t, db)
		f.members(2, 0)
		// Created with the plugins, run without them.
		dir := builtPlugins(t)
		m, err := host.Start(context.Background(), host.Config{Dir: dir, CallTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		f.svc.SetNotifier(m)
		f.mustCreate(map[string]any{"key": "vip", "name": "VIP", "segment": "app",
			"trigger": map[string]any{"kind": "DAILY", "timeOfDay": "09:00"},
			"action":  map[string]any{"kind": "NOTIFY", "partner": "videovip", "template": "VIP_TRIAL"}})
		f.svc.SetNotifier(nil)
		if st, err := f.svc.RunDue(context.Background()); err != nil || st.Deferred != 1 || st.Runs != 0 {
			t.Fatalf("a NOTIFY run without plugins = %+v, %v; want it deferred, no error", st, err)
		}
		run := f.campaign("vip").Runs.Edges[0].Node
		if run.FinishedAt != nil || run.Done != 0 || len(run.Results.Edges) != 2 || run.Results.Edges[0].Node.Status != "PENDING" {
			t.Fatalf("run without plugins = %+v, want unfinished, both PENDING", run)
		}
		// app-1's notification went out before the crash that lost its record.
		id1, err := db.Client.Member.Query().Where(member.ExternalID("app-1")).OnlyID(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Notify(context.Background(), "videovip", &partnerv1.NotifyRequest{IdempotencyKey: campaign.NotifyKey("vip", run.Key, id1),
			Member: &partnerv1.Member{ExternalId: "app-1"}, Template: "VIP_TRIAL", CampaignKey: "vip"}); err != nil {
			t.Fatal(err)
		}
		f.svc.SetNotifier(m)
		if st := f.runDue(); st.Runs != 1 || st.Done != 2 || st.Failed != 0 {
			t.Fatalf("resumed run = %+v, want both DONE", st)
		}
		raw, err := os.ReadFile(filepath.Join(dir, "state", "videovip", "notifications.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(raw), "\n"); n != 2 || strings.Count(string(raw), `"externalId":"app-1"`) != 1 {
			t.Fatalf("sent %d notifications, want one each for app-1 and app-2:\n%s", n, raw)
		}
		// The webhooks heard each member once, when the partner had answered: DONE, not PENDING.
		msgs, err := db.Client.OutboxMessage.Query().Where(outboxmessage.EventType(outbox.CampaignResult)).
			All(privacy.DecisionContext(f.ctx, privacy.Allow))
		if err != nil || len(msgs) != 2 {
			t.Fatalf("%d campaign.result messages (%v), want 2", len(msgs), err)
		}
		for _, m := range msgs {
			if !strings.Contains(string(m.Payload), `"status":"DONE"`) {
				t.Errorf("campaign.result %s, want DONE", m.Payload)
			}
		}
	})
}

// TestCampaignNotifyWithoutPluginsDefersOnlyItself: in a process without the plugins
// (membergraph campaigns run), a due NOTIFY campaign is left to serve while the campaigns due
// after it still run; and the event triggers stop at the first order that a NOTIFY
// campaign would send for, running that order's other campaigns, so that serve reads on
// from there and sends. With the plugins back, everything is done once.
func TestCampaignNotifyWithoutPluginsDefersOnlyItself(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newCampaignFixture(t, db)
		f.members(2, 0)
		dir := builtPlugins(t)
		m, err := host.Start(context.Background(), host.Config{Dir: dir, CallTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		f.svc.SetNotifier(m)
		notify := map[string]any{"kind": "NOTIFY", "partner": "videovip", "template": "VIP_TRIAL"}
		grant := map[string]any{"kind": "GRANT_POINTS", "points": 10, "budget": "PLATFORM"}
		daily := map[string]any{"kind": "DAILY", "timeOfDay": "09:00"}
		orders := map[string]any{"kind": "EVENT", "event": "ORDER_COMPLETED"}
		f.mustCreate(map[string]any{"key": "a-vip", "name": "VIP", "segment": "app", "trigger": daily, "action": notify})
		f.mustCreate(map[string]any{"key": "b-grant", "name": "Grant", "segment": "app", "trigger": daily, "action": grant, "budgetPoints": 1000})
		f.mustCreate(map[string]any{"key": "c-order-note", "name": "Order note", "segment": "app", "trigger": orders, "action": notify})
		f.mustCreate(map[string]any{"key": "d-order-points", "name": "Order points", "segment": "app", "trigger": orders, "action": grant, "budgetPoints": 1000})
		f.svc.SetNotifier(nil)

		st, err := f.svc.RunDue(context.Background())
		if err != nil || st.Deferred != 1 || st.Runs != 1 || st.Done != 2 {
			t.Fatalf("without plugins: %+v, %v; want a-vip deferred and b-grant run for both members", st, err)
		}
		if b := f.balance("app-1"); b != 10 {
			t.Fatalf("app-1: %d points, want b-grant's 10", b)
		}
		f.record(at(orderEvent("o1", "app-1", "o1", "WEB", ln("rice", "FOOD", 10000)), f.now()),
			at(orderEvent("o2", "app-2", "o2", "WEB", ln("rice", "FOOD", 10000)), f.now()))
		if ts := f.drain(); ts.Deferred != 1 {
			t.Fatalf("drain without plugins = %+v, want it stopped at a NOTIFY row", ts)
		}
		if got := fmt.Sprint(f.hits("d-order-points", "ORDER_COMPLETED")); got != "[app-1]" {
			t.Fatalf("order points before the plugins: %s, want [app-1] (the row it stopped at)", got)
		}
		if got := f.hits("c-order-note", "ORDER_COMPLETED"); len(got) != 0 {
			t.Fatalf("order notes without plugins: %v", got)
		}

		f.svc.SetNotifier(m)
		if st := f.runDue(); st.Runs != 1 || st.Done != 2 || st.Deferred != 0 {
			t.Fatalf("with plugins: %+v, want a-vip run for both", st)
		}
		if ts := f.drain(); ts.Deferred != 0 {
			t.Fatalf("drain with plugins = %+v", ts)
		}
		for key, want := range map[string]string{"c-order-note": "[app-1 app-2]", "d-order-points": "[app-1 app-2]"} {
			if got := fmt.Sprint(f.hits(key, "ORDER_COMPLETED")); got != want {
				t.Errorf("%s hit %s, want %s", key, got, want)
			}
		}
		if b := f.balance("app-1"); b != 10+10+10 {
			// 10 from b-grant, 10 from d-order-points, 10 earned on the ¥100 web order (§3: 10 %)
			t.Errorf("app-1: %d points, want 30: %+v", b, f.points("app-1").Entries)
		}
	})
}

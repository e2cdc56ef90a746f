package graph_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/membergraph/membergraph/ent"
	entcampaign "github.com/membergraph/membergraph/ent/campaign"
	"github.com/membergraph/membergraph/ent/campaigncursor"
	"github.com/membergraph/membergraph/ent/campaignresult"
	"github.com/membergraph/membergraph/ent/campaignrun"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/campaign"
	"github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/segment"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

const campaignTriggerQuery = `query($key: String!) { campaign(key: $key) { trigger { kind event tier medal level } } }`

// hits are the members an EVENT campaign's runs hit (DONE), one entry per run, sorted, and
// checks that every run is of the trigger's kind and hit one member.
func (f *campaignFixture) hits(key, kind string) []string {
	f.t.Helper()
	var out []string
	for _, e := range f.campaign(key).Runs.Edges {
		r := e.Node
		if !strings.HasPrefix(r.Key, kind+":") || r.FinishedAt == nil || len(r.Results.Edges) != 1 {
			f.t.Fatalf("%s: run %+v, want a finished %s run of one member", key, r, kind)
		}
		if res := r.Results.Edges[0].Node; res.Status == "DONE" {
			out = append(out, res.Member)
		}
	}
	slices.Sort(out)
	return out
}

func grantOn(key string, trigger map[string]any, pts int) map[string]any {
	return map[string]any{"key": key, "name": key, "segment": "app", "trigger": trigger,
		"action": map[string]any{"kind": "GRANT_POINTS", "points": pts, "budget": "PLATFORM"}, "budgetPoints": 100_000}
}

// TestCampaignEventTriggers: EVENT campaigns on an event kind, a medal level and a tier
// change, read from the committed events and outbox by the consumer, never inside the
// event's transaction. Worked by hand (docs/domain.md §2, §4, §6): app-1 buys ¥3,000 of
// phones in October (PHONES medal 0 → 2 at ¥500 / ¥2,000; score 3,005 → SILVER at the
// November settlement), app-2 buys ¥100 of food (no medal, score 105 stays REGISTERED),
// app-3's order names an unknown category (rejected), web-1 buys ¥3,000 of phones outside
// the segment "app". So ORDER_COMPLETED hits app-1 and app-2 once each, MEDAL_LEVEL
// PHONES 2 hits app-1, PHONES 3 nobody, TIER_CHANGE SILVER and any TIER_CHANGE app-1 only,
// CHECK_IN app-3's check-in; the batch replayed, and the sources read again, hit nobody
// twice; a campaign created afterwards is not triggered by what came before.
func TestCampaignEventTriggers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newCampaignFixture(t, db)
		f.members(3, 1)
		f.mustCreate(grantOn("thanks", map[string]any{"kind": "EVENT", "event": "ORDER_COMPLETED"}, 50))
		f.mustCreate(grantOn("checkin", map[string]any{"kind": "EVENT", "event": "CHECK_IN"}, 5))
		f.mustCreate(grantOn("phones-2", map[string]any{"kind": "EVENT", "event": "MEDAL_LEVEL", "medal": "PHONES", "level": 2}, 20))
		f.mustCreate(grantOn("phones-3", map[string]any{"kind": "EVENT", "event": "MEDAL_LEVEL", "medal": "PHONES", "level": 3}, 30))
		f.mustCreate(grantOn("silver", map[string]any{"kind": "EVENT", "event": "TIER_CHANGE", "tier": "SILVER"}, 100))
		f.mustCreate(grantOn("gold", map[string]any{"kind": "EVENT", "event": "TIER_CHANGE", "tier": "GOLD"}, 100))
		f.mustCreate(grantOn("moved", map[string]any{"kind": "EVENT", "event": "TIER_CHANGE"}, 1))

		var tr struct {
			Campaign struct {
				Trigger struct {
					Kind, Event string
					Tier, Medal *string
					Level       *int
				}
			}
		}
		f.must(f.admin, campaignTriggerQuery, map[string]any{"key": "phones-2"}, &tr)
		if g := tr.Campaign.Trigger; g.Kind != "EVENT" || g.Event != "MEDAL_LEVEL" || g.Medal == nil || *g.Medal != "PHONES" || g.Level == nil || *g.Level != 2 || g.Tier != nil {
			t.Fatalf("phones-2 trigger = %+v", g)
		}

		oct := "2026-10-15T04:00:00Z"
		batch := []map[string]any{
			at(orderEvent("o1", "app-1", "o1", "APP", ln("phone", "PHONES", 300000)), oct),
			at(orderEvent("o2", "app-2", "o2", "APP", ln("rice", "FOOD", 10000)), oct),
			at(orderEvent("o3", "app-3", "o3", "APP", ln("thing", "NO_SUCH_CATEGORY", 10000)), oct),
			at(orderEvent("o4", "web-1", "o4", "WEB", ln("phone", "PHONES", 300000)), oct),
			at(map[string]any{"idempotencyKey": "c1", "externalId": "app-3", "kind": "CHECK_IN", "channel": "APP"}, oct),
		}
		res := f.record(batch...)
		var status []string
		for _, r := range res {
			status = append(status, r.Status)
		}
		if fmt.Sprint(status) != "[ACCEPTED ACCEPTED REJECTED ACCEPTED ACCEPTED]" {
			t.Fatalf("batch = %v", status)
		}
		if c := f.campaign("thanks"); len(c.Runs.Edges) != 0 {
			t.Fatalf("runs before the consumer read the events: %+v", c.Runs)
		}
		f.drain()
		check := func(when string) {
			t.Helper()
			for key, want := range map[string]string{"thanks": "[app-1 app-2]", "checkin": "[app-3]", "phones-2": "[app-1]", "phones-3": "[]"} {
				kind := map[string]string{"thanks": "ORDER_COMPLETED", "checkin": "CHECK_IN"}[key]
				if kind == "" {
					kind = "MEDAL_LEVEL"
				}
				if got := fmt.Sprint(f.hits(key, kind)); got != want {
					t.Errorf("%s: %s hit %s, want %s", when, key, got, want)
				}
			}
		}
		check("after the batch")
		// The same batch again: replays (the rejected one is rejected again), read again.
		status = status[:0]
		for _, r := range f.record(batch...) {
			status = append(status, r.Status)
		}
		if fmt.Sprint(status) != "[DUPLICATE DUPLICATE REJECTED DUPLICATE DUPLICATE]" {
			t.Fatalf("replayed batch = %v", status)
		}
		f.drain()
		f.drain()
		check("after the replay")
		for key, want := range map[string]string{"silver": "[]", "moved": "[]"} {
			if got := fmt.Sprint(f.hits(key, "TIER_CHANGE")); got != want {
				t.Errorf("before settlement: %s hit %s, want %s", key, got, want)
			}
		}

		// November's settlement moves app-1 and web-1 to SILVER.
		if st := f.settle("2026-11"); st["status"] != "DONE" || st["tierChanges"] != float64(2) {
			t.Fatalf("settlement = %v, want 2 tier changes (app-1, web-1)", st)
		}
		f.drain()
		for key, want := range map[string]string{"silver": "[app-1]", "gold": "[]", "moved": "[app-1]"} {
			if got := fmt.Sprint(f.hits(key, "TIER_CHANGE")); got != want {
				t.Errorf("after settlement: %s hit %s, want %s", key, got, want)
			}
		}
		check("after settlement")
		// Points: 50 + 20 + 100 + 1 from the campaigns for app-1, each once.
		sys := auth.SystemContext(context.Background(), 0)
		var perDesc []struct {
			Description string `json:"description"`
			Count       int    `json:"count"`
		}
		if err := db.Client.PointEntry.Query().Where(pointentry.DescriptionHasPrefix("Campaign: ")).
			GroupBy(pointentry.FieldDescription).Aggregate(ent.Count()).Scan(sys, &perDesc); err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(perDesc, func(a, b struct {
			Description string `json:"description"`
			Count       int    `json:"count"`
		}) int {
			return strings.Compare(a.Description, b.Description)
		})
		if got := fmt.Sprint(perDesc); got != "[{Campaign: checkin 1} {Campaign: moved 1} {Campaign: phones-2 1} {Campaign: silver 1} {Campaign: thanks 2}]" {
			t.Errorf("campaign credits = %s", got)
		}

		// A campaign created now is triggered by what comes after it only.
		f.mustCreate(grantOn("late", map[string]any{"kind": "EVENT", "event": "ORDER_COMPLETED"}, 1))
		f.drain()
		if got := f.hits("late", "ORDER_COMPLETED"); len(got) != 0 {
			t.Fatalf("late campaign hit %v for orders before it", got)
		}
		f.record(at(orderEvent("o5", "app-2", "o5", "APP", ln("rice", "FOOD", 10000)), oct))
		f.drain()
		if got := fmt.Sprint(f.hits("late", "ORDER_COMPLETED")); got != "[app-2]" {
			t.Fatalf("late campaign hit %s, want [app-2]", got)
		}
		if got := fmt.Sprint(f.hits("thanks", "ORDER_COMPLETED")); got != "[app-2 app-2 app-1]" && got != "[app-1 app-2 app-2]" {
			t.Fatalf("thanks hit %s, want app-1 once and app-2 twice", got)
		}
	})
}

// TestCampaignEventTriggerInput: createCampaign's EVENT trigger refuses a wrong combination
// at the field that is wrong.
func TestCampaignEventTriggerInput(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newCampaignFixture(t, db)
		f.members(1, 0)
		for _, c := range []struct {
			trigger map[string]any
			want    string
		}{
			{map[string]any{"kind": "EVENT"}, "[{[input trigger event] INVALID_ARGUMENT}]"},
			{map[string]any{"kind": "EVENT", "event": "ORDER_SHIPPED"}, "[{[input trigger event] INVALID_ARGUMENT}]"},
			{map[string]any{"kind": "EVENT", "event": "MEDAL_LEVEL"}, "[{[input trigger medal] INVALID_ARGUMENT} {[input trigger level] INVALID_ARGUMENT}]"},
			{map[string]any{"kind": "EVENT", "event": "MEDAL_LEVEL", "medal": "PHONES", "level": 6}, "[{[input trigger level] INVALID_ARGUMENT}]"},
			{map[string]any{"kind": "EVENT", "event": "MEDAL_LEVEL", "medal": "NO_SUCH_MEDAL", "level": 2}, "[{[input trigger medal] NOT_FOUND}]"},
			{map[string]any{"kind": "EVENT", "event": "TIER_CHANGE", "tier": "PLATINUM"}, "[{[input trigger tier] NOT_FOUND}]"},
			{map[string]any{"kind": "EVENT", "event": "ORDER_COMPLETED", "tier": "GOLD"}, "[{[input trigger tier] INVALID_ARGUMENT}]"},
			{map[string]any{"kind": "EVENT", "event": "TIER_CHANGE", "medal": "PHONES", "level": 1}, "[{[input trigger medal] INVALID_ARGUMENT} {[input trigger level] INVALID_ARGUMENT}]"},
			{map[string]any{"kind": "DAILY", "timeOfDay": "09:00", "tier": "GOLD"}, "[{[input trigger tier] INVALID_ARGUMENT}]"},
		} {
			var got []string
			for _, ue := range f.create(grantOn("bad", c.trigger, 1)) {
				got = append(got, fmt.Sprintf("{%v %s}", ue.Field, ue.Code))
			}
			if s := "[" + strings.Join(got, " ") + "]"; s != c.want {
				t.Errorf("trigger %v: %s, want %s", c.trigger, s, c.want)
			}
		}
		f.mustCreate(grantOn("gold", map[string]any{"kind": "EVENT", "event": "TIER_CHANGE", "tier": "GOLD"}, 1))
	})
}

// leaseOf is a consumer's lease of s seconds; 0 for one that runs out at once.
func leaseOf(s int) time.Duration {
	if s == 0 {
		return time.Nanosecond
	}
	return time.Duration(s) * time.Second
}

// TestCampaignTriggersTwoConsumers: two consumers on one database (two replicas), reading
// at the same time with leases that run out at once, so both read every row: each
// (campaign, event, member) is hit once, one credit each. With a lease that holds, the
// second consumer reads nothing and names the holder.
func TestCampaignTriggersTwoConsumers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newCampaignFixture(t, db)
		f.members(6, 0)
		f.mustCreate(grantOn("thanks", map[string]any{"kind": "EVENT", "event": "ORDER_COMPLETED"}, 3))
		const orders = 5 // per member
		for n := range orders {
			var batch []map[string]any
			for i := 1; i <= 6; i++ {
				k := fmt.Sprintf("o-%d-%d", n, i)
				batch = append(batch, at(orderEvent(k, fmt.Sprintf("app-%d", i), k, "APP", ln("rice", "FOOD", 10000)), f.now()))
			}
			f.record(batch...)
		}
		newSvc := func(owner string, lease int) *campaign.Service {
			return campaign.NewService(db.Client, f.ledger, segment.NewService(db.Client, f.clock), campaign.SegmentsByKey(db.Client),
				campaign.Config{Chunk: 2, Trigger: campaign.TriggerConfig{Owner: owner, Lease: leaseOf(lease), Batch: 4}})
		}
		a, b := newSvc("replica-a", 0), newSvc("replica-b", 0)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []*campaign.Service{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.DrainTriggers(context.Background(), 0)
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("drains: %v, %v", errs[0], errs[1])
		}
		sys := auth.SystemContext(context.Background(), 0)
		c, err := db.Client.Campaign.Query().Where(entcampaign.Key("thanks")).Only(sys)
		if err != nil {
			t.Fatal(err)
		}
		runs, err := db.Client.CampaignRun.Query().Where(campaignrun.CampaignID(c.ID), campaignrun.FinishedAtNotNil()).Count(sys)
		if err != nil || runs != 6*orders {
			t.Fatalf("%d finished runs (%v), want %d", runs, err, 6*orders)
		}
		done, err := db.Client.CampaignResult.Query().Where(campaignresult.CampaignID(c.ID), campaignresult.StatusEQ(campaignresult.StatusDONE)).Count(sys)
		if err != nil || done != 6*orders {
			t.Fatalf("%d DONE results (%v), want %d", done, err, 6*orders)
		}
		credits, err := db.Client.PointEntry.Query().Where(pointentry.Description("Campaign: thanks")).Count(sys)
		if err != nil || credits != 6*orders || c.SpentPoints != 3*6*orders {
			t.Fatalf("%d credits, %d points spent (%v), want %d and %d", credits, c.SpentPoints, err, 6*orders, 3*6*orders)
		}

		// A lease that holds: replica-c reads (as serve does, keeping the lease), replica-d
		// finds it held and reads nothing.
		cs, d := newSvc("replica-c", 60), newSvc("replica-d", 60)
		f.record(at(orderEvent("o-last", "app-1", "o-last", "APP", ln("rice", "FOOD", 10000)), f.now()))
		for more := true; more; {
			// It may read again rows read before (a lease run out lost a position not saved):
			// those find their runs done.
			var st campaign.TriggerStats
			var err error
			if st, more, err = cs.StepTriggers(context.Background()); err != nil || st.Held != "" {
				t.Fatalf("replica-c: %+v, %v", st, err)
			}
		}
		if k, err := db.Client.CampaignResult.Query().Where(campaignresult.CampaignID(c.ID)).Count(sys); err != nil || k != 6*orders+1 {
			t.Fatalf("%d results (%v) after replica-c, want %d", k, err, 6*orders+1)
		}
		f.record(at(orderEvent("o-later", "app-2", "o-later", "APP", ln("rice", "FOOD", 10000)), f.now()))
		if st, err := d.DrainTriggers(context.Background(), 0); err != nil || st.Read != 0 || st.Runs != 0 || st.Held != "replica-c" {
			t.Fatalf("replica-d: %+v, %v; want nothing read, held by replica-c", st, err)
		}
	})
}

// TestCampaignTriggersOutOfOrderCommit: on MariaDB a transaction takes its outbox id when it
// writes, not when it commits, so a medal level can commit after a later one was read. The
// consumer reads the later one, keeps the missing id's place (its stored position stays
// below it), and reads it once it committed: both members hit once. An id whose transaction
// rolled back is given up after GapWait and the position moves past it. (SQLite has one
// writer at a time: ids commit in order there.)
func TestCampaignTriggersOutOfOrderCommit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		if db.Dialect != dialect.MySQL {
			t.Skip("ids commit in their order on SQLite")
		}
		f := newCampaignFixture(t, db)
		f.members(3, 0)
		f.mustCreate(grantOn("phones-1", map[string]any{"kind": "EVENT", "event": "MEDAL_LEVEL", "medal": "PHONES", "level": 1}, 5))
		sys := auth.SystemContext(context.Background(), 0)
		ids := map[string]int{}
		for _, ext := range []string{"app-1", "app-2", "app-3"} {
			id, err := db.Client.Member.Query().Where(member.ExternalID(ext)).OnlyID(sys)
			if err != nil {
				t.Fatal(err)
			}
			ids[ext] = id
		}
		pid, _ := program.NewService(db.Client).IDByKey(context.Background(), program.PresetKey)
		level := func(tx *ent.Tx, ext string) {
			t.Helper()
			if err := outbox.Write(sys, tx, medal.Messages(pid, []medal.Change{{MemberID: ids[ext], Medal: &ent.Medal{Key: "PHONES"}, From: 0, To: 1}}, f.clock.Now())); err != nil {
				t.Fatal(err)
			}
		}
		begin := func() *ent.Tx {
			t.Helper()
			tx, err := db.Client.Tx(sys)
			if err != nil {
				t.Fatal(err)
			}
			return tx
		}
		svc := campaign.NewService(db.Client, f.ledger, segment.NewService(db.Client, f.clock), campaign.SegmentsByKey(db.Client),
			campaign.Config{Trigger: campaign.TriggerConfig{GapWait: 2 * time.Second}})
		slow, quick := begin(), begin()
		level(slow, "app-1") // takes the lower id, commits last
		level(quick, "app-2")
		if err := quick.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.DrainTriggers(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(f.hits("phones-1", "MEDAL_LEVEL")); got != "[app-2]" {
			t.Fatalf("before the slow commit: %s, want [app-2]", got)
		}
		if err := slow.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.DrainTriggers(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(f.hits("phones-1", "MEDAL_LEVEL")); got != "[app-1 app-2]" {
			t.Fatalf("after the slow commit: %s, want [app-1 app-2]", got)
		}

		// A rolled back id: waited for, then given up; the position passes it.
		lost, after := begin(), begin()
		level(lost, "app-3")
		level(after, "app-3")
		if err := lost.Rollback(); err != nil {
			t.Fatal(err)
		}
		if err := after.Commit(); err != nil {
			t.Fatal(err)
		}
		position := func() int {
			c, err := db.Client.CampaignCursor.Query().Where(campaigncursor.Source(campaign.SourceOutbox)).Only(sys)
			if err != nil {
				t.Fatal(err)
			}
			return c.Position
		}
		newest, err := outbox.Newest(sys, db.Client)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.DrainTriggers(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		// newest is after's row; lost took the id below it.
		if p := position(); p >= newest-1 {
			t.Fatalf("position %d passed the missing id %d before GapWait", p, newest-1)
		}
		time.Sleep(2100 * time.Millisecond)
		if _, err := svc.DrainTriggers(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		if p := position(); p < newest {
			t.Fatalf("position %d after GapWait, want past the missing id, at %d or later", p, newest)
		}
		if got := fmt.Sprint(f.hits("phones-1", "MEDAL_LEVEL")); got != "[app-1 app-2 app-3]" {
			t.Fatalf("after the rollback: %s, want [app-1 app-2 app-3]", got)
		}
	})
}

// TestCampaignEventTriggerFrequencyCap: an ORDER_COMPLETED campaign capped at 2 hits in 7
// days. app-1's three orders in one batch are three runs, read in id order: the first two
// DONE (10 points each, platform grants: ADJUSTMENT entries, apart from the orders' own and
// the first mobile order's), the third SKIPPED for the cap (DOMAIN §8: the cap limits how
// often one member is hit), so 20 points; eight days on, the first two hits are outside the
// window and a fourth order is DONE again: 30.
func TestCampaignEventTriggerFrequencyCap(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newCampaignFixture(t, db)
		f.members(1, 0)
		in := grantOn("capped", map[string]any{"kind": "EVENT", "event": "ORDER_COMPLETED"}, 10)
		in["frequencyCap"] = map[string]any{"hits": 2, "days": 7}
		f.mustCreate(in)
		oct := "2026-10-15T04:00:00Z"
		var batch []map[string]any
		for _, k := range []string{"c1", "c2", "c3"} {
			batch = append(batch, at(orderEvent(k, "app-1", k, "APP", ln("rice", "FOOD", 10000)), oct))
		}
		f.record(batch...)
		f.drain()
		results := func() []string {
			var out []string
			for _, e := range f.campaign("capped").Runs.Edges {
				for _, r := range e.Node.Results.Edges {
					out = append(out, r.Node.Status+" "+strings.SplitN(r.Node.Reason, ":", 2)[0])
				}
			}
			slices.Sort(out)
			return out
		}
		if got, want := fmt.Sprint(results()), "[DONE  DONE  SKIPPED FREQUENCY_CAP]"; got != want {
			t.Errorf("three orders: results %s, want %s", got, want)
		}
		pointsOf := func() int {
			n, err := db.Client.PointEntry.Query().Where(pointentry.HasMemberWith(member.ExternalID("app-1")),
				pointentry.KindEQ(pointentry.KindADJUSTMENT)).Aggregate(ent.Sum(pointentry.FieldAmount)).Int(auth.SystemContext(context.Background(), 0))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if got := pointsOf(); got != 20 {
			t.Errorf("campaign points after three orders: %d, want 2 × 10 = 20", got)
		}
		f.clock.Advance(8 * 24 * time.Hour)
		f.record(at(orderEvent("c4", "app-1", "c4", "APP", ln("rice", "FOOD", 10000)), f.clock.Now().Add(-time.Hour).UTC().Format(time.RFC3339)))
		f.drain()
		if got, want := fmt.Sprint(results()), "[DONE  DONE  DONE  SKIPPED FREQUENCY_CAP]"; got != want {
			t.Errorf("eight days on: results %s, want %s", got, want)
		}
		if got := pointsOf(); got != 30 {
			t.Errorf("campaign points eight days on: %d, want 30", got)
		}
	})
}

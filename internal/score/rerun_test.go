package score

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/auditentry"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/ent/tierchange"
	"github.com/membergraph/membergraph/internal/auth"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/tier"
	"github.com/membergraph/membergraph/internal/usererr"
)

func (w *world) register(exts ...string) {
	w.t.Helper()
	for _, ext := range exts {
		if _, err := memberpkg.NewService(w.db.Client, w.clk).Register(w.svc, memberpkg.Registration{ExternalID: ext, Channel: member.RegistrationChannelAPP}); err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *world) tierOf(ext string) string { return w.member(ext).Edges.Tier.Key }

func wantRun(t *testing.T, st *ent.Settlement, run, members, changes int, resettle bool) {
	t.Helper()
	if st.Status != "DONE" || st.Run != run || st.Members != members || st.TierChanges != changes || st.Resettle != resettle {
		t.Fatalf("settlement = status %s run %d members %d tierChanges %d resettle %v, want DONE run %d members %d tierChanges %d resettle %v",
			st.Status, st.Run, st.Members, st.TierChanges, st.Resettle, run, members, changes, resettle)
	}
}

// TestSettleAfterImport: a period settled on an empty programme is settled again for the
// members registered (with their history imported) since, exactly those; a further run
// settles nobody; the in-server job settles newcomers of the period too.
func TestSettleAfterImport(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil)
		w.at(2025, 4, 1)
		wantRun(t, w.settle(202504), 1, 0, 0, false)

		// Imported after the settlement, with March's orders: alice ¥1,300 on one day =
		// 1,300 + 5 = 1,305 (Bronze from 1,000); bob ¥2,600 = 2,605 (Silver from 2,500);
		// dan nothing = 0 (Registered, no change).
		w.register("alice", "bob", "dan")
		w.order("alice", "a1", w.at(2025, 4, 1).AddDate(0, 0, -20), line("x", 1300))
		w.order("bob", "b1", w.at(2025, 4, 1).AddDate(0, 0, -19), line("y", 2600))
		wantRun(t, w.settle(202504), 2, 3, 2, false)
		if a, b, d := w.tierOf("alice"), w.tierOf("bob"), w.tierOf("dan"); a != "BRONZE" || b != "SILVER" || d != "REGISTERED" {
			t.Fatalf("alice %s, bob %s, dan %s", a, b, d)
		}
		if v := w.view("alice"); v.Settled != 1305 || v.Period != 202504 {
			t.Fatalf("alice settled %d for %s", v.Settled, v.Period)
		}
		if n, sum := w.points("alice", pointentry.KindTIER_GIFT); n != 1 || sum != 100 {
			t.Fatalf("alice's Bronze gift: %d entries, %d points", n, sum)
		}
		if n, sum := w.points("bob", pointentry.KindTIER_GIFT); n != 1 || sum != 200 {
			t.Fatalf("bob's Silver gift: %d entries, %d points", n, sum)
		}

		// Nobody new: the run settles nobody and changes nothing.
		wantRun(t, w.settle(202504), 3, 0, 0, false)
		if v := w.view("alice"); v.Settled != 1305 {
			t.Fatalf("alice settled %d after the empty run", v.Settled)
		}

		// The in-server job: carol (¥4,600 in March = 4,605, Gold from 4,500) is settled by
		// the next check; the check after it has nothing to do and opens no run.
		w.register("carol")
		w.order("carol", "c1", w.at(2025, 4, 1).AddDate(0, 0, -18), line("z", 4600))
		if err := w.score.SettleAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if k := w.tierOf("carol"); k != "GOLD" {
			t.Fatalf("carol is %s after the hourly check", k)
		}
		if n, sum := w.points("carol", pointentry.KindTIER_GIFT); n != 1 || sum != 500 {
			t.Fatalf("carol's Gold gift: %d entries, %d points", n, sum)
		}
		st := w.latest(202504)
		wantRun(t, st, 4, 1, 1, false)
		if err := w.score.SettleAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantRun(t, w.latest(202504), 4, 1, 1, false)
		for _, n := range []string{"alice", "bob", "carol", "dan"} {
			if c, _ := db.Client.TierChange.Query().Where(tierchange.MemberID(w.member(n).ID)).Count(w.sys()); c > 1 {
				t.Errorf("%s has %d tier changes", n, c)
			}
		}
		// The month before stays refused: 2025-04 is settled.
		if _, err := w.score.Settle(context.Background(), w.pid, 202503); !isCode(err, usererr.FailedPrecondition) {
			t.Fatalf("earlier period: %v", err)
		}
	})
}

func (w *world) latest(period int) *ent.Settlement {
	w.t.Helper()
	sts, err := w.db.Client.Settlement.Query().All(w.sys())
	if err != nil {
		w.t.Fatal(err)
	}
	for _, st := range sts {
		if st.Period == period {
			return st
		}
	}
	w.t.Fatalf("no settlement of %d", period)
	return nil
}

// TestConcurrentNewcomerRuns: two workers re-running a settled period at once after an
// import settle each newcomer once: one run, one score row, one history entry, one gift.
func TestConcurrentNewcomerRuns(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil, "old")
		w.at(2025, 4, 1)
		w.settle(202504)
		names := []string{"n0", "n1", "n2", "n3", "n4", "n5"}
		w.register(names...)
		for i, n := range names {
			w.order(n, "o-"+n, w.at(2025, 4, 1).AddDate(0, 0, -10), line("x", int64(900*(i+1))))
		}
		other := NewService(db.Client, w.clk, w.ledger, SettleConfig{PartitionSize: 1, ChunkSize: 1, Worker: "other"})
		var wg sync.WaitGroup
		sts := make([]*ent.Settlement, 2)
		errs := make([]error, 2)
		for i, s := range []*Service{w.score, other} {
			wg.Go(func() { sts[i], errs[i] = s.Settle(context.Background(), w.pid, 202504) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		// Either both joined run 2, or one ran run 2 with everyone and the other a run 3 with
		// nobody left; either way six newcomers were settled in all.
		st := w.latest(202504)
		if st.Run == 2 {
			wantRun(t, st, 2, 6, 5, false) // n0 ¥900 stays Registered; the rest move up
		} else {
			wantRun(t, st, 3, 0, 0, false)
		}
		checkSettled(t, w, append([]string{"old"}, names...), 202504)
	})
}

// TestResettle: after a rule change an ADMIN resettles the latest period: every member is
// recomputed, the tier changes say resettle, an upgrade gift is never paid twice in a year,
// each resettle is audited, and another period is refused.
func TestResettle(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil, "alice", "bob", "carol")
		w.order("alice", "a1", w.at(2025, 3, 10), line("x", 1300)) // 1,305: Bronze
		w.order("bob", "b1", w.at(2025, 3, 11), line("y", 2600))   // 2,605: Silver
		w.order("carol", "c1", w.at(2025, 3, 12), line("z", 100))  // 105: Registered
		w.at(2025, 4, 1)
		wantRun(t, w.settle(202504), 1, 3, 2, false)
		admin := auth.NewContext(context.Background(), auth.Viewer{Role: auth.RoleAdmin, Subject: "ops", ProgramID: w.pid})
		prog, _ := db.Client.Program.Get(w.sys(), w.pid)
		doubled := prog.Rules.ScoreRules()
		doubled.Weights.SpendYuan = 2
		if _, err := w.score.UpdateRules(admin, doubled); err != nil {
			t.Fatal(err)
		}
		resettle := func() *ent.Settlement {
			t.Helper()
			st, err := w.score.Resettle(admin, w.pid, 202504)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.score.DeliverGifts(context.Background(), w.pid); err != nil {
				t.Fatal(err)
			}
			return st
		}
		// Two points a yuan: alice 2,600 + 5 = 2,605 (Silver), bob 5,200 + 5 = 5,205 (Gold),
		// carol 200 + 5 = 205 (Registered still).
		wantRun(t, resettle(), 2, 3, 2, true)
		if a, b, c := w.tierOf("alice"), w.tierOf("bob"), w.tierOf("carol"); a != "SILVER" || b != "GOLD" || c != "REGISTERED" {
			t.Fatalf("after the resettle alice %s, bob %s, carol %s", a, b, c)
		}
		if v := w.view("bob"); v.Settled != 5205 || v.Period != 202504 {
			t.Fatalf("bob settled %d for %s", v.Settled, v.Period)
		}
		ch, err := db.Client.TierChange.Query().Where(tierchange.MemberID(w.member("bob").ID), tierchange.Run(2)).Only(w.sys())
		if err != nil || ch.Direction != "UP" || ch.Score != 5205 || !strings.HasPrefix(ch.Reason, "Resettle: ") {
			t.Fatalf("bob's resettle change: %+v %v", ch, err)
		}
		// Back to one point a yuan: alice Bronze, bob Silver (down); then two again: up, but
		// Silver and Gold were reached in 2025 already, so no second gift.
		single := doubled
		single.Weights.SpendYuan = 1
		if _, err := w.score.UpdateRules(admin, single); err != nil {
			t.Fatal(err)
		}
		wantRun(t, resettle(), 3, 3, 2, true)
		if a, b := w.tierOf("alice"), w.tierOf("bob"); a != "BRONZE" || b != "SILVER" {
			t.Fatalf("after the second resettle alice %s, bob %s", a, b)
		}
		if _, err := w.score.UpdateRules(admin, doubled); err != nil {
			t.Fatal(err)
		}
		wantRun(t, resettle(), 4, 3, 2, true)
		// alice: Bronze 100 + Silver 200; bob: Silver 200 + Gold 500; each gift once.
		if n, sum := w.points("alice", pointentry.KindTIER_GIFT); n != 2 || sum != 300 {
			t.Fatalf("alice's gifts: %d entries, %d points", n, sum)
		}
		if n, sum := w.points("bob", pointentry.KindTIER_GIFT); n != 2 || sum != 700 {
			t.Fatalf("bob's gifts: %d entries, %d points", n, sum)
		}
		hist, _ := db.Client.TierChange.Query().Where(tierchange.MemberID(w.member("alice").ID)).Order(ent.Asc(tierchange.FieldRun)).All(w.sys())
		if len(hist) != 4 || hist[1].Direction != "UP" || hist[2].Direction != "DOWN" || hist[3].Direction != "UP" {
			t.Fatalf("alice's history: %d entries", len(hist))
		}
		audits, err := db.Client.AuditEntry.Query().Where(auditentry.Action("resettle")).Order(ent.Asc(auditentry.FieldID)).All(w.sys())
		if err != nil || len(audits) != 3 || audits[0].Actor != "ADMIN:ops" ||
			!strings.Contains(audits[0].Before, `"run":1`) || !strings.Contains(audits[0].After, `"run":2`) ||
			!strings.Contains(audits[0].After, `"period":"2025-04"`) {
			t.Fatalf("audit entries: %+v %v", audits, err)
		}

		// A period that is not the latest cannot be resettled: neither one before, nor, a
		// month on, the one settled last.
		if _, err := w.score.Resettle(admin, w.pid, 202503); !isCode(err, usererr.FailedPrecondition) {
			t.Fatalf("resettle of 2025-03: %v", err)
		}
		w.at(2025, 5, 1)
		if _, err := w.score.Resettle(admin, w.pid, 202504); !isCode(err, usererr.FailedPrecondition) {
			t.Fatalf("resettle of 2025-04 in May: %v", err)
		}
		if n, _ := db.Client.AuditEntry.Query().Where(auditentry.Action("resettle")).Count(w.sys()); n != 3 {
			t.Fatalf("%d resettle audit entries after the refusals", n)
		}
	})
}

// TestResettleCumulative: cumulative growth is added once, so a resettle keeps each settled
// score and moves members by the current tier table; the next settlement adds only new
// activity.
func TestResettleCumulative(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, func(d *program.Definition) { d.Rules.Score.Mode = rules.ScoreCumulative }, "erin")
		w.order("erin", "o1", w.at(2025, 10, 10), line("x", 2600)) // 2,600 + 5 = 2,605: Silver
		w.at(2025, 11, 1)
		w.settle(202511)
		admin := auth.NewContext(context.Background(), auth.Viewer{Role: auth.RoleAdmin, Subject: "ops", ProgramID: w.pid})
		// Silver from 3,000: erin's 2,605 is Bronze once resettled.
		rows := program.JDPreset().Tiers
		rows[2].MinScore = 3000
		if _, err := tier.NewService(db.Client, w.clk).UpdateTable(admin, rows); err != nil {
			t.Fatal(err)
		}
		st, err := w.score.Resettle(admin, w.pid, 202511)
		if err != nil {
			t.Fatal(err)
		}
		wantRun(t, st, 2, 1, 1, true)
		if v := w.view("erin"); v.Settled != 2605 || v.Dimensions.Consumption != 2605 || w.tierOf("erin") != "BRONZE" {
			t.Fatalf("after the resettle: %d (consumption %d), %s", v.Settled, v.Dimensions.Consumption, w.tierOf("erin"))
		}
		w.order("erin", "o2", w.at(2025, 11, 5), line("y", 100)) // +105
		w.at(2025, 12, 1)
		w.settle(202512)
		if v := w.view("erin"); v.Settled != 2710 {
			t.Fatalf("2025-12: %d, want 2,605 + 105 = 2,710", v.Settled)
		}
	})
}

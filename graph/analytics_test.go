package graph_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/pointaccount"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// analyticsProgramme is the worked example of the analytics tests: ten members of the preset
// (tiers REGISTERED 0, BRONZE 1,000, SILVER 2,500, GOLD 4,500, DIAMOND 7,000; 100 points = ¥1;
// zone Asia/Shanghai), all registered on 2025-01-01, seen at the test clock's
// 2026-11-22T08:00Z (16:00 in Shanghai):
//
//	member  settled score  tier      status  medals              PLUS terms
//	m0      (never)        REGISTERED                            —
//	m1      300            REGISTERED        ORDERS 1            TRIAL 10-20→11-19; PURCHASE 11-19→2027-11-19
//	m2      1,200          BRONZE            ORDERS 1            PURCHASE 2025-11-05→2026-11-05
//	m3      1,800          BRONZE            ORDERS 2            TRIAL 11-03→12-03
//	m4      2,400          BRONZE            PHONES 3            PURCHASE 11-10→2027-11-10
//	m5      2,600          SILVER                                TRIAL 11-02→11-12 cancelled 11-12; PURCHASE 11-15→2027-11-15
//	m6      3,000          SILVER                                CODE 2025-10-01→10-01; PURCHASE 10-20→2027-10-20
//	m7      4,600          GOLD                                  PURCHASE 2025-10-01→2026-10-01
//	m8      5,200          GOLD                                  —
//	m9      7,200          DIAMOND   FROZEN  ORDERS 5            —
//
// (dates 2026 unless said, midnight UTC). Points lots (remaining, funder, lapse instant):
// m0 500 PLATFORM 2027-12-31T16:00Z; m1 300 PLATFORM and 2,700 PLUS 2026-12-31T16:00Z (the end
// of 31 December in Shanghai: next month's); m2 1,000 STORE:s1 2027-12-31T16:00Z; m3 200
// PLATFORM 2026-11-30T16:00Z (the end of 30 November: this month's, not next); m4 400
// PLATFORM 2026-11-20T00:00Z (lapsed, not yet written off); m5 a spent lot (0 left); m6 150
// PARTNER:video 2027-01-31T16:00Z (January's). Debts: m7 120, m8 80.
func analyticsProgramme(t *testing.T, a *api) {
	t.Helper()
	now := a.clock.Now()
	a.clock.Set(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	for i := range 10 {
		a.register(fmt.Sprintf("m%d", i), nil)
	}
	a.clock.Set(now)
	ctx := auth.SystemContext(context.Background(), 0)
	pid, err := a.db.Client.Program.Query().OnlyID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ctx = auth.SystemContext(context.Background(), pid)
	c := a.db.Client
	ids := map[string]int{}
	for i := range 10 {
		k := fmt.Sprintf("m%d", i)
		ids[k] = c.Member.Query().Where(member.ExternalID(k)).OnlyIDX(ctx)
	}
	tiers := map[string]int{}
	for _, tr := range c.Tier.Query().AllX(ctx) {
		tiers[tr.Key] = tr.ID
	}
	for k, s := range map[string]struct {
		score int64
		tier  string
	}{"m1": {300, "REGISTERED"}, "m2": {1200, "BRONZE"}, "m3": {1800, "BRONZE"}, "m4": {2400, "BRONZE"}, "m5": {2600, "SILVER"},
		"m6": {3000, "SILVER"}, "m7": {4600, "GOLD"}, "m8": {5200, "GOLD"}, "m9": {7200, "DIAMOND"}} {
		c.MemberScore.Create().SetProgramID(pid).SetMemberID(ids[k]).SetSettled(s.score).SetPeriod(202611).ExecX(ctx)
		c.Member.UpdateOneID(ids[k]).SetTierID(tiers[s.tier]).ExecX(ctx)
	}
	c.Member.UpdateOneID(ids["m9"]).SetStatus(member.StatusFROZEN).ExecX(ctx)
	for _, md := range []struct {
		m, key string
		level  int
	}{{"m1", "ORDERS", 1}, {"m2", "ORDERS", 1}, {"m3", "ORDERS", 2}, {"m9", "ORDERS", 5}, {"m4", "PHONES", 3}} {
		c.MemberMedal.Create().SetProgramID(pid).SetMemberID(ids[md.m]).SetMedalKey(md.key).SetLevel(md.level).SetUpdatedAt(now).ExecX(ctx)
	}
	d := func(y, m, day int) time.Time { return time.Date(y, time.Month(m), day, 0, 0, 0, 0, time.UTC) }
	for i, tm := range []struct {
		m, source  string
		start, end time.Time
		price      int64
		cancelled  bool
	}{
		{"m1", "TRIAL", d(2026, 10, 20), d(2026, 11, 19), 0, false},
		{"m1", "PURCHASE", d(2026, 11, 19), d(2027, 11, 19), 14900, false},
		{"m2", "PURCHASE", d(2025, 11, 5), d(2026, 11, 5), 14900, false},
		{"m3", "TRIAL", d(2026, 11, 3), d(2026, 12, 3), 0, false},
		{"m4", "PURCHASE", d(2026, 11, 10), d(2027, 11, 10), 14900, false},
		{"m5", "TRIAL", d(2026, 11, 2), d(2026, 11, 12), 0, true},
		{"m5", "PURCHASE", d(2026, 11, 15), d(2027, 11, 15), 9900, false},
		{"m6", "CODE", d(2025, 10, 1), d(2026, 10, 1), 0, false},
		{"m6", "PURCHASE", d(2026, 10, 20), d(2027, 10, 20), 14900, false},
		{"m7", "PURCHASE", d(2025, 10, 1), d(2026, 10, 1), 14900, false},
	} {
		plan := "ANNUAL"
		if tm.source == "TRIAL" {
			plan = "TRIAL"
		}
		q := c.PlusTerm.Create().SetProgramID(pid).SetMemberID(ids[tm.m]).SetPlan(plan).SetSource(tm.source).
			SetStartAt(tm.start).SetEndAt(tm.end).SetPlannedEndAt(tm.end).SetPricePaidCents(tm.price).
			SetIdempotencyKey(fmt.Sprintf("term-%d", i)).SetBodyHash("").SetCreatedAt(tm.start)
		if tm.cancelled {
			q.SetCancelledAt(tm.end).SetCancelReason("test")
		}
		q.ExecX(ctx)
	}
	at := func(y, m, day, h int) time.Time { return time.Date(y, time.Month(m), day, h, 0, 0, 0, time.UTC) }
	for _, l := range []struct {
		m, funding string
		remaining  int64
		expires    time.Time
	}{
		{"m0", "PLATFORM", 500, at(2027, 12, 31, 16)},
		{"m1", "PLATFORM", 300, at(2026, 12, 31, 16)},
		{"m1", "PLUS", 2700, at(2026, 12, 31, 16)},
		{"m2", "STORE:s1", 1000, at(2027, 12, 31, 16)},
		{"m3", "PLATFORM", 200, at(2026, 11, 30, 16)},
		{"m4", "PLATFORM", 400, at(2026, 11, 20, 0)},
		{"m5", "PLATFORM", 0, at(2027, 12, 31, 16)},
		{"m6", "PARTNER:video", 150, at(2027, 1, 31, 16)},
	} {
		c.PointLot.Create().SetProgramID(pid).SetMemberID(ids[l.m]).SetFunding(l.funding).SetRemaining(l.remaining).
			SetExpiresAt(l.expires).SetAvailableAt(d(2026, 1, 1)).ExecX(ctx)
	}
	for k, debt := range map[string]int64{"m7": 120, "m8": 80} {
		c.PointAccount.Update().Where(pointaccount.MemberID(ids[k])).SetDebt(debt).ExecX(ctx)
	}
}

type shareOut struct {
	Count, Of int
	Value     float64
}

func sh(n, of int) shareOut {
	v := 0.0
	if of > 0 {
		v = float64(n) / float64(of)
	}
	return shareOut{n, of, v}
}

type fundedOut struct {
	Funding            string
	Points, ValueCents int
}

// TestAnalyticsWorkedExample checks every figure of analyticsProgramme, worked by hand in
// the comments from docs/domain.md's rules and the example's table.
func TestAnalyticsWorkedExample(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		analyticsProgramme(t, a)
		admin := a.token(auth.RoleAdmin, "ops")
		var out struct {
			Analytics struct {
				Penetration struct {
					ComputedAt time.Time
					Members    int
					Tiers      []struct {
						Tier      struct{ Key string }
						AtOrAbove shareOut
					}
					Plus shareOut
				}
				Pyramid struct {
					ComputedAt    time.Time
					ActiveMembers int
					Tiers         []struct {
						Tier    struct{ Key string }
						Members shareOut
					}
					Head, Middle, Tail struct {
						Tiers         []struct{ Key string }
						Members       shareOut
						ExpectedShare float64
					}
				}
				W500, W1000, W10 struct {
					BucketWidth, Members int
					Buckets              []struct {
						From    int
						To      *int
						Members int
					}
				}
				MedalLevels struct {
					Members int
					Medals  []struct {
						Medal  struct{ Key string }
						Levels []int
					}
				}
				PointsLiability struct {
					Points, ValueCents, DebtPoints, DebtValueCents, MembersInDebt int
					ByFunder                                                      []fundedOut
				}
				PointsExpiringNextMonth struct {
					Month              struct{ From, To time.Time }
					Points, ValueCents int
					ByFunder           []fundedOut
				}
				Conv struct {
					Period       struct{ From, To time.Time }
					NonMembers   int
					TrialStarted int
					Converted    shareOut
				}
				RenewNov, RenewOct struct {
					Renewed shareOut
					Open    int
				}
				WhatIf struct {
					Members int
					Tiers   []struct {
						Tier              struct{ Key string }
						Current, Proposed int
					}
				}
			}
		}
		a.must(admin, `query($nov: AnalyticsPeriodInput!, $oct: AnalyticsPeriodInput!) { analytics {
			penetration { computedAt members tiers { tier { key } atOrAbove { count of value } } plus { count of value } }
			pyramid { computedAt activeMembers tiers { tier { key } members { count of value } }
				head { tiers { key } members { count of value } expectedShare }
				middle { tiers { key } members { count of value } expectedShare }
				tail { tiers { key } members { count of value } expectedShare } }
			W500: scoreDistribution { bucketWidth members buckets { from to members } }
			W1000: scoreDistribution(bucketWidth: 1000) { bucketWidth members buckets { from to members } }
			W10: scoreDistribution(bucketWidth: 10) { bucketWidth members buckets { from to members } }
			medalLevels { members medals { medal { key } levels } }
			pointsLiability { points valueCents debtPoints debtValueCents membersInDebt byFunder { funding points valueCents } }
			pointsExpiringNextMonth { month { from to } points valueCents byFunder { funding points valueCents } }
			Conv: plusConversion(period: $nov) { period { from to } nonMembers trialStarted converted { count of value } }
			RenewNov: plusRenewal(period: $nov) { renewed { count of value } open }
			RenewOct: plusRenewal(period: $oct) { renewed { count of value } open }
			whatIf(input: {thresholds: [0, 2000, 3000, 5000, 7000]}) { members tiers { tier { key } current proposed } }
		} }`, map[string]any{
			"nov": map[string]any{"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"},
			"oct": map[string]any{"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
		}, &out)
		an := out.Analytics
		now := a.clock.Now()

		// Penetration: at or above REGISTERED all 10, BRONZE 8 (m2–m9), SILVER 5 (m5–m9), GOLD 3
		// (m7–m9), DIAMOND 1 (m9, frozen but a member). PLUS at 11-22: m1 (purchase from 11-19),
		// m3 (trial to 12-03), m4, m5 (purchase from 11-15), m6 = 5 of 10.
		p := an.Penetration
		if !p.ComputedAt.Equal(now) || p.Members != 10 {
			t.Errorf("penetration = %+v", p)
		}
		wantAt := []int{10, 8, 5, 3, 1}
		for i, tr := range p.Tiers {
			if tr.AtOrAbove != sh(wantAt[i], 10) {
				t.Errorf("penetration %s = %+v, want %d of 10", tr.Tier.Key, tr.AtOrAbove, wantAt[i])
			}
		}
		if len(p.Tiers) != 5 || p.Plus != sh(5, 10) {
			t.Errorf("penetration tiers %d, plus %+v, want 5 of 10", len(p.Tiers), p.Plus)
		}

		// Pyramid of the 9 active (m9 is frozen): REGISTERED 2 (m0, m1), BRONZE 3, SILVER 2, GOLD 2,
		// DIAMOND 0. Bands: tail REGISTERED 2/9; middle BRONZE+SILVER 5/9; head GOLD+DIAMOND 2/9.
		py := an.Pyramid
		wantPy := []int{2, 3, 2, 2, 0}
		if py.ActiveMembers != 9 || len(py.Tiers) != 5 || !py.ComputedAt.Equal(now) {
			t.Fatalf("pyramid = %+v", py)
		}
		for i, tr := range py.Tiers {
			if tr.Members != sh(wantPy[i], 9) {
				t.Errorf("pyramid %s = %+v, want %d of 9", tr.Tier.Key, tr.Members, wantPy[i])
			}
		}
		keys := func(ts []struct{ Key string }) []string {
			var ks []string
			for _, k := range ts {
				ks = append(ks, k.Key)
			}
			return ks
		}
		if got := keys(py.Tail.Tiers); !reflect.DeepEqual(got, []string{"REGISTERED"}) || py.Tail.Members != sh(2, 9) || py.Tail.ExpectedShare != 0.3 {
			t.Errorf("tail = %v %+v", got, py.Tail)
		}
		if got := keys(py.Middle.Tiers); !reflect.DeepEqual(got, []string{"BRONZE", "SILVER"}) || py.Middle.Members != sh(5, 9) || py.Middle.ExpectedShare != 0.6 {
			t.Errorf("middle = %v %+v", got, py.Middle)
		}
		if got := keys(py.Head.Tiers); !reflect.DeepEqual(got, []string{"GOLD", "DIAMOND"}) || py.Head.Members != sh(2, 9) || py.Head.ExpectedShare != 0.1 {
			t.Errorf("head = %v %+v", got, py.Head)
		}

		// Histogram, width 500: m0 (never settled, at 0) and 300 → [0,500) 2; 1,200 → [1000,1500);
		// 1,800 → [1500,2000); 2,400 → [2000,2500); 2,600 → [2500,3000); 3,000 → [3000,3500);
		// 4,600 → [4500,5000); 5,200 → [5000,5500); 7,200 → [7000,7500): 15 buckets to the last.
		type bk struct{ from, to, n int }
		hist := func(name string, got []struct {
			From    int
			To      *int
			Members int
		}, want []bk) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("%s: %d buckets, want %d: %+v", name, len(got), len(want), got)
			}
			for i, b := range got {
				to := -1
				if b.To != nil {
					to = *b.To
				}
				if (bk{b.From, to, b.Members}) != want[i] {
					t.Errorf("%s bucket %d = {%d %d %d}, want %+v", name, i, b.From, to, b.Members, want[i])
				}
			}
		}
		w500 := make([]bk, 15)
		for i := range w500 {
			w500[i] = bk{i * 500, (i + 1) * 500, 0}
		}
		for _, i := range []int{2, 3, 4, 5, 6, 9, 10, 14} {
			w500[i].n = 1
		}
		w500[0].n = 2
		if an.W500.BucketWidth != 500 || an.W500.Members != 10 {
			t.Errorf("default histogram = %d wide, %d members", an.W500.BucketWidth, an.W500.Members)
		}
		hist("width 500", an.W500.Buckets, w500)
		// Width 1,000: [0,1000) 0 and 300; [1000,2000) 1,200 and 1,800; [2000,3000) 2,400 and 2,600;
		// 3,000; 4,600; 5,200; [6000,7000) none; 7,200.
		hist("width 1000", an.W1000.Buckets, []bk{{0, 1000, 2}, {1000, 2000, 2}, {2000, 3000, 2}, {3000, 4000, 1},
			{4000, 5000, 1}, {5000, 6000, 1}, {6000, 7000, 0}, {7000, 8000, 1}})
		// Width 10: 100 buckets at most, the last from 990 up holding the 8 scores ≥ 990; 0 and
		// 300 in [0,10) and [300,310).
		w10 := make([]bk, 100)
		for i := range w10 {
			w10[i] = bk{i * 10, (i + 1) * 10, 0}
		}
		w10[0].n, w10[30].n, w10[99] = 1, 1, bk{990, -1, 8}
		hist("width 10", an.W10.Buckets, w10)

		// Medals: ORDERS level 1 m1, m2; level 2 m3; level 5 m9; level 0 the other 6. PHONES level
		// 3 m4, level 0 the other 9. Every other medal: all 10 at level 0.
		ml := an.MedalLevels
		if ml.Members != 10 || len(ml.Medals) != 26 {
			t.Fatalf("medal levels: %d members, %d medals", ml.Members, len(ml.Medals))
		}
		for _, md := range ml.Medals {
			want := []int{10, 0, 0, 0, 0, 0}
			switch md.Medal.Key {
			case "ORDERS":
				want = []int{6, 2, 1, 0, 0, 1}
			case "PHONES":
				want = []int{9, 0, 0, 1, 0, 0}
			}
			if !reflect.DeepEqual(md.Levels, want) {
				t.Errorf("medal %s levels %v, want %v", md.Medal.Key, md.Levels, want)
			}
		}

		// Liability at 11-22: PLATFORM m0 500 + m1 300 + m3 200 (lapses 11-30T16:00Z, later than
		// now) = 1,000 (m4's lot has lapsed, m5's is empty); PLUS 2,700; STORE:s1 1,000;
		// PARTNER:video 150; 4,850 points = ¥48.50. Most first, a tie by funder. Debt 120 + 80.
		li := an.PointsLiability
		wantF := []fundedOut{{"PLUS", 2700, 2700}, {"PLATFORM", 1000, 1000}, {"STORE:s1", 1000, 1000}, {"PARTNER:video", 150, 150}}
		if li.Points != 4850 || li.ValueCents != 4850 || !reflect.DeepEqual(li.ByFunder, wantF) {
			t.Errorf("liability = %+v", li)
		}
		if li.DebtPoints != 200 || li.DebtValueCents != 200 || li.MembersInDebt != 2 {
			t.Errorf("debt = %+v", li)
		}

		// Next month in Shanghai is December: (2026-11-30T16:00Z, 2026-12-31T16:00Z]. m1's lots
		// lapse at its end (300 PLATFORM, 2,700 PLUS); m3's at its start belong to November;
		// m6's to January.
		ex := an.PointsExpiringNextMonth
		if !ex.Month.From.Equal(time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)) || !ex.Month.To.Equal(time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC)) {
			t.Errorf("next month = %+v", ex.Month)
		}
		if ex.Points != 3000 || ex.ValueCents != 3000 || !reflect.DeepEqual(ex.ByFunder, []fundedOut{{"PLUS", 2700, 2700}, {"PLATFORM", 300, 300}}) {
			t.Errorf("expiring = %+v", ex)
		}

		// Conversion in November: PLUS at 11-01 were m1 (trial), m2 (to 11-05), m6 → 7 non-members
		// (m0, m3, m4, m5, m7, m8, m9). Trials started: m3, m5 = 2. Paid terms started: m4, m5
		// = 2 of 7 (m1's purchase counts not: m1 was PLUS at the start).
		cv := an.Conv
		if cv.NonMembers != 7 || cv.TrialStarted != 2 || cv.Converted != sh(2, 7) {
			t.Errorf("conversion = %+v", cv)
		}
		// Renewal in November, cut at 11-22: ended m1's trial (11-19, followed at once by a
		// purchase: renewed) and m2's purchase (11-05, nothing after: open until 12-05); m5's
		// cancelled trial is not counted → 1 of 2, 1 open. October: m6's code term (10-01,
		// a purchase 19 days later: renewed) and m7's (10-01, nothing; closed 10-31) → 1 of 2.
		if an.RenewNov.Renewed != sh(1, 2) || an.RenewNov.Open != 1 {
			t.Errorf("renewal November = %+v", an.RenewNov)
		}
		if an.RenewOct.Renewed != sh(1, 2) || an.RenewOct.Open != 0 {
			t.Errorf("renewal October = %+v", an.RenewOct)
		}

		// What-if 0/2,000/3,000/5,000/7,000 on the settled scores (m0 at 0): current 2/3/2/2/1 as
		// above with m9; proposed 0–1,999: 0, 300, 1,200, 1,800 = 4; 2,000–2,999: 2,400, 2,600 =
		// 2; 3,000–4,999: 3,000, 4,600 = 2; 5,000–6,999: 5,200 = 1; 7,000+: 7,200 = 1.
		wi := an.WhatIf
		wantCur, wantProp := []int{2, 3, 2, 2, 1}, []int{4, 2, 2, 1, 1}
		if wi.Members != 10 || len(wi.Tiers) != 5 {
			t.Fatalf("what-if = %+v", wi)
		}
		for i, tr := range wi.Tiers {
			if tr.Current != wantCur[i] || tr.Proposed != wantProp[i] {
				t.Errorf("what-if %s = %d → %d, want %d → %d", tr.Tier.Key, tr.Current, tr.Proposed, wantCur[i], wantProp[i])
			}
		}
	})
}

// TestAnalyticsInputs: malformed inputs are refused naming the argument, and nothing else
// is answered for them.
func TestAnalyticsInputs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		admin := a.token(auth.RoleAdmin, "ops")
		period := `query($p: AnalyticsPeriodInput!) { analytics { plusConversion(period: $p) { nonMembers } } }`
		renewal := `query($p: AnalyticsPeriodInput!) { analytics { plusRenewal(period: $p) { open } } }`
		for _, c := range []struct {
			name, query string
			vars        map[string]any
			argument    string
		}{
			{"to before from", period, map[string]any{"p": map[string]any{"from": "2026-11-01T00:00:00Z", "to": "2026-10-01T00:00:00Z"}}, "period.to"},
			{"empty period", renewal, map[string]any{"p": map[string]any{"from": "2026-11-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}}, "period.to"},
			{"over 366 days", period, map[string]any{"p": map[string]any{"from": "2024-11-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}}, "period.to"},
			{"from in the future", renewal, map[string]any{"p": map[string]any{"from": "2026-12-01T00:00:00Z", "to": "2027-01-01T00:00:00Z"}}, "period.from"},
			{"malformed time", period, map[string]any{"p": map[string]any{"from": "November", "to": "2027-01-01T00:00:00Z"}}, "period.from"},
			{"bucket width 0", `{ analytics { scoreDistribution(bucketWidth: 0) { members } } }`, nil, "bucketWidth"},
			{"bucket width too wide", `{ analytics { scoreDistribution(bucketWidth: 1000001) { members } } }`, nil, "bucketWidth"},
			{"what-if not from 0", `{ analytics { whatIf(input: {thresholds: [5, 1000, 2500, 4500, 7000]}) { members } } }`, nil, "input.thresholds.0"},
		} {
			r := a.do(admin, c.query, c.vars)
			if r.code() != "BAD_USER_INPUT" || len(r.Errors) != 1 || r.Errors[0].Extensions["argument"] != c.argument {
				t.Errorf("%s: %+v, want BAD_USER_INPUT on %s", c.name, r.Errors, c.argument)
			}
		}
	})
}

// TestAnalyticsRoles: analytics is ADMIN's only.
func TestAnalyticsRoles(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		ops := []string{`{ analytics { penetration { members } } }`, `{ analytics { pointsLiability { points } } }`}
		a.checkRoles(ops, map[auth.Role][]string{
			auth.RoleAdmin:   {"", ""},
			auth.RoleService: {"FORBIDDEN", "FORBIDDEN"},
			auth.RoleMember:  {"FORBIDDEN", "FORBIDDEN"},
			auth.RoleStore:   {"FORBIDDEN", "FORBIDDEN"},
			auth.RolePartner: {"FORBIDDEN", "FORBIDDEN"},
		})
	})
}

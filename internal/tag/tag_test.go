package tag_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent/auditentry"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/membertag"
	enttag "github.com/membergraph/membergraph/ent/tag"
	"github.com/membergraph/membergraph/ent/tier"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/events/payload"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/tag"
	"github.com/membergraph/membergraph/internal/tag/cond"
	"github.com/membergraph/membergraph/internal/usererr"
)

// The fixture's day: 2026-03-10 12:00 in Asia/Shanghai, the preset's zone.
var now = time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)

// world is six members with chosen profiles, orders, tiers, PLUS terms, scores and medal
// levels, so every condition kind has an answer worked out by hand:
//
//	    gender  born        channel       real  tier    PLUS         score  REVIEWS  orders (Shanghai dates)
//	m1  FEMALE  2000-03-10  WEB           yes   entry   –            7000   –        2025-12-20 ¥800 PHONES
//	m2  MALE    2000-03-11  APP           no    entry   –            –      –        2026-01-15 ¥300 PHONES, 2026-03-05 ¥250 BOOKS
//	m3  UNKNOWN –           STORE         no    GOLD    –            4500   –        –
//	m4  FEMALE  1960-01-01  MINI_PROGRAM  yes   entry   Mar 1–Apr 1  –      –        2026-02-01 ¥499.99 BOOKS
//	m5  MALE    2010-06-01  APP           no    entry   –            –      3        2026-03-09 ¥500 FOOD
//	m6  FEMALE  1990-12-31  WEB           no    GOLD    Jan 1–Feb 1  4499   1        –
type world struct {
	db     *store.DB
	clk    *clock.Manual
	ctx    context.Context // ADMIN "alice"
	pid    int
	tags   *tag.Service
	events *events.Service
	ids    map[string]int // externalId → member id
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{db: db, clk: clock.NewManual(now), ids: map[string]int{}}
	progs := program.NewService(db.Client)
	if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
		t.Fatal(err)
	}
	pid, err := progs.IDByKey(ctx, program.PresetKey)
	if err != nil {
		t.Fatal(err)
	}
	w.pid = pid
	w.ctx = auth.NewContext(ctx, auth.Viewer{Role: auth.RoleAdmin, Subject: "alice", ProgramID: pid})
	sys := auth.SystemContext(ctx, pid)
	ledger := points.NewLedger(db.Client, db.Dialect, w.clk, plus.NewChecker(db.Client))
	w.tags = tag.NewService(db.Client, w.clk, db.Dialect, tag.Config{PartitionSize: 2})
	w.events = events.NewService(db.Client, ledger, 0)
	w.events.AddCommitListener(w.tags.Touched)
	day := func(y int, m time.Month, d int) *time.Time { t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC); return &t }
	g := func(x member.Gender) *member.Gender { return &x }
	yes, no := true, false
	for _, p := range []struct {
		ext     string
		gender  member.Gender
		born    *time.Time
		channel member.RegistrationChannel
		real    bool
	}{
		{"m1", member.GenderFEMALE, day(2000, 3, 10), member.RegistrationChannelWEB, yes},
		{"m2", member.GenderMALE, day(2000, 3, 11), member.RegistrationChannelAPP, no},
		{"m3", member.GenderUNKNOWN, nil, member.RegistrationChannelSTORE, no},
		{"m4", member.GenderFEMALE, day(1960, 1, 1), member.RegistrationChannelMINI_PROGRAM, yes},
		{"m5", member.GenderMALE, day(2010, 6, 1), member.RegistrationChannelAPP, no},
		{"m6", member.GenderFEMALE, day(1990, 12, 31), member.RegistrationChannelWEB, no},
	} {
		real := p.real
		m, err := memberpkg.NewService(db.Client, w.clk).Register(w.ctx, memberpkg.Registration{ExternalID: p.ext, Channel: p.channel,
			Profile: memberpkg.Profile{Gender: g(p.gender), Birthday: p.born, RealNameVerified: &real}})
		if err != nil {
			t.Fatal(err)
		}
		w.ids[p.ext] = m.ID
	}
	shanghai := func(y int, m time.Month, d int) time.Time {
		return time.Date(y, m, d, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	}
	w.order(t, "m1", shanghai(2025, 12, 20), 80000, "PHONES")
	w.order(t, "m2", shanghai(2026, 1, 15), 30000, "PHONES")
	w.order(t, "m2", shanghai(2026, 3, 5), 25000, "BOOKS")
	w.order(t, "m4", shanghai(2026, 2, 1), 49999, "BOOKS")
	w.order(t, "m5", shanghai(2026, 3, 9), 50000, "FOOD")
	w.tags.Wait()

	gold, err := db.Client.Tier.Query().Where(tier.ProgramID(pid), tier.Key("GOLD")).Only(sys)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Client.Member.Update().Where(member.IDIn(w.ids["m3"], w.ids["m6"])).SetTierID(gold.ID).Exec(sys); err != nil {
		t.Fatal(err)
	}
	for ext, span := range map[string][2]time.Time{
		"m4": {time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		"m6": {time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if err := db.Client.PlusTerm.Create().SetProgramID(pid).SetMemberID(w.ids[ext]).SetPlan("ANNUAL").SetSource("TEST").
			SetStartAt(span[0]).SetEndAt(span[1]).SetPlannedEndAt(span[1]).SetIdempotencyKey("plus-" + ext).SetBodyHash("x").
			SetCreatedAt(span[0]).Exec(sys); err != nil {
			t.Fatal(err)
		}
	}
	for ext, score := range map[string]int64{"m1": 7000, "m3": 4500, "m6": 4499} {
		if err := db.Client.MemberScore.Create().SetProgramID(pid).SetMemberID(w.ids[ext]).SetSettled(score).Exec(sys); err != nil {
			t.Fatal(err)
		}
	}
	for ext, level := range map[string]int{"m5": 3, "m6": 1} {
		if err := db.Client.MemberMedal.Create().SetProgramID(pid).SetMemberID(w.ids[ext]).SetMedalKey("REVIEWS").SetLevel(level).
			SetUpdatedAt(now).Exec(sys); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

var orderSeq int

// order records a completed one-line order through the events service.
func (w *world) order(t *testing.T, ext string, at time.Time, cents int64, category string) {
	t.Helper()
	orderSeq++
	id := fmt.Sprintf("O%d", orderSeq)
	svc := auth.NewContext(context.Background(), auth.Viewer{Role: auth.RoleService, Subject: "shop", ProgramID: w.pid})
	res, err := w.events.Record(svc, []events.Input{{IdempotencyKey: "k-" + id, ExternalID: ext, Kind: payload.OrderCompleted,
		OccurredAt: at, Channel: "WEB", Body: payload.Body{OrderID: id, OrderType: "NORMAL", PaymentMethod: "CASH",
			Lines: []payload.Line{{SKU: "s" + id, Category: category, PaidCents: cents, ProductType: "PHYSICAL"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != events.Accepted {
		t.Fatalf("order %s of %s: %+v", id, ext, res[0])
	}
}

// holders lists the externalIds carrying tag key, sorted.
func (w *world) holders(t *testing.T, key string) []string {
	t.Helper()
	rows, err := w.db.Client.MemberTag.Query().Where(membertag.HasTagWith(enttag.Key(key))).WithMember().All(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, r := range rows {
		out = append(out, r.Edges.Member.ExternalID)
	}
	slices.Sort(out)
	return out
}

func i64(v int64) *int64 { return &v }
func flag(v bool) *bool  { return &v }

// TestRuleKinds: one rule per condition kind over the six members; the expected holders
// are worked by hand from the fixture's table (world).
func TestRuleKinds(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		for _, c := range []struct {
			key  string
			cond cond.Node
			want []string
		}{
			// Jan–Mar: m2 ¥300 + ¥250 = ¥550, m5 ¥500; m1's ¥800 is December's, m4 has ¥499.99.
			{"spend500", cond.Node{Field: cond.Spend, Min: i64(500), WindowMonths: 3}, []string{"m2", "m5"}},
			// Dec–Mar takes in m1's ¥800 too.
			{"spend500-4m", cond.Node{Field: cond.Spend, Min: i64(500), WindowMonths: 4}, []string{"m1", "m2", "m5"}},
			{"orders2", cond.Node{Field: cond.Orders, Min: i64(2), WindowMonths: 3}, []string{"m2"}},
			// Last orders: m5 Mar 9 (1 day), m2 Mar 5 (5), m4 Feb 1 (37), m1 Dec 20 (80).
			{"lapsed30", cond.Node{Field: cond.DaysSinceLastOrder, Min: i64(30)}, []string{"m1", "m4"}},
			{"recent5", cond.Node{Field: cond.DaysSinceLastOrder, Max: i64(5)}, []string{"m2", "m5"}},
			{"recent1", cond.Node{Field: cond.DaysSinceLastOrder, Min: i64(1), Max: i64(1)}, []string{"m5"}},
			// BOOKS share Jan–Mar: m2 250/550 = 45 %, m4 100 %; m5 is all FOOD.
			{"books40", cond.Node{Field: cond.CategoryShare, Category: "BOOKS", Min: i64(40), WindowMonths: 3}, []string{"m2", "m4"}},
			{"books-under50", cond.Node{Field: cond.CategoryShare, Category: "BOOKS", Max: i64(50), WindowMonths: 3}, []string{"m2", "m5"}},
			{"female", cond.Node{Field: cond.Gender, Values: []string{"FEMALE"}}, []string{"m1", "m4", "m6"}},
			// Completed years on 2026-03-10: m1 26 today, m2 25 (26 tomorrow), m4 66, m5 15, m6 35; m3 no birthday.
			{"age26", cond.Node{Field: cond.Age, Min: i64(26)}, []string{"m1", "m4", "m6"}},
			{"under26", cond.Node{Field: cond.Age, Max: i64(25)}, []string{"m2", "m5"}},
			{"app", cond.Node{Field: cond.RegistrationChannel, Values: []string{"APP"}}, []string{"m2", "m5"}},
			{"real", cond.Node{Field: cond.RealName, Flag: flag(true)}, []string{"m1", "m4"}},
			{"gold", cond.Node{Field: cond.Tier, Values: []string{"GOLD"}}, []string{"m3", "m6"}},
			// m6's term ended on Feb 1.
			{"plus", cond.Node{Field: cond.Plus, Flag: flag(true)}, []string{"m4"}},
			{"not-plus", cond.Node{Field: cond.Plus, Flag: flag(false)}, []string{"m1", "m2", "m3", "m5", "m6"}},
			{"score4500", cond.Node{Field: cond.Score, Min: i64(4500)}, []string{"m1", "m3"}},
			{"reviewer2", cond.Node{Field: cond.MedalLevel, Medal: "REVIEWS", Min: i64(2)}, []string{"m5"}},
			// AND / OR / NOT: female and (PLUS or score ≥ 4500) → m1 (7000), m4 (PLUS); not app and not female → m3.
			{"combo", cond.Node{And: []cond.Node{{Field: cond.Gender, Values: []string{"FEMALE"}},
				{Or: []cond.Node{{Field: cond.Plus, Flag: flag(true)}, {Field: cond.Score, Min: i64(4500)}}}}}, []string{"m1", "m4"}},
			{"neither", cond.Node{Not: &cond.Node{Or: []cond.Node{{Field: cond.RegistrationChannel, Values: []string{"APP"}},
				{Field: cond.Gender, Values: []string{"FEMALE"}}}}}, []string{"m3"}},
		} {
			name := "rule " + c.key
			if _, err := w.tags.CreateRule(w.ctx, tag.RuleInput{Key: c.key, Name: &name, Condition: &c.cond}); err != nil {
				t.Fatalf("%s: %v", c.key, err)
			}
			w.tags.Wait()
			if got := w.holders(t, c.key); !slices.Equal(got, c.want) {
				t.Errorf("%s: holders %v, want %v", c.key, got, c.want)
			}
		}
		// A day later m2 is 26 and every last order a day older: under26 keeps m5 only,
		// recent5 loses m2 (6 days), recent1 loses m5 (2 days).
		w.clk.Set(now.AddDate(0, 0, 1))
		if err := w.tags.EvaluateAll(w.ctx, w.pid); err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string][]string{"under26": {"m5"}, "age26": {"m1", "m2", "m4", "m6"}, "recent5": {"m5"}, "recent1": {}} {
			if got := w.holders(t, key); !slices.Equal(got, want) {
				t.Errorf("a day later, %s: holders %v, want %v", key, got, want)
			}
		}
	})
}

// TestRuleChangeAndEvents: a rule change re-evaluates everyone; an event batch re-tags the
// members it touched once it committed; a since stays while the tag holds.
func TestRuleChangeAndEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		name := "Big spenders"
		c := cond.Node{Field: cond.Spend, Min: i64(500), WindowMonths: 3}
		if _, err := w.tags.CreateRule(w.ctx, tag.RuleInput{Key: "big", Name: &name, Condition: &c}); err != nil {
			t.Fatal(err)
		}
		w.tags.Wait()
		if got := w.holders(t, "big"); !slices.Equal(got, []string{"m2", "m5"}) {
			t.Fatalf("holders %v", got)
		}
		// m4's ¥1 order today brings Jan–Mar to ¥500.99: the batch's commit re-tags m4.
		w.clk.Set(now.Add(time.Hour))
		w.order(t, "m4", now.Add(time.Hour), 100, "FOOD")
		w.tags.Wait()
		if got := w.holders(t, "big"); !slices.Equal(got, []string{"m2", "m4", "m5"}) {
			t.Fatalf("after m4's order: holders %v, want [m2 m4 m5]", got)
		}
		// ≥ ¥800 over Dec–Mar: m1 (¥800) alone.
		c2 := cond.Node{Field: cond.Spend, Min: i64(800), WindowMonths: 4}
		w.clk.Set(now.Add(2 * time.Hour))
		r, err := w.tags.UpdateRule(w.ctx, tag.RuleInput{Key: "big", Condition: &c2})
		if err != nil {
			t.Fatal(err)
		}
		w.tags.Wait()
		if got := w.holders(t, "big"); !slices.Equal(got, []string{"m1"}) {
			t.Fatalf("after the change: holders %v, want [m1]", got)
		}
		if r.Version != 2 {
			t.Errorf("version %d, want 2", r.Version)
		}
		tags, err := w.tags.Of(w.ctx, w.ids["m1"])
		if err != nil {
			t.Fatal(err)
		}
		if len(tags) != 1 || !tags[0].Since.Equal(now.Add(2*time.Hour)) || tags[0].SetBy != "RULE:v2" || tags[0].Source != membertag.SourceRULE {
			t.Errorf("m1's tags %+v", tags)
		}
		n, err := db.Client.AuditEntry.Query().Where(auditentry.ActionIn("tagRule.create", "tagRule.update")).Count(w.ctx)
		if err != nil || n != 2 {
			t.Errorf("%d audit entries of the rule (%v), want 2", n, err)
		}
	})
}

// TestManualTags: who, when and why are kept; tagging again and untagging twice change
// nothing more; an AUTO tag cannot be set by hand; bad input names its field.
func TestManualTags(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		got, err := w.tags.TagMember(w.ctx, "m1", "vip", "", "met at the store opening")
		if err != nil {
			t.Fatal(err)
		}
		if got.SetBy != "ADMIN:alice" || !got.Since.Equal(now) || got.Reason != "met at the store opening" || got.Name != "vip" {
			t.Errorf("tagged %+v", got)
		}
		w.clk.Set(now.Add(time.Hour))
		again, err := w.tags.TagMember(w.ctx, "m1", "vip", "", "again")
		if err != nil || !again.Since.Equal(now) || again.Reason != "met at the store opening" {
			t.Errorf("a repeat changed the tag: %+v %v", again, err)
		}
		name := "Big"
		if _, err := w.tags.CreateRule(w.ctx, tag.RuleInput{Key: "big", Name: &name, Condition: &cond.Node{Field: cond.Spend, Min: i64(500), WindowMonths: 3}}); err != nil {
			t.Fatal(err)
		}
		w.tags.Wait()
		if _, err := w.tags.TagMember(w.ctx, "m1", "big", "", "why not"); !hasCode(err, usererr.FailedPrecondition, "input.tag") {
			t.Errorf("setting an AUTO tag by hand: %v", err)
		}
		if _, err := w.tags.TagMember(w.ctx, "m1", "vip", "", ""); !hasCode(err, usererr.InvalidArgument, "input.reason") {
			t.Errorf("no reason: %v", err)
		}
		if _, err := w.tags.TagMember(w.ctx, "nobody", "vip", "", "x"); !hasCode(err, usererr.NotFound, "input.externalId") {
			t.Errorf("unknown member: %v", err)
		}
		for i, want := range []bool{true, false} {
			removed, err := w.tags.UntagMember(w.ctx, "m1", "vip", "left the programme")
			if err != nil || removed != want {
				t.Errorf("untag %d: removed %v (%v), want %v", i, removed, err, want)
			}
		}
		if got := w.holders(t, "vip"); len(got) != 0 {
			t.Errorf("vip still held by %v", got)
		}
		n, err := db.Client.AuditEntry.Query().Where(auditentry.ActionIn("tag.set", "tag.remove"), auditentry.Actor("ADMIN:alice")).Count(w.ctx)
		if err != nil || n != 2 {
			t.Errorf("%d audit entries of the manual tag (%v), want 2 (one set, one removal)", n, err)
		}
	})
}

func hasCode(err error, code usererr.Code, field string) bool {
	l, ok := usererr.From(err)
	if !ok {
		return false
	}
	for _, e := range l {
		if e.Code == code && fmt.Sprint(e.Field) == fmt.Sprint(splitDots(field)) {
			return true
		}
	}
	return false
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// Package medal is the medals of docs/domain.md §6: 21 category medals levelled by spend in
// their category and five behaviour medals levelled by counts, each over the last 12 months.
// Levels rise and fall in the transaction of the event that moves them, a daily job lowers
// the levels old activity no longer holds up, every change is recorded, and each level's
// benefits are granted once.
package medal

import (
	"context"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/activitymonth"
	"github.com/membergraph/membergraph/ent/benefit"
	"github.com/membergraph/membergraph/ent/benefitclaim"
	"github.com/membergraph/membergraph/ent/categorymonth"
	"github.com/membergraph/membergraph/ent/membermedal"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/score/formula"
	"github.com/membergraph/membergraph/internal/store"
)

// WindowMonths is how many programme-local months the levels follow: this one and the 11
// before it.
const WindowMonths = 12

// The behaviour medals and what each counts.
const (
	Orders       = "ORDERS"
	Reviews      = "REVIEWS"
	PhotoReviews = "PHOTO_REVIEWS"
	Answers      = "ANSWERS"
	CheckIns     = "CHECK_INS"
)

// Behaviours are the behaviour medals' keys.
var Behaviours = []string{Orders, Reviews, PhotoReviews, Answers, CheckIns}

// Levels is how many levels a medal has.
const Levels = 5

// Catalogue is a programme's medals, in catalogue order.
type Catalogue []*ent.Medal

// Load reads the catalogue of the viewer's programme: categories first, then behaviours.
func Load(ctx context.Context, client *ent.Client) (Catalogue, error) {
	ms, err := client.Medal.Query().Order(store.MedalOrder()...).All(ctx)
	return Catalogue(ms), err
}

// ByKey finds a medal.
func (c Catalogue) ByKey(key string) *ent.Medal {
	for _, m := range c {
		if m.Key == key {
			return m
		}
	}
	return nil
}

// Level is the level value reaches under thresholds: how many it meets.
func Level(thresholds []int64, value int64) int {
	n := 0
	for _, t := range thresholds {
		if value < t {
			break
		}
		n++
	}
	return n
}

// Window is the months the levels follow at now.
func Window(now time.Time, loc *time.Location) (from, to formula.Month) {
	to = formula.MonthOf(now, loc)
	return to.Add(1 - WindowMonths), to
}

// Affected are the medals an event can move: its lines' categories and ORDERS for orders
// and refunds (refunded are the refunded lines), the matching count for the others.
func Affected(kind payload.Kind, lines []payload.Line) []string {
	switch kind {
	case payload.OrderCompleted, payload.OrderRefunded:
		keys := []string{Orders}
		for _, l := range lines {
			if !slices.Contains(keys, l.Category) {
				keys = append(keys, l.Category)
			}
		}
		return keys
	case payload.ReviewPosted:
		return []string{Reviews}
	case payload.PhotoReviewPosted:
		return []string{PhotoReviews}
	case payload.QuestionAnswered:
		return []string{Answers}
	case payload.CheckIn:
		return []string{CheckIns}
	}
	return nil
}

// Values are members' progress per medal key: yuan for categories, counts for behaviours.
type Values map[int]map[string]int64

// progressRow is one row of the progress query: a member's spend in a category (src "C",
// V[0] the cents), its counts of every behaviour (src "B", V[i] the count of Behaviours[i])
// or a level it holds (src "L", V[0] the level).
type progressRow struct {
	MemberID int    `sql:"member_id"`
	Src      string `sql:"src"`
	Key      string `sql:"k"`
	V0       int64  `sql:"v0"`
	V1       int64  `sql:"v1"`
	V2       int64  `sql:"v2"`
	V3       int64  `sql:"v3"`
	V4       int64  `sql:"v4"`
}

// behaviourColumns are the activity counters each behaviour medal sums.
var behaviourColumns = map[string]string{
	Orders: activitymonth.FieldOrders, Reviews: activitymonth.FieldReviews, PhotoReviews: activitymonth.FieldPhotoReviews,
	Answers: activitymonth.FieldAnswers, CheckIns: activitymonth.FieldCheckIns,
}

// values reads the progress of members over the months from..to, and the levels they hold
// of the medals held, in one statement however many medals and members: the category spend,
// each behaviour's count and the levels are arms of one UNION ALL, summed by the database.
// The first arm is the members' category months as the viewer may read them (cats is a
// client's or a transaction's); the others read the same members' rows.
func values(ctx context.Context, cats *ent.CategoryMonthClient, members []int, from, to formula.Month, held []string) (Values, map[int]map[string]int, error) {
	p, err := loadProgress(ctx, cats, members, from, to, held)
	if err != nil {
		return nil, nil, err
	}
	out := Values{}
	for id, cents := range p.Cents {
		out[id] = map[string]int64{}
		for k, c := range cents {
			out[id][k] = yuan(c)
		}
		for k, n := range p.Counts[id] {
			out[id][k] = n
		}
	}
	return out, p.Levels, nil
}

// loadProgress is values' statement, the category spend kept in cents so that a batch can
// add its own events' cents before it rounds. Its first arm is the members' category months
// as the viewer may read them, through ent.
func loadProgress(ctx context.Context, cats *ent.CategoryMonthClient, members []int, from, to formula.Month, held []string) (*Progress, error) {
	var rows []progressRow
	err := cats.Query().Where(categorymonth.MemberIDIn(members...),
		categorymonth.MonthGTE(int(from)), categorymonth.MonthLTE(int(to))).
		Modify(func(s *sql.Selector) { progressArms(s, members, from, to, held) }).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	return progressOf(members, rows), nil
}

// progressArms makes s, a selector of the members' category months over from..to, the
// progress statement: its category spend by member and category, then, UNION ALL, the
// members' behaviour counts and the levels they hold of the medals held. The behaviours'
// counts are one arm summing every counter column, so that activity_months is read once
// rather than once per behaviour; the other arms fill its extra columns with 0.
func progressArms(s *sql.Selector, members []int, from, to formula.Month, held []string) {
	ids := make([]any, len(members))
	for i, id := range members {
		ids[i] = id
	}
	zeros := func(from int) []string {
		var out []string
		for i := from; i < len(Behaviours); i++ {
			out = append(out, fmt.Sprintf("0 AS v%d", i))
		}
		return out
	}
	s.Select(append([]string{s.C(categorymonth.FieldMemberID), "'C' AS src", sql.As(s.C(categorymonth.FieldCategory), "k"),
		sql.As(sql.Sum(s.C(categorymonth.FieldSpendCents)), "v0")}, zeros(1)...)...).
		GroupBy(s.C(categorymonth.FieldMemberID), s.C(categorymonth.FieldCategory))
	d := sql.Dialect(s.Dialect())
	t := sql.Table(activitymonth.Table)
	counts := []string{t.C(activitymonth.FieldMemberID), "'B' AS src", "'' AS k"}
	for i, key := range Behaviours {
		counts = append(counts, sql.As(sql.Sum(t.C(behaviourColumns[key])), fmt.Sprintf("v%d", i)))
	}
	s.UnionAll(d.Select(counts...).From(t).
		Where(sql.And(sql.In(t.C(activitymonth.FieldMemberID), ids...),
			sql.GTE(t.C(activitymonth.FieldMonth), int(from)), sql.LTE(t.C(activitymonth.FieldMonth), int(to)))).
		GroupBy(t.C(activitymonth.FieldMemberID)))
	if len(held) > 0 {
		t := sql.Table(membermedal.Table)
		keys := make([]any, len(held))
		for i, k := range held {
			keys[i] = k
		}
		s.UnionAll(d.Select(append([]string{t.C(membermedal.FieldMemberID), "'L' AS src", sql.As(t.C(membermedal.FieldMedalKey), "k"),
			sql.As(t.C(membermedal.FieldLevel), "v0")}, zeros(1)...)...).From(t).
			Where(sql.And(sql.In(t.C(membermedal.FieldMemberID), ids...), sql.In(t.C(membermedal.FieldMedalKey), keys...))))
	}
}

// progressOf is the members' progress from the rows of the progress statement.
func progressOf(members []int, rows []progressRow) *Progress {
	p := &Progress{Cents: map[int]map[string]int64{}, Counts: map[int]map[string]int64{}, Levels: map[int]map[string]int{}}
	for _, id := range members {
		p.Cents[id], p.Counts[id], p.Levels[id] = map[string]int64{}, map[string]int64{}, map[string]int{}
	}
	for _, row := range rows {
		switch row.Src {
		case "C":
			p.Cents[row.MemberID][row.Key] = row.V0
		case "B":
			for i, n := range [...]int64{row.V0, row.V1, row.V2, row.V3, row.V4} {
				p.Counts[row.MemberID][Behaviours[i]] = n
			}
		case "L":
			p.Levels[row.MemberID][row.Key] = int(row.V0)
		}
	}
	return p
}

// yuan is a category medal's value of a spend in cents: whole yuan, never below zero.
func yuan(cents int64) int64 { return max(cents, 0) / 100 }

// Evaluate brings the member's levels of the medals keys up to date inside tx, which holds
// the member's lock: a change is stored and recorded, and the benefits of each level
// reached for the first time are granted. It returns how many levels changed.
func Evaluate(ctx context.Context, tx *ent.Tx, cat Catalogue, programID, memberID int, now time.Time, loc *time.Location, keys []string) (int, error) {
	var medals []*ent.Medal
	for _, k := range keys {
		if m := cat.ByKey(k); m != nil {
			medals = append(medals, m)
		}
	}
	if len(medals) == 0 {
		return 0, nil
	}
	from, to := Window(now, loc)
	vals, held, err := values(ctx, tx.CategoryMonth, []int{memberID}, from, to, keys)
	if err != nil {
		return 0, err
	}
	levels := held[memberID]
	changed := 0
	for _, m := range medals {
		old, level := levels[m.Key], Level(m.Thresholds, vals[memberID][m.Key])
		if old == level {
			continue
		}
		changed++
		if err := record(ctx, tx, m, programID, memberID, old, level, vals[memberID][m.Key], now); err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// record stores a level change, its history entry and, going up, the benefits of the levels
// reached; a benefit's claim key names member, medal and level, so it is granted once ever.
func record(ctx context.Context, tx *ent.Tx, m *ent.Medal, programID, memberID, from, to int, value int64, now time.Time) error {
	err := tx.MemberMedal.Create().SetProgramID(programID).SetMemberID(memberID).SetMedalKey(m.Key).
		SetLevel(to).SetUpdatedAt(now).
		OnConflictColumns(membermedal.FieldMemberID, membermedal.FieldMedalKey).
		Update(func(u *ent.MemberMedalUpsert) { u.UpdateLevel().UpdateUpdatedAt() }).Exec(ctx)
	if err != nil {
		return err
	}
	change := Change{Medal: m, MemberID: memberID, From: from, To: to, Value: value}
	err = tx.MedalChange.Create().SetProgramID(programID).SetMemberID(memberID).SetMedalKey(m.Key).
		SetFromLevel(from).SetToLevel(to).SetReason(change.Reason()).SetCreatedAt(now).Exec(ctx)
	if err == nil {
		err = outbox.Write(ctx, tx, Messages(programID, []Change{change}, now))
	}
	if err != nil || to < from {
		return err
	}
	granted := change.Claims()
	if len(granted) == 0 {
		return nil
	}
	var keys []string
	for _, c := range granted {
		keys = append(keys, c.Benefit)
	}
	catalogue, err := tx.Benefit.Query().Where(benefit.KeyIn(keys...)).All(ctx)
	if err != nil {
		return err
	}
	ids := map[string]int{}
	for _, b := range catalogue {
		ids[b.Key] = b.ID
	}
	var claims []*ent.BenefitClaimCreate
	for _, c := range granted {
		id, ok := ids[c.Benefit]
		if !ok {
			return fmt.Errorf("benefit %q of medal %s is not in the catalogue", c.Benefit, m.Key)
		}
		claims = append(claims, tx.BenefitClaim.Create().SetProgramID(programID).SetMemberID(memberID).SetBenefitID(id).
			SetIdempotencyKey(c.Key).SetPeriod("").SetSource(benefitclaim.SourceMEDAL).SetClaimedAt(now))
	}
	return tx.BenefitClaim.CreateBulk(claims...).
		OnConflictColumns(benefitclaim.FieldProgramID, benefitclaim.FieldIdempotencyKey).DoNothing().Exec(ctx)
}

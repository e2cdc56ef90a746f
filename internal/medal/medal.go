// Package medal is the medals of DOMAIN.md §6: 21 category medals levelled by spend in
// their category and five behaviour medals levelled by counts, each over the last 12 months.
// Levels rise and fall in the transaction of the event that moves them, a daily job lowers
// the levels old activity no longer holds up, every change is recorded, and each level's
// benefits are granted once.
package medal

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/activitymonth"
	"github.com/membergraph/membergraph/ent/benefit"
	"github.com/membergraph/membergraph/ent/benefitclaim"
	"github.com/membergraph/membergraph/ent/categorymonth"
	entmedal "github.com/membergraph/membergraph/ent/medal"
	"github.com/membergraph/membergraph/ent/membermedal"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/score/formula"
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
	ms, err := client.Medal.Query().Order(ent.Asc(entmedal.FieldID)).All(ctx)
	// Sorted here: SQLite orders the enum as text, MySQL by its position.
	slices.SortStableFunc(ms, func(a, b *ent.Medal) int {
		return cmp.Compare(kindRank(a.Kind), kindRank(b.Kind))
	})
	return Catalogue(ms), err
}

func kindRank(k entmedal.Kind) int {
	if k == entmedal.KindCATEGORY {
		return 0
	}
	return 1
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

// reader is what both a client and a transaction offer for reading counters.
type reader struct {
	activity *ent.ActivityMonthClient
	category *ent.CategoryMonthClient
}

// Values are members' progress per medal key: yuan for categories, counts for behaviours.
type Values map[int]map[string]int64

// values reads the progress of members over the months from..to: one query for the
// category spend and one for the counts, however many medals and members.
func values(ctx context.Context, r reader, members []int, from, to formula.Month) (Values, error) {
	out := Values{}
	for _, id := range members {
		out[id] = map[string]int64{}
	}
	cats, err := r.category.Query().Where(categorymonth.MemberIDIn(members...),
		categorymonth.MonthGTE(int(from)), categorymonth.MonthLTE(int(to))).All(ctx)
	if err != nil {
		return nil, err
	}
	cents := map[int]map[string]int64{}
	for _, c := range cats {
		if cents[c.MemberID] == nil {
			cents[c.MemberID] = map[string]int64{}
		}
		cents[c.MemberID][c.Category] += c.SpendCents
	}
	for id, byCat := range cents {
		for cat, v := range byCat {
			out[id][cat] = max(v, 0) / 100
		}
	}
	months, err := r.activity.Query().Where(activitymonth.MemberIDIn(members...),
		activitymonth.MonthGTE(int(from)), activitymonth.MonthLTE(int(to))).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range months {
		v := out[m.MemberID]
		v[Orders] += int64(m.Orders)
		v[Reviews] += int64(m.Reviews)
		v[PhotoReviews] += int64(m.PhotoReviews)
		v[Answers] += int64(m.Answers)
		v[CheckIns] += int64(m.CheckIns)
	}
	return out, nil
}

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
	vals, err := values(ctx, reader{tx.ActivityMonth, tx.CategoryMonth}, []int{memberID}, from, to)
	if err != nil {
		return 0, err
	}
	held, err := tx.MemberMedal.Query().Where(membermedal.MemberID(memberID), membermedal.MedalKeyIn(keys...)).All(ctx)
	if err != nil {
		return 0, err
	}
	levels := map[string]int{}
	for _, h := range held {
		levels[h.MedalKey] = h.Level
	}
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
	unit := "yuan spent"
	if m.Kind == entmedal.KindBEHAVIOR {
		unit = "counted"
	}
	reason := fmt.Sprintf("%s: %d %s in the last %d months reaches level %d", m.Name, value, unit, WindowMonths, to)
	if to < from {
		reason = fmt.Sprintf("%s: %d %s in the last %d months is below level %d", m.Name, value, unit, WindowMonths, from)
	}
	err = tx.MedalChange.Create().SetProgramID(programID).SetMemberID(memberID).SetMedalKey(m.Key).
		SetFromLevel(from).SetToLevel(to).SetReason(reason).SetCreatedAt(now).Exec(ctx)
	if err != nil || to < from {
		return err
	}
	var keys []string
	for level := from + 1; level <= min(to, len(m.LevelBenefits)); level++ {
		keys = append(keys, m.LevelBenefits[level-1]...)
	}
	if len(keys) == 0 {
		return nil
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
	for level := from + 1; level <= min(to, len(m.LevelBenefits)); level++ {
		for _, key := range m.LevelBenefits[level-1] {
			id, ok := ids[key]
			if !ok {
				return fmt.Errorf("benefit %q of medal %s is not in the catalogue", key, m.Key)
			}
			claims = append(claims, tx.BenefitClaim.Create().SetProgramID(programID).SetMemberID(memberID).SetBenefitID(id).
				SetIdempotencyKey(fmt.Sprintf("medal:%d:%s:%d:%s", memberID, m.Key, level, key)).SetPeriod("").
				SetSource(benefitclaim.SourceMEDAL).SetClaimedAt(now))
		}
	}
	return tx.BenefitClaim.CreateBulk(claims...).
		OnConflictColumns(benefitclaim.FieldProgramID, benefitclaim.FieldIdempotencyKey).DoNothing().Exec(ctx)
}

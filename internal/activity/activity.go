// Package activity keeps what the score and the medals count: one row of counters per member
// and programme-local month (and one per month and category for the spend), moved in the
// transaction of the event that changes them, and the account facts (real name, bound
// accounts, risk signals) that events report. A score reads a dozen rows instead of a year
// of events.
package activity

import (
	"context"
	"slices"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/activitymonth"
	"github.com/membergraph/membergraph/ent/categorymonth"
	"github.com/membergraph/membergraph/ent/event"
	"github.com/membergraph/membergraph/ent/memberscore"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/score/formula"
)

// Event is an accepted event as the counters see it.
type Event struct {
	ProgramID  int
	MemberID   int
	Kind       payload.Kind
	OccurredAt time.Time
	Body       payload.Body
	// Repeat: the event repeats one already counted (a second review of the same line, a
	// second check-in the same day); it is stored but adds nothing.
	Repeat bool
}

// delta is a change of one month's counters.
type delta struct {
	spend                           int64
	orders, completed, refunded     int
	purchaseDay, loginDay           int64 // bits to set
	reviews, photos, answers, share int
	checkIns                        int
}

// Count moves the counters and account facts for an accepted event, inside tx (which holds
// the member's lock). Refunds go through Refund.
func Count(ctx context.Context, tx *ent.Tx, loc *time.Location, ev Event) error {
	day := dayBit(ev.OccurredAt, loc)
	var d delta
	switch ev.Kind {
	case payload.OrderCompleted:
		for _, l := range ev.Body.Lines {
			d.spend += l.PaidCents
		}
		d.orders, d.completed, d.purchaseDay = 1, 1, day
		if err := categories(ctx, tx, ev.ProgramID, ev.MemberID, formula.MonthOf(ev.OccurredAt, loc), ev.Body.Lines, 1); err != nil {
			return err
		}
	case payload.Login, payload.AppOpened:
		d.loginDay = day
	case payload.ReviewPosted:
		d.reviews = one(!ev.Repeat)
	case payload.PhotoReviewPosted:
		d.photos = one(!ev.Repeat)
	case payload.QuestionAnswered:
		d.answers = 1
	case payload.ProductShared:
		d.share = 1
	case payload.CheckIn:
		d.checkIns = one(!ev.Repeat)
	case payload.AccountVerified:
		return tx.Member.UpdateOneID(ev.MemberID).SetRealNameVerified(true).Exec(ctx)
	case payload.AccountBound:
		m, err := tx.Member.Get(ctx, ev.MemberID)
		if err != nil || slices.Contains(m.BoundAccounts, ev.Body.Provider) || len(m.BoundAccounts) >= member.MaxBoundAccounts {
			return err
		}
		return tx.Member.UpdateOne(m).AppendBoundAccounts([]string{ev.Body.Provider}).Exec(ctx)
	case payload.RiskUpdated:
		return risk(ctx, tx, ev)
	default:
		return nil
	}
	return apply(ctx, tx, ev.ProgramID, ev.MemberID, formula.MonthOf(ev.OccurredAt, loc), d)
}

// Refund moves the counters of the month the refunded order was completed in: its refunded
// lines stop counting as spend; its first refund counts it among refunded orders; refunded
// in full it stops counting as an order, and its day stops counting as a purchase day unless
// another order of that day still stands.
func Refund(ctx context.Context, tx *ent.Tx, loc *time.Location, order *ent.Event, skus, refundedBefore []string) error {
	var d delta
	for _, l := range order.Body.Lines {
		if slices.Contains(skus, l.SKU) {
			d.spend -= l.PaidCents
		}
	}
	if len(refundedBefore) == 0 {
		d.refunded = 1
	}
	full := func(lines []payload.Line, refunded []string) bool {
		for _, l := range lines {
			if !slices.Contains(refunded, l.SKU) {
				return false
			}
		}
		return true
	}
	month := formula.MonthOf(order.OccurredAt, loc)
	var refunded []payload.Line
	for _, l := range order.Body.Lines {
		if slices.Contains(skus, l.SKU) {
			refunded = append(refunded, l)
		}
	}
	if err := categories(ctx, tx, order.ProgramID, order.MemberID, month, refunded, -1); err != nil {
		return err
	}
	if full(order.Body.Lines, append(slices.Clone(refundedBefore), skus...)) {
		d.orders = -1
		standing, err := standingOrderOnDay(ctx, tx, loc, order, full)
		if err != nil {
			return err
		}
		if !standing {
			return applyClearingDay(ctx, tx, order.ProgramID, order.MemberID, month, d, dayBit(order.OccurredAt, loc))
		}
	}
	return apply(ctx, tx, order.ProgramID, order.MemberID, month, d)
}

// standingOrderOnDay reports whether another order of the member completed the same
// programme-local day is not refunded in full.
func standingOrderOnDay(ctx context.Context, tx *ent.Tx, loc *time.Location, order *ent.Event, full func([]payload.Line, []string) bool) (bool, error) {
	l := order.OccurredAt.In(loc)
	start := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	others, err := tx.Event.Query().Where(event.MemberID(order.MemberID), event.KindEQ(event.KindORDER_COMPLETED),
		event.OccurredAtGTE(start.UTC()), event.OccurredAtLT(start.AddDate(0, 0, 1).UTC()), event.IDNEQ(order.ID)).All(ctx)
	if err != nil || len(others) == 0 {
		return false, err
	}
	ids := make([]string, len(others))
	for i, o := range others {
		ids[i] = o.OrderID
	}
	refunds, err := tx.Event.Query().Where(event.MemberID(order.MemberID), event.KindEQ(event.KindORDER_REFUNDED), event.OrderIDIn(ids...)).All(ctx)
	if err != nil {
		return false, err
	}
	for _, o := range others {
		var refunded []string
		for _, r := range refunds {
			if r.OrderID == o.OrderID {
				refunded = append(refunded, r.Body.SKUs...)
			}
		}
		if !full(o.Body.Lines, refunded) {
			return true, nil
		}
	}
	return false, nil
}

func apply(ctx context.Context, tx *ent.Tx, programID, memberID int, month formula.Month, d delta) error {
	if d == (delta{}) {
		return nil // nothing to move; an upsert without assignments is not valid SQL
	}
	return upsert(ctx, tx, programID, memberID, month, d, func(u *ent.ActivityMonthUpsert) {
		orBits(u, activitymonth.FieldPurchaseDays, d.purchaseDay)
	})
}

func applyClearingDay(ctx context.Context, tx *ent.Tx, programID, memberID int, month formula.Month, d delta, day int64) error {
	return upsert(ctx, tx, programID, memberID, month, d, func(u *ent.ActivityMonthUpsert) {
		u.Set(activitymonth.FieldPurchaseDays, sql.ExprFunc(func(b *sql.Builder) {
			b.Ident(u.Table().C(activitymonth.FieldPurchaseDays)).WriteString(" & ").Arg(^day)
		}))
	})
}

// upsert adds d to the month's row in one statement, creating the row on the month's first
// event; days are bit sets, OR-ed in so a day counts once however many events it has.
func upsert(ctx context.Context, tx *ent.Tx, programID, memberID int, month formula.Month, d delta, days func(*ent.ActivityMonthUpsert)) error {
	return tx.ActivityMonth.Create().SetProgramID(programID).SetMemberID(memberID).SetMonth(int(month)).
		SetSpendCents(d.spend).SetOrders(d.orders).SetCompletedOrders(d.completed).SetRefundedOrders(d.refunded).
		SetPurchaseDays(d.purchaseDay).SetLoginDays(d.loginDay).SetReviews(d.reviews).SetPhotoReviews(d.photos).
		SetAnswers(d.answers).SetShares(d.share).SetCheckIns(d.checkIns).
		OnConflictColumns(activitymonth.FieldMemberID, activitymonth.FieldMonth).
		Update(func(u *ent.ActivityMonthUpsert) {
			add := func(field string, v int64) {
				if v != 0 {
					u.Add(field, v)
				}
			}
			add(activitymonth.FieldSpendCents, d.spend)
			add(activitymonth.FieldOrders, int64(d.orders))
			add(activitymonth.FieldCompletedOrders, int64(d.completed))
			add(activitymonth.FieldRefundedOrders, int64(d.refunded))
			add(activitymonth.FieldReviews, int64(d.reviews))
			add(activitymonth.FieldPhotoReviews, int64(d.photos))
			add(activitymonth.FieldAnswers, int64(d.answers))
			add(activitymonth.FieldShares, int64(d.share))
			add(activitymonth.FieldCheckIns, int64(d.checkIns))
			orBits(u, activitymonth.FieldLoginDays, d.loginDay)
			days(u)
		}).Exec(ctx)
}

func orBits(u *ent.ActivityMonthUpsert, field string, v int64) {
	if v == 0 {
		return
	}
	u.Set(field, sql.ExprFunc(func(b *sql.Builder) {
		b.Ident(u.Table().C(field)).WriteString(" | ").Arg(v)
	}))
}

// categories adds sign × the lines' paid amounts to the month's spend per category, for
// the category medals, in one statement.
func categories(ctx context.Context, tx *ent.Tx, programID, memberID int, month formula.Month, lines []payload.Line, sign int64) error {
	spend := map[string]int64{}
	var order []string
	for _, l := range lines {
		if _, seen := spend[l.Category]; !seen {
			order = append(order, l.Category)
		}
		spend[l.Category] += sign * l.PaidCents
	}
	if len(order) == 0 {
		return nil
	}
	bulk := make([]*ent.CategoryMonthCreate, len(order))
	for i, c := range order {
		bulk[i] = tx.CategoryMonth.Create().SetProgramID(programID).SetMemberID(memberID).SetMonth(int(month)).
			SetCategory(c).SetSpendCents(spend[c])
	}
	return tx.CategoryMonth.CreateBulk(bulk...).OnConflict(
		sql.ConflictColumns(categorymonth.FieldMemberID, categorymonth.FieldMonth, categorymonth.FieldCategory),
		sql.ResolveWith(func(u *sql.UpdateSet) {
			col := categorymonth.FieldSpendCents
			u.Set(col, sql.ExprFunc(func(b *sql.Builder) {
				// The row's amount plus the one this insert proposed.
				b.Ident(u.Table().C(col)).WriteString(" + ")
				if b.Dialect() == dialect.MySQL {
					b.WriteString("VALUES(").Ident(col).WriteString(")")
				} else {
					b.WriteString("excluded.").Ident(col)
				}
			}))
		}),
	).Exec(ctx)
}

// risk keeps the latest reputation and credit signals on the member's score row.
func risk(ctx context.Context, tx *ent.Tx, ev Event) error {
	c := tx.MemberScore.Create().SetProgramID(ev.ProgramID).SetMemberID(ev.MemberID).
		SetNillableReputation(ev.Body.Reputation).SetNillableCredit(ev.Body.Credit)
	return c.OnConflictColumns(memberscore.FieldMemberID).Update(func(u *ent.MemberScoreUpsert) {
		if ev.Body.Reputation != nil {
			u.SetReputation(*ev.Body.Reputation)
		}
		if ev.Body.Credit != nil {
			u.SetCredit(*ev.Body.Credit)
		}
	}).Exec(ctx)
}

// dayBit is the bit of t's programme-local day of the month.
func dayBit(t time.Time, loc *time.Location) int64 { return 1 << (t.In(loc).Day() - 1) }

func one(b bool) int {
	if b {
		return 1
	}
	return 0
}

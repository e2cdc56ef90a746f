package score

import (
	"context"
	"database/sql"
	"encoding/json"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/activitymonth"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/memberscore"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/score/formula"
)

// scoreRow is a row of loadOf: the member's score row (its columns null when the member was
// never settled) beside one month of its counters (null when it has none in the window).
type scoreRow struct {
	ScoreID              sql.NullInt64  `json:"score_id"`
	Settled              sql.NullInt64  `json:"settled"`
	Period               sql.NullInt64  `json:"period"`
	SettledAt            sql.NullTime   `json:"settled_at"`
	Breakdown            sql.NullString `json:"breakdown"`
	Reputation           sql.NullInt64  `json:"reputation"`
	Credit               sql.NullInt64  `json:"credit"`
	CountedThrough       sql.NullInt64  `json:"counted_through"`
	AccountPointsCounted sql.NullInt64  `json:"account_points_counted"`
	SettlementRun        sql.NullInt64  `json:"settlement_run"`
	Month                sql.NullInt64  `json:"month"`
	SpendCents           sql.NullInt64  `json:"spend_cents"`
	Orders               sql.NullInt64  `json:"orders"`
	CompletedOrders      sql.NullInt64  `json:"completed_orders"`
	RefundedOrders       sql.NullInt64  `json:"refunded_orders"`
	PurchaseDays         sql.NullInt64  `json:"purchase_days"`
	LoginDays            sql.NullInt64  `json:"login_days"`
	Reviews              sql.NullInt64  `json:"reviews"`
	PhotoReviews         sql.NullInt64  `json:"photo_reviews"`
	Answers              sql.NullInt64  `json:"answers"`
	Shares               sql.NullInt64  `json:"shares"`
}

// loadOf reads in one statement what Of needs of member m: its score row (nil before the
// first settlement) and its counters of the months from the window's first through to. The
// window is window's, in SQL: rolling, the WindowMonths before to's next month; cumulative,
// the months after the last one counted (every month before the first settlement).
func (s *Service) loadOf(ctx context.Context, m *ent.Member, sr rules.Score, to formula.Month) (*ent.MemberScore, []*ent.ActivityMonth, error) {
	var rows []scoreRow
	err := s.client.Member.Query().Where(member.ID(m.ID)).Modify(func(q *entsql.Selector) {
		sc, am := entsql.Table(memberscore.Table).As("sc"), entsql.Table(activitymonth.Table).As("am")
		from := entsql.GTE(am.C(activitymonth.FieldMonth), int(to.Add(1).Add(-sr.WindowMonths)))
		if sr.Mode == rules.ScoreCumulative {
			from = entsql.ExprP(am.C(activitymonth.FieldMonth) + " > COALESCE(" + sc.C(memberscore.FieldCountedThrough) + ", 0)")
		}
		q.LeftJoin(sc).On(q.C(member.FieldID), sc.C(memberscore.FieldMemberID)).
			LeftJoin(am).OnP(entsql.And(entsql.ColumnsEQ(q.C(member.FieldID), am.C(activitymonth.FieldMemberID)),
			from, entsql.LTE(am.C(activitymonth.FieldMonth), int(to))))
		cols := []string{entsql.As(sc.C(memberscore.FieldID), "score_id")}
		for _, c := range []string{memberscore.FieldSettled, memberscore.FieldPeriod, memberscore.FieldSettledAt, memberscore.FieldBreakdown,
			memberscore.FieldReputation, memberscore.FieldCredit, memberscore.FieldCountedThrough, memberscore.FieldAccountPointsCounted,
			memberscore.FieldSettlementRun} {
			cols = append(cols, entsql.As(sc.C(c), c))
		}
		for _, c := range []string{activitymonth.FieldMonth, activitymonth.FieldSpendCents, activitymonth.FieldOrders,
			activitymonth.FieldCompletedOrders, activitymonth.FieldRefundedOrders, activitymonth.FieldPurchaseDays,
			activitymonth.FieldLoginDays, activitymonth.FieldReviews, activitymonth.FieldPhotoReviews,
			activitymonth.FieldAnswers, activitymonth.FieldShares} {
			cols = append(cols, entsql.As(am.C(c), c))
		}
		q.Select(cols...)
	}).Scan(ctx, &rows)
	if err != nil {
		return nil, nil, err
	}
	var row *ent.MemberScore
	var months []*ent.ActivityMonth
	for _, r := range rows {
		if row == nil && r.ScoreID.Valid {
			row = &ent.MemberScore{ID: int(r.ScoreID.Int64), ProgramID: m.ProgramID, MemberID: m.ID,
				Settled: r.Settled.Int64, Period: int(r.Period.Int64), CountedThrough: int(r.CountedThrough.Int64),
				AccountPointsCounted: r.AccountPointsCounted.Int64, SettlementRun: int(r.SettlementRun.Int64)}
			if r.SettledAt.Valid {
				at := r.SettledAt.Time
				row.SettledAt = &at
			}
			if r.Reputation.Valid {
				v := int(r.Reputation.Int64)
				row.Reputation = &v
			}
			if r.Credit.Valid {
				v := int(r.Credit.Int64)
				row.Credit = &v
			}
			if r.Breakdown.Valid && r.Breakdown.String != "" {
				var b formula.Breakdown
				if err := json.Unmarshal([]byte(r.Breakdown.String), &b); err != nil {
					return nil, nil, err
				}
				row.Breakdown = b
			}
		}
		if r.Month.Valid {
			months = append(months, &ent.ActivityMonth{ProgramID: m.ProgramID, MemberID: m.ID, Month: int(r.Month.Int64),
				SpendCents: r.SpendCents.Int64, Orders: int(r.Orders.Int64), CompletedOrders: int(r.CompletedOrders.Int64),
				RefundedOrders: int(r.RefundedOrders.Int64), PurchaseDays: r.PurchaseDays.Int64, LoginDays: r.LoginDays.Int64,
				Reviews: int(r.Reviews.Int64), PhotoReviews: int(r.PhotoReviews.Int64), Answers: int(r.Answers.Int64),
				Shares: int(r.Shares.Int64)})
		}
	}
	return row, months, nil
}

package score

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/schema/rule"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/score/formula"
)

// scoreRow is a row of loadOf: the member's score row (its columns null when the member was
// never settled) beside one month of its counters (null when it has none in the window).
type scoreRow struct {
	ScoreID              sql.NullInt64
	Settled              sql.NullInt64
	Period               sql.NullInt64
	SettledAt            sql.NullTime
	Breakdown            sql.NullString
	Reputation           sql.NullInt64
	Credit               sql.NullInt64
	CountedThrough       sql.NullInt64
	AccountPointsCounted sql.NullInt64
	SettlementRun        sql.NullInt64
	Month                sql.NullInt64
	SpendCents           sql.NullInt64
	Orders               sql.NullInt64
	CompletedOrders      sql.NullInt64
	RefundedOrders       sql.NullInt64
	PurchaseDays         sql.NullInt64
	LoginDays            sql.NullInt64
	Reviews              sql.NullInt64
	PhotoReviews         sql.NullInt64
	Answers              sql.NullInt64
	Shares               sql.NullInt64
}

// scoreSelect is loadOf's statement up to its months' window: the score row's columns and
// the window's months' counters (scoreRow's order), the member joined with both.
const scoreSelect = "SELECT `sc`.`id`, `sc`.`settled`, `sc`.`period`, `sc`.`settled_at`, `sc`.`breakdown`, " +
	"`sc`.`reputation`, `sc`.`credit`, `sc`.`counted_through`, `sc`.`account_points_counted`, `sc`.`settlement_run`, " +
	"`am`.`month`, `am`.`spend_cents`, `am`.`orders`, `am`.`completed_orders`, `am`.`refunded_orders`, " +
	"`am`.`purchase_days`, `am`.`login_days`, `am`.`reviews`, `am`.`photo_reviews`, `am`.`answers`, `am`.`shares` " +
	"FROM `members` LEFT JOIN `member_scores` AS `sc` ON `members`.`id` = `sc`.`member_id` " +
	"LEFT JOIN `activity_months` AS `am` ON `members`.`id` = `am`.`member_id` AND "

// The window's first month, rolling (a parameter) or cumulative (after the last counted).
const (
	scoreWindowRolling    = "`am`.`month` >= ?"
	scoreWindowCumulative = "`am`.`month` > COALESCE(`sc`.`counted_through`, 0)"
)

// loadOf reads in one statement what Of needs of member m: its score row (nil before the
// first settlement) and its counters of the months from the window's first through to. The
// window is window's, in SQL: rolling, the WindowMonths before to's next month; cumulative,
// the months after the last one counted (every month before the first settlement).
func (s *Service) loadOf(ctx context.Context, m *ent.Member, sr rules.Score, to formula.Month) (*ent.MemberScore, []*ent.ActivityMonth, error) {
	// A statement of its own text through the client's driver, not ent's builder: this is
	// every profile read's, and building, filtering and scanning it through ent cost more CPU
	// than the database spent answering it (issue 14). The members' rule is MemberPolicy's
	// own filter (rule.MemberSQL), as ent would have added it.
	cond, condArgs, err := rule.MemberSQL(ctx, member.Table)
	if err != nil {
		return nil, nil, err
	}
	from, args := scoreWindowRolling, []any{int(to.Add(1).Add(-sr.WindowMonths))}
	if sr.Mode == rules.ScoreCumulative {
		from, args = scoreWindowCumulative, nil
	}
	args = append(append(args, int(to), m.ID), condArgs...)
	q, err := s.client.QueryContext(ctx, scoreSelect+from+" AND `am`.`month` <= ? WHERE `members`.`id` = ? AND "+cond, args...)
	if err != nil {
		return nil, nil, err
	}
	defer q.Close()
	var rows []scoreRow
	for q.Next() {
		var r scoreRow
		if err := q.Scan(&r.ScoreID, &r.Settled, &r.Period, &r.SettledAt, &r.Breakdown, &r.Reputation, &r.Credit,
			&r.CountedThrough, &r.AccountPointsCounted, &r.SettlementRun, &r.Month, &r.SpendCents, &r.Orders,
			&r.CompletedOrders, &r.RefundedOrders, &r.PurchaseDays, &r.LoginDays, &r.Reviews, &r.PhotoReviews,
			&r.Answers, &r.Shares); err != nil {
			return nil, nil, err
		}
		rows = append(rows, r)
	}
	if err := q.Err(); err != nil {
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

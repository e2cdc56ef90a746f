package plus

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/event"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/score/formula"
)

// SavingsOf is what PLUS saved memberID in the term running now (term, nil when none) and
// would have saved over the last SavingsWindowMonths months, at now.
func SavingsOf(ctx context.Context, client *ent.Client, prog *ent.Program, memberID int, term *ent.PlusTerm, now time.Time) (Savings, error) {
	f, err := LoadSavingsFacts(ctx, client, prog, memberID, term, now)
	if err != nil {
		return Savings{}, err
	}
	return ComputeSavings(f), nil
}

// LoadSavingsFacts reads what the savings rules need in one set-based statement: the
// counters the score and the medals keep (no raw events of the window), the ledger's sums,
// the term's PLUS claims, the PLUS catalogue entries and, for a term that began inside a
// month, that month's orders from the start on (and their refunds) — the one part the
// month's counters cannot tell apart, bounded to a month.
func LoadSavingsFacts(ctx context.Context, client *ent.Client, prog *ent.Program, memberID int, term *ent.PlusTerm, now time.Time) (SavingsFacts, error) {
	loc, err := points.Location(prog.TimeZone)
	if err != nil {
		return SavingsFacts{}, err
	}
	r := prog.Rules.PlusBenefitRules()
	f := SavingsFacts{Rules: r, PointsPerYuan: prog.PointsPerYuan, PlusMultiplier: prog.Rules.Earning.PlusMultiplier,
		Benefits: map[string]SavingsBenefit{}}
	current := formula.MonthOf(now, loc)
	first := current.Add(1 - SavingsWindowMonths)
	windowStart := first.Start(loc).UTC()
	// The counters' months a term covers whole: those starting at or after its start.
	var termStart time.Time
	var termFirstWhole formula.Month
	from := first
	if term != nil {
		termStart = term.StartAt.UTC()
		termFirstWhole = formula.MonthOf(termStart, loc)
		if termFirstWhole.Start(loc).Before(termStart) {
			termFirstWhole = termFirstWhole.Add(1)
		}
		from = min(from, termFirstWhole)
		f.Term = &SavingsTerm{CategoryCents: map[string]int64{}, Claims: map[string]SavingsClaims{}}
	}
	since := windowStart
	if term != nil && termStart.Before(since) {
		since = termStart
	}

	var categories []string
	for _, s := range r.Savings {
		if s.Category != "" && !slices.Contains(categories, s.Category) {
			categories = append(categories, s.Category)
		}
	}
	// One statement: rows tagged M (a month's counters), C (a month's category spend),
	// P (the ledger's two sums), K (a benefit's PLUS claims this term), B (a PLUS benefit).
	var q strings.Builder
	var args []any
	// Seven columns: the tag, four numbers, a text and an event body (its own column, so
	// that MySQL keeps JSON apart from text).
	q.WriteString(`SELECT 'M', month, spend_cents, orders, refunded_orders, NULL, NULL FROM activity_months WHERE member_id = ? AND month >= ?`)
	args = append(args, memberID, int(from))
	if len(categories) > 0 {
		q.WriteString(` UNION ALL SELECT 'C', month, spend_cents, 0, 0, category, NULL FROM category_months WHERE member_id = ? AND month >= ? AND category IN (` + marks(len(categories)) + `)`)
		args = append(args, memberID, int(from))
		for _, c := range categories {
			args = append(args, c)
		}
	}
	// The base points of the window (PLATFORM-funded purchases less their refunds) and the
	// PLUS-funded points of the term (the bonus less what order refunds took back).
	bonusFrom := now.UTC().Add(time.Hour) // no term: an empty range
	if term != nil {
		bonusFrom = termStart
	}
	q.WriteString(` UNION ALL SELECT 'P', 0,
		COALESCE(SUM(CASE WHEN funding = ? AND kind IN (?, ?) AND created_at >= ? THEN amount ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN funding = ? AND kind IN (?, ?) AND created_at >= ? THEN amount ELSE 0 END), 0), 0, NULL, NULL
		FROM point_entries WHERE member_id = ? AND created_at >= ?`)
	args = append(args, points.FundPlatform, pointentry.KindPURCHASE.String(), pointentry.KindREFUND.String(), windowStart,
		points.FundPlus, pointentry.KindPLUS_BONUS.String(), pointentry.KindREFUND.String(), bonusFrom,
		memberID, since)
	if term != nil {
		q.WriteString(` UNION ALL SELECT 'K', benefit_id, COUNT(*), COALESCE(SUM(face_value_cents), 0), 0, NULL, NULL FROM benefit_claims
			WHERE member_id = ? AND source = 'PLUS' AND claimed_at >= ? GROUP BY benefit_id`)
		args = append(args, memberID, termStart)
	}
	if len(r.Benefits) > 0 {
		// The key doubles as the text column; the quota period rides in the number columns'
		// place as its rank, so every part has the same shape.
		q.WriteString(` UNION ALL SELECT 'B', id, quota, face_value_cents,
			CASE quota_period WHEN 'MONTH' THEN 1 WHEN 'YEAR' THEN 2 ELSE 0 END, ` + "`key`" + `, NULL FROM benefits
			WHERE program_id = ? AND ` + "`key`" + ` IN (` + marks(len(r.Benefits)) + `)`)
		args = append(args, prog.ID)
		for _, k := range r.Benefits {
			args = append(args, k)
		}
	}
	var partFrom, partTo time.Time
	if term != nil && termFirstWhole.Start(loc).After(termStart) {
		// The orders of [start, the next month's first instant) and the refunds of them.
		partFrom, partTo = termStart, termFirstWhole.Start(loc).UTC()
		completed, refunded := event.KindORDER_COMPLETED.String(), event.KindORDER_REFUNDED.String()
		q.WriteString(` UNION ALL SELECT 'E', CASE kind WHEN ? THEN 1 ELSE 2 END, 0, 0, 0, NULL, body FROM events
			WHERE member_id = ? AND (kind = ? AND occurred_at >= ? AND occurred_at < ?
				OR kind = ? AND order_id IN (SELECT order_id FROM events WHERE member_id = ? AND kind = ? AND occurred_at >= ? AND occurred_at < ?))`)
		args = append(args, completed, memberID, completed, partFrom, partTo, refunded, memberID, completed, partFrom, partTo)
	}
	rows, err := client.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return SavingsFacts{}, fmt.Errorf("savings facts: %w", err)
	}
	defer rows.Close()
	months := map[formula.Month]*SavingsMonth{}
	month := func(m formula.Month) *SavingsMonth {
		if months[m] == nil {
			months[m] = &SavingsMonth{Month: m, CategoryCents: map[string]int64{}}
		}
		return months[m]
	}
	var partOrders, partRefunds []payload.Body
	claimsByID := map[int64]SavingsClaims{}
	keyOfID := map[int64]string{}
	for rows.Next() {
		var tag string
		var a, b, c, d sql.NullInt64
		var text sql.NullString
		var body []byte
		if err := rows.Scan(&tag, &a, &b, &c, &d, &text, &body); err != nil {
			return SavingsFacts{}, fmt.Errorf("savings facts: %w", err)
		}
		switch tag {
		case "M":
			m := month(formula.Month(a.Int64))
			m.SpendCents, m.Orders, m.Returned = b.Int64, int(c.Int64), int(d.Int64)
		case "C":
			month(formula.Month(a.Int64)).CategoryCents[text.String] = b.Int64
		case "P":
			f.WindowBasePoints = b.Int64
			if f.Term != nil {
				f.Term.BonusPoints = c.Int64
			}
		case "K":
			claimsByID[a.Int64] = SavingsClaims{Count: int(b.Int64), FaceValueCents: c.Int64}
		case "B":
			period := [...]string{"NONE", "MONTH", "YEAR"}[d.Int64]
			f.Benefits[text.String] = SavingsBenefit{Quota: int(b.Int64), QuotaPeriod: period, FaceValueCents: c.Int64}
			keyOfID[a.Int64] = text.String
		case "E":
			var pb payload.Body
			if err := json.Unmarshal(body, &pb); err != nil {
				return SavingsFacts{}, fmt.Errorf("savings facts: an event body: %w", err)
			}
			if a.Int64 == 1 {
				partOrders = append(partOrders, pb)
			} else {
				partRefunds = append(partRefunds, pb)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return SavingsFacts{}, fmt.Errorf("savings facts: %w", err)
	}
	for id, c := range claimsByID {
		if k, ok := keyOfID[id]; ok {
			f.Term.Claims[k] = c
		}
	}
	for m := from; m <= current; m = m.Add(1) {
		sm, ok := months[m]
		if !ok {
			continue
		}
		if m >= first {
			f.Window = append(f.Window, *sm)
		}
		if f.Term != nil && m >= termFirstWhole {
			f.Term.SpendCents += sm.SpendCents
			for k, v := range sm.CategoryCents {
				f.Term.CategoryCents[k] += v
			}
		}
	}
	if f.Term != nil {
		addOrders(f.Term, partOrders, partRefunds)
	}
	return f, nil
}

// addOrders adds to t the lines of orders that no refund took back.
func addOrders(t *SavingsTerm, orders, refunds []payload.Body) {
	refunded := map[string][]string{}
	for _, r := range refunds {
		refunded[r.OrderID] = append(refunded[r.OrderID], r.SKUs...)
	}
	for _, o := range orders {
		for _, l := range o.Lines {
			if slices.Contains(refunded[o.OrderID], l.SKU) {
				continue
			}
			t.SpendCents += l.PaidCents
			t.CategoryCents[l.Category] += l.PaidCents
		}
	}
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

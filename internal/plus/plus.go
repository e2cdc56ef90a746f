// Package plus is the PLUS paid membership (docs/domain.md §5): the pure rules of plans,
// prices, stacking, the trial, status and refunds, and a Service that grants, cancels and
// reads terms. Every way in — purchase, trial, code, partner — creates its term through
// Service.Grant.
package plus

import (
	"fmt"
	"strings"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/rules"
)

// Sources of a term (docs/domain.md §5 "Terms"); a partner's is SourcePartnerPrefix + key.
const (
	SourcePurchase      = "PURCHASE"
	SourceTrial         = "TRIAL"
	SourceCode          = "CODE"
	SourcePartnerPrefix = "PARTNER:"
)

// Why a term ended, as TermListener.TermEnded hears it.
const (
	EndCancelled = "CANCELLED"
	EndRefunded  = "REFUNDED"
	EndExpired   = "EXPIRED"
)

// ValidSource reports whether s names a way in.
func ValidSource(s string) bool {
	switch s {
	case SourcePurchase, SourceTrial, SourceCode:
		return true
	}
	key, ok := strings.CutPrefix(s, SourcePartnerPrefix)
	return ok && key != "" && len(s) <= 80
}

// AddMonths is the same local date-time n months after t in loc; a day the target month
// lacks becomes its last day, so 29 February plus 12 months is 28 February.
func AddMonths(t time.Time, n int, loc *time.Location) time.Time {
	l := t.In(loc)
	y, m, d := l.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, loc)
	if last := first.AddDate(0, 1, -1).Day(); d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), loc).UTC()
}

// TermEnd is when a term of plan that starts at start ends: months for a paid plan, days
// for the trial, both counted in local date-time of loc.
func TermEnd(plan rules.PlusPlan, start time.Time, loc *time.Location) time.Time {
	if plan.Trial {
		l := start.In(loc)
		return time.Date(l.Year(), l.Month(), l.Day()+plan.Days, l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), loc).UTC()
	}
	return AddMonths(start, plan.Months, loc)
}

// Price is what a member with this settled score pays for plan, and why in words.
func Price(plan rules.PlusPlan, settledScore int64) (int64, string) {
	if plan.Trial {
		return 0, "the trial is free"
	}
	if plan.ExclusivePriceCents > 0 && settledScore >= plan.ExclusiveMinScore {
		return plan.ExclusivePriceCents, fmt.Sprintf("exclusive price, settled score %s ≥ %s", thousands(settledScore), thousands(plan.ExclusiveMinScore))
	}
	if plan.ExclusivePriceCents > 0 {
		return plan.PriceCents, fmt.Sprintf("list price, settled score %s < %s", thousands(settledScore), thousands(plan.ExclusiveMinScore))
	}
	return plan.PriceCents, "list price"
}

// Yuan writes cents as ¥149 or ¥149.50.
func Yuan(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	if cents%100 == 0 {
		return fmt.Sprintf("%s¥%s", sign, thousands(cents/100))
	}
	return fmt.Sprintf("%s¥%s.%02d", sign, thousands(cents/100), cents%100)
}

// thousands writes n with thousands separators: 4612 → 4,612.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// TrialOpen reports whether a member with these terms may start the trial: only one who
// has never held a term, by any source (docs/domain.md §5 "Prices").
func TrialOpen(terms []*ent.PlusTerm) bool { return len(terms) == 0 }

// Covering returns the term that holds at, or nil: the member is PLUS at at exactly when
// it is not nil. A cancelled term's end_at is its cancel instant, so no flag is read.
func Covering(terms []*ent.PlusTerm, at time.Time) *ent.PlusTerm {
	for _, t := range terms {
		if !t.StartAt.After(at) && t.EndAt.After(at) {
			return t
		}
	}
	return nil
}

// ChainEnd is where a new term starts: the last end of the terms still running or to come
// at now, or now when there are none (docs/domain.md §5 "Terms": stacking). A cancelled term
// holds no place in the chain: a stacked term cancelled before it began keeps an end at its
// start, in the future, which must not delay the next term.
func ChainEnd(terms []*ent.PlusTerm, now time.Time) time.Time {
	end := now
	for _, t := range terms {
		if t.CancelledAt == nil && t.EndAt.After(end) {
			end = t.EndAt
		}
	}
	return end
}

// Received is the value a member already had from a term, which a refund keeps back.
type Received struct {
	// BonusPoints is the net PLUS bonus earned in the term (bonus less bonus refunded).
	BonusPoints int64
	// PointsPerYuan values the points (100 = ¥1 in the preset).
	PointsPerYuan int64
	// CouponCents is the face value of the PLUS coupons used in the term.
	CouponCents int64
}

// Cents is the value received, the points rounded down to a cent in the member's favour.
func (r Received) Cents() int64 {
	return r.CouponCents + pointsCents(r.BonusPoints, r.PointsPerYuan)
}

// Refundable is what a refund returns: the price paid less the value received, never below
// zero (docs/domain.md §5 "Cancel and refund").
func Refundable(paidCents int64, r Received) int64 {
	return max(0, paidCents-r.Cents())
}

package points

import (
	"fmt"
	"math"

	"github.com/membergraph/membergraph/internal/amount"
	"github.com/membergraph/membergraph/internal/rules"
)

// QuoteReason says why a quote allows what it allows; the values are the GraphQL enum
// PointsQuoteReason.
type QuoteReason string

// The reasons, in the order QuoteFor checks them: the first that applies is given.
const (
	QuoteOK QuoteReason = "OK"
	// QuoteDeductionOff: the programme lets no share of an order be paid with points.
	QuoteDeductionOff QuoteReason = "DEDUCTION_DISABLED"
	// QuoteBalanceBelowMinimum: the spendable balance is under the minimum for a deduction.
	QuoteBalanceBelowMinimum QuoteReason = "BALANCE_BELOW_MINIMUM"
	// QuoteOrderTooSmall: the allowed share of the order is worth less than one step.
	QuoteOrderTooSmall QuoteReason = "ORDER_TOO_SMALL"
	// QuoteBalanceBelowStep: the balance meets the minimum but is less than one step (a
	// programme whose minimum is below its step).
	QuoteBalanceBelowStep QuoteReason = "BALANCE_BELOW_STEP"
)

// Quote is the most points an order may use, and why not more.
type Quote struct {
	MaxPoints         int64
	MaxDeductionCents int64
	Balance           int64
	Reason            QuoteReason
	// Message says Reason with the figures, for people.
	Message string
}

// QuoteFor is the order-deduction rule (docs/domain.md §3 "Spending"): whole steps only, nothing
// below the minimum balance, at most the configured share of the order, and never more than
// one spend may take (amount.MaxPoints). The order's amount counts up to amount.MaxCents (the
// services refuse more); the products go through amount.MulDiv, so no rate or amount wraps.
func QuoteFor(s rules.Spending, pointsPerYuan, spendable, orderAmountCents int64) Quote {
	q := Quote{Balance: spendable}
	cents := min(max(orderAmountCents, 0), amount.MaxCents)
	ppy := max(pointsPerYuan, 1)
	pct := min(max(s.DeductionMaxPercent, 0), 100)
	// points·100/ppy ≤ amount·pct/100  ⇔  points ≤ amount·pct·ppy / 10,000
	byOrder := saturated(amount.MulDiv(cents, pct*min(ppy, math.MaxInt64/100), 10000))
	shareCents := saturated(amount.MulDiv(cents, pct, 100))
	stepCents := saturated(amount.MulDiv(max(s.DeductionStep, 0), 100, ppy))
	switch {
	case pct == 0 || s.DeductionStep <= 0:
		q.Reason, q.Message = QuoteDeductionOff, "This programme does not let points pay for orders."
	case spendable < s.DeductionMinBalance:
		q.Reason = QuoteBalanceBelowMinimum
		q.Message = fmt.Sprintf("The member has %d spendable points; using points on an order needs at least %d.",
			max(spendable, 0), s.DeductionMinBalance)
	case byOrder < s.DeductionStep:
		q.Reason = QuoteOrderTooSmall
		q.Message = fmt.Sprintf("Points may pay at most %d%% of an order: %s of this %s order, less than the %s of the smallest use (%d points).",
			pct, yuan(shareCents), yuan(cents), yuan(stepCents), s.DeductionStep)
	case spendable < s.DeductionStep:
		q.Reason = QuoteBalanceBelowStep
		q.Message = fmt.Sprintf("The member has %d spendable points, less than the smallest use of %d.", spendable, s.DeductionStep)
	default:
		q.MaxPoints = min(spendable, byOrder, amount.MaxPoints) / s.DeductionStep * s.DeductionStep
		q.MaxDeductionCents = saturated(amount.MulDiv(q.MaxPoints, 100, ppy))
		q.Reason = QuoteOK
		q.Message = fmt.Sprintf("Up to %d points (%s) can be used on this order.", q.MaxPoints, yuan(q.MaxDeductionCents))
	}
	return q
}

// saturated is a checked result, or the largest int64 when it would not fit: a bound the
// callers' min() then brings down to a real one.
func saturated(v int64, err error) int64 {
	if err != nil {
		return math.MaxInt64
	}
	return v
}

// yuan writes cents as ¥12.50.
func yuan(cents int64) string {
	return fmt.Sprintf("¥%d.%02d", cents/100, cents%100)
}

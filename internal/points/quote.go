package points

import (
	"fmt"

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
// below the minimum balance, at most the configured share of the order.
func QuoteFor(s rules.Spending, pointsPerYuan, spendable, orderAmountCents int64) Quote {
	q := Quote{Balance: spendable}
	// points·100/ppy ≤ amount·pct/100  ⇔  points ≤ amount·pct·ppy / 10,000
	byOrder := max(orderAmountCents, 0) * s.DeductionMaxPercent * pointsPerYuan / 10000
	shareCents := max(orderAmountCents, 0) * s.DeductionMaxPercent / 100
	stepCents := s.DeductionStep * 100 / pointsPerYuan
	switch {
	case s.DeductionMaxPercent == 0:
		q.Reason, q.Message = QuoteDeductionOff, "This programme does not let points pay for orders."
	case spendable < s.DeductionMinBalance:
		q.Reason = QuoteBalanceBelowMinimum
		q.Message = fmt.Sprintf("The member has %d spendable points; using points on an order needs at least %d.",
			max(spendable, 0), s.DeductionMinBalance)
	case byOrder < s.DeductionStep:
		q.Reason = QuoteOrderTooSmall
		q.Message = fmt.Sprintf("Points may pay at most %d%% of an order: %s of this %s order, less than the %s of the smallest use (%d points).",
			s.DeductionMaxPercent, yuan(shareCents), yuan(orderAmountCents), yuan(stepCents), s.DeductionStep)
	case spendable < s.DeductionStep:
		q.Reason = QuoteBalanceBelowStep
		q.Message = fmt.Sprintf("The member has %d spendable points, less than the smallest use of %d.", spendable, s.DeductionStep)
	default:
		q.MaxPoints = min(spendable, byOrder) / s.DeductionStep * s.DeductionStep
		q.MaxDeductionCents = q.MaxPoints * 100 / pointsPerYuan
		q.Reason = QuoteOK
		q.Message = fmt.Sprintf("Up to %d points (%s) can be used on this order.", q.MaxPoints, yuan(q.MaxDeductionCents))
	}
	return q
}

// yuan writes cents as ¥12.50.
func yuan(cents int64) string {
	return fmt.Sprintf("¥%d.%02d", cents/100, cents%100)
}

package points_test

import (
	"testing"

	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/rules"
)

// TestQuoteReasons: each reason of the order-deduction rule (docs/domain.md §3: steps of 1,000
// points = ¥10, a balance of at least 1,000, at most 50% of the order), worked by hand.
func TestQuoteReasons(t *testing.T) {
	preset := rules.JDPreset().Spending
	lowMinimum := preset
	lowMinimum.DeductionMinBalance = 0
	off := preset
	off.DeductionMaxPercent = 0
	for name, tc := range map[string]struct {
		s                  rules.Spending
		spendable, cents   int64
		reason             points.QuoteReason
		maxPoints, dedCent int64
		message            string
	}{
		// 2,500 points, ¥100 order: 50% = ¥50 = 5,000 points; the balance allows 2,000.
		"ok, by the balance": {preset, 2500, 10000, points.QuoteOK, 2000, 2000, "Up to 2000 points (¥20.00) can be used on this order."},
		// 9,999 points, ¥35 order: 50% = ¥17.50 = 1,750 points → one step of 1,000.
		"ok, by the order": {preset, 9999, 3500, points.QuoteOK, 1000, 1000, "Up to 1000 points (¥10.00) can be used on this order."},
		// ¥20 order: 50% = ¥10, exactly one step.
		"ok, at the edge": {preset, 1000, 2000, points.QuoteOK, 1000, 1000, "Up to 1000 points (¥10.00) can be used on this order."},
		"below minimum":   {preset, 999, 100000, points.QuoteBalanceBelowMinimum, 0, 0, "The member has 999 spendable points; using points on an order needs at least 1000."},
		"in debt":         {preset, -300, 100000, points.QuoteBalanceBelowMinimum, 0, 0, "The member has 0 spendable points; using points on an order needs at least 1000."},
		// ¥19.98: 50% = ¥9.99, under the ¥10 of one step.
		"order too small": {preset, 5000, 1998, points.QuoteOrderTooSmall, 0, 0, "Points may pay at most 50% of an order: ¥9.99 of this ¥19.98 order, less than the ¥10.00 of the smallest use (1000 points)."},
		// Both: the balance is named first.
		"both":           {preset, 500, 1000, points.QuoteBalanceBelowMinimum, 0, 0, "The member has 500 spendable points; using points on an order needs at least 1000."},
		"below one step": {lowMinimum, 600, 100000, points.QuoteBalanceBelowStep, 0, 0, "The member has 600 spendable points, less than the smallest use of 1000."},
		"disabled":       {off, 5000, 100000, points.QuoteDeductionOff, 0, 0, "This programme does not let points pay for orders."},
	} {
		q := points.QuoteFor(tc.s, 100, tc.spendable, tc.cents)
		if q.Reason != tc.reason || q.MaxPoints != tc.maxPoints || q.MaxDeductionCents != tc.dedCent || q.Message != tc.message || q.Balance != tc.spendable {
			t.Errorf("%s: %+v, want %s %d points %d cents %q", name, q, tc.reason, tc.maxPoints, tc.dedCent, tc.message)
		}
	}
}

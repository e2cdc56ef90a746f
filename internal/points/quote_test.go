package points_test

import (
	"math"
	"testing"

	"github.com/membergraph/membergraph/internal/amount"
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

// FuzzQuoteFor: for any rules, rate, balance and order, the quote never panics, is never
// negative, never more than the balance, the order's share or one spend (amount.MaxPoints),
// always whole steps, and its cents never more than the order's amount.
func FuzzQuoteFor(f *testing.F) {
	preset := rules.JDPreset().Spending
	f.Add(preset.DeductionStep, preset.DeductionMinBalance, preset.DeductionMaxPercent, int64(100), int64(2500), int64(10000))
	f.Add(preset.DeductionStep, preset.DeductionMinBalance, preset.DeductionMaxPercent, int64(100), int64(1<<40), int64(1844674407370956))
	f.Add(int64(1), int64(0), int64(100), int64(1), amount.MaxBalance, amount.MaxCents)
	f.Add(int64(0), int64(-5), int64(-1), int64(0), int64(-1), int64(-1))
	f.Add(int64(math.MaxInt64), int64(math.MinInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, step, minBalance, pct, ppy, spendable, cents int64) {
		s := rules.Spending{DeductionStep: step, DeductionMinBalance: minBalance, DeductionMaxPercent: pct}
		q := points.QuoteFor(s, ppy, spendable, cents)
		if q.MaxPoints < 0 || q.MaxDeductionCents < 0 {
			t.Fatalf("negative quote %+v", q)
		}
		if q.MaxPoints == 0 {
			if q.Reason == points.QuoteOK && step > 0 && q.MaxDeductionCents != 0 {
				t.Fatalf("nothing usable but cents %+v", q)
			}
			return
		}
		if q.Reason != points.QuoteOK || q.MaxPoints > spendable || q.MaxPoints > amount.MaxPoints || q.MaxPoints%step != 0 {
			t.Fatalf("quote %+v beyond balance %d, one spend or whole steps of %d", q, spendable, step)
		}
		if q.MaxDeductionCents > min(cents, amount.MaxCents) {
			t.Fatalf("deduction %d cents on an order of %d", q.MaxDeductionCents, cents)
		}
		if q.Message == "" {
			t.Fatal("no message")
		}
	})
}

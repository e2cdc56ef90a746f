package formula_test

import (
	"testing"

	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/score/formula"
)

func ptr(v int) *int { return &v }

// TestDimensions checks each dimension of docs/domain.md §4's growth formula with the preset's
// weights, one counter at a time.
func TestDimensions(t *testing.T) {
	sr := rules.JDPreset().Score
	cases := []struct {
		name                        string
		c                           formula.Counts
		a                           formula.Account
		consumption, activity, acct int64
	}{
		{"spend counts whole yuan", formula.Counts{SpendCents: 123_499}, formula.Account{}, 1234, 0, 0},
		{"purchase days ×5", formula.Counts{PurchaseDays: 3}, formula.Account{}, 15, 0, 0},
		{"orders weigh 0 in the preset", formula.Counts{Orders: 9}, formula.Account{}, 0, 0, 0},
		{"login days ×1", formula.Counts{LoginDays: 20}, formula.Account{}, 0, 20, 0},
		{"reviews ×2", formula.Counts{Reviews: 4}, formula.Account{}, 0, 8, 0},
		{"photo reviews ×3", formula.Counts{PhotoReviews: 4}, formula.Account{}, 0, 12, 0},
		{"answers and shares ×1", formula.Counts{Answers: 2, Shares: 5}, formula.Account{}, 0, 7, 0},
		{"real name 50", formula.Counts{}, formula.Account{RealNameVerified: true}, 0, 0, 50},
		{"bound accounts 20 each, at most 2", formula.Counts{}, formula.Account{BoundAccounts: 5}, 0, 0, 40},
		{"negative spend never goes below zero", formula.Counts{SpendCents: -500}, formula.Account{}, 0, 0, 0},
	}
	for _, tc := range cases {
		b := formula.Compute(sr, tc.c, tc.a)
		if b.Consumption != tc.consumption || b.Activity != tc.activity || b.AccountPoints != tc.acct {
			t.Errorf("%s: got consumption %d activity %d account %d, want %d %d %d", tc.name,
				b.Consumption, b.Activity, b.AccountPoints, tc.consumption, tc.activity, tc.acct)
		}
		if b.CoefficientPercent != 100 || b.Score != tc.consumption+tc.activity+tc.acct {
			t.Errorf("%s: ordinary member scored %d at %d%%", tc.name, b.Score, b.CoefficientPercent)
		}
	}
}

// TestCoefficient covers the risk filter and the bands: below 40 in either signal is 0.8,
// high signals with few refunds reach 1.3, a high refund rate keeps a member lower.
func TestCoefficient(t *testing.T) {
	sr := rules.JDPreset().Score
	orders := formula.Counts{SpendCents: 100_000, PurchaseDays: 0, CompletedOrders: 100}
	cases := []struct {
		name     string
		rep, cr  *int
		refunded int64
		percent  int64
		score    int64
	}{
		{"no signals: ordinary", nil, nil, 0, 100, 1000},
		{"reputation below 40", ptr(39), ptr(95), 0, 80, 800},
		{"credit below 40", ptr(95), ptr(10), 0, 80, 800},
		{"exactly 40 is not risky", ptr(40), ptr(40), 0, 100, 1000},
		{"excellent, few refunds", ptr(95), ptr(92), 5, 130, 1300},
		{"excellent but 8% refunded", ptr(95), ptr(92), 8, 120, 1200},
		{"good", ptr(82), ptr(85), 10, 120, 1200},
		{"fair", ptr(75), ptr(71), 15, 110, 1100},
		{"fair with many refunds", ptr(75), ptr(71), 40, 100, 1000},
		{"one signal only", ptr(99), nil, 0, 100, 1000},
	}
	for _, tc := range cases {
		c := orders
		c.RefundedOrders = tc.refunded
		b := formula.Compute(sr, c, formula.Account{Reputation: tc.rep, Credit: tc.cr})
		if b.CoefficientPercent != tc.percent || b.Score != tc.score {
			t.Errorf("%s: got %d%% → %d, want %d%% → %d", tc.name, b.CoefficientPercent, b.Score, tc.percent, tc.score)
		}
	}
}

func TestRoundingHalfUp(t *testing.T) {
	for _, tc := range []struct{ raw, pct, want int64 }{{5, 130, 7}, {3, 110, 3}, {15, 110, 17}, {1, 80, 1}, {0, 130, 0}} {
		if got := formula.Apply(tc.raw, tc.pct); got != tc.want {
			t.Errorf("Apply(%d, %d) = %d, want %d", tc.raw, tc.pct, got, tc.want)
		}
	}
}

func TestMonths(t *testing.T) {
	m := formula.Month(202601)
	if m.Add(-12) != 202501 || m.Add(-1) != 202512 || m.Add(11) != 202612 || m.Add(12) != 202701 {
		t.Errorf("month arithmetic: %v %v %v %v", m.Add(-12), m.Add(-1), m.Add(11), m.Add(12))
	}
	if p, err := formula.ParseMonth("2026-03"); err != nil || p != 202603 || p.String() != "2026-03" {
		t.Errorf("ParseMonth: %v %v", p, err)
	}
	if _, err := formula.ParseMonth("2026-13"); err == nil {
		t.Error("2026-13 parsed")
	}
}

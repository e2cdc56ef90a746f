package rules

import (
	"fmt"
	"slices"
)

// Points is the part of Rules an operator changes with updatePointsRules: earning,
// spending and expiry (docs/domain.md §3).
type Points struct {
	Earning  Earning  `json:"earning"`
	Spending Spending `json:"spending"`
	Expiry   Expiry   `json:"expiry"`
}

// The values an order line, an order and a payment can name (docs/domain.md §2); the earning
// exclusions must be among them.
var (
	ProductTypes   = []string{"PHYSICAL", "SERVICE", "VIRTUAL"}
	OrderTypes     = []string{"AUCTION", "GROUP_BUY", "NORMAL"}
	PaymentMethods = []string{"BALANCE", "BANK_CARD", "CASH", "CORPORATE_TRANSFER", "GIFT_CARD", "POSTAL_REMITTANCE"}
)

// PointsRules returns the points rules, their exclusion lists sorted, so every answer lists
// them in one order.
func (r Rules) PointsRules() Points {
	p := Points{Earning: r.Earning, Spending: r.Spending, Expiry: r.Expiry}
	e := &p.Earning
	for _, l := range []*[]string{&e.ExcludedCategories, &e.ExcludedProductTypes, &e.ExcludedOrderTypes, &e.ExcludedPaymentMethods} {
		*l = slices.Sorted(slices.Values(*l))
	}
	return p
}

// WithPoints returns r with its points rules replaced by p.
func (r Rules) WithPoints(p Points) Rules {
	r.Earning, r.Spending, r.Expiry = p.Earning, p.Spending, p.Expiry
	return r
}

// Violation is one value of a rules change that cannot work: its path (e.g.
// "earning.purchaseStepCents") and why.
type Violation struct {
	Path    string
	Message string
}

// Check reports every value of p that cannot work for a programme with these categories.
func (p Points) Check(categories []string) []Violation {
	var vs []Violation
	rng := func(path string, v, lo, hi int64) {
		if v < lo || v > hi {
			vs = append(vs, Violation{path, fmt.Sprintf("%s must be in %d..%d, not %d", path, lo, hi, v)})
		}
	}
	e, s := p.Earning, p.Spending
	rng("earning.purchaseMinLineCents", e.PurchaseMinLineCents, 0, 100_000_000)
	rng("earning.purchaseStepCents", e.PurchaseStepCents, 1, 100_000_000)
	rng("earning.purchaseMilliPointsPerYuan", e.PurchaseMilliPointsPerYuan, 0, 100_000)
	rng("earning.purchaseLineCap", e.PurchaseLineCap, 0, 10_000_000)
	rng("earning.purchaseLineCapApp", e.PurchaseLineCapApp, 0, 10_000_000)
	rng("earning.plusMultiplier", e.PlusMultiplier, 1, 100)
	rng("earning.review", e.Review, 0, 1_000_000)
	rng("earning.photoReview", e.PhotoReview, 0, 1_000_000)
	rng("earning.checkIn", e.CheckIn, 0, 1_000_000)
	rng("earning.firstMobileOrderOfDay", e.FirstMobileOrderDay, 0, 1_000_000)
	rng("earning.pendingDays", int64(e.PendingDays), 0, 365)
	rng("spending.deductionStep", s.DeductionStep, 1, 10_000_000)
	rng("spending.deductionMinBalance", s.DeductionMinBalance, 0, 1_000_000_000)
	rng("spending.deductionMaxPercent", s.DeductionMaxPercent, 0, 100)
	rng("expiry.yearsAfterEarning", int64(p.Expiry.YearsAfterEarning), 0, 10)
	set := func(path string, values, known []string) {
		for i, v := range values {
			switch {
			case !slices.Contains(known, v):
				vs = append(vs, Violation{fmt.Sprintf("%s.%d", path, i), fmt.Sprintf("%q is not one of %v", v, known)})
			case slices.Index(values, v) < i:
				vs = append(vs, Violation{fmt.Sprintf("%s.%d", path, i), fmt.Sprintf("%q is listed twice", v)})
			}
		}
	}
	set("earning.excludedCategories", e.ExcludedCategories, categories)
	set("earning.excludedProductTypes", e.ExcludedProductTypes, ProductTypes)
	set("earning.excludedOrderTypes", e.ExcludedOrderTypes, OrderTypes)
	set("earning.excludedPaymentMethods", e.ExcludedPaymentMethods, PaymentMethods)
	return vs
}

package graph

import (
	"github.com/membergraph/membergraph/graph/model"
	"github.com/membergraph/membergraph/internal/rules"
)

// pointsRulesOut maps the points rules to the API's types; p's lists are sorted already.
func pointsRulesOut(p rules.Points) *model.PointsRules {
	e, s := p.Earning, p.Spending
	return &model.PointsRules{
		Earning: &model.EarningRules{
			PurchaseMinLineCents: int(e.PurchaseMinLineCents), PurchaseStepCents: int(e.PurchaseStepCents),
			PurchaseMilliPointsPerYuan: int(e.PurchaseMilliPointsPerYuan),
			PurchaseLineCap:            int(e.PurchaseLineCap), PurchaseLineCapApp: int(e.PurchaseLineCapApp),
			ExcludedCategories:     append([]string{}, e.ExcludedCategories...),
			ExcludedProductTypes:   enums[model.ProductType](e.ExcludedProductTypes),
			ExcludedOrderTypes:     enums[model.OrderType](e.ExcludedOrderTypes),
			ExcludedPaymentMethods: enums[model.PaymentMethod](e.ExcludedPaymentMethods),
			PlusMultiplier:         int(e.PlusMultiplier), Review: int(e.Review), PhotoReview: int(e.PhotoReview),
			CheckIn: int(e.CheckIn), FirstMobileOrderOfDay: int(e.FirstMobileOrderDay), PendingDays: e.PendingDays,
		},
		Spending: &model.SpendingRules{DeductionStep: int(s.DeductionStep), DeductionMinBalance: int(s.DeductionMinBalance),
			DeductionMaxPercent: int(s.DeductionMaxPercent)},
		Expiry: &model.ExpiryRules{YearsAfterEarning: p.Expiry.YearsAfterEarning},
	}
}

func pointsRulesIn(in model.UpdatePointsRulesInput) rules.Points {
	e, s := in.Earning, in.Spending
	return rules.Points{
		Earning: rules.Earning{
			PurchaseMinLineCents: int64(e.PurchaseMinLineCents), PurchaseStepCents: int64(e.PurchaseStepCents),
			PurchaseMilliPointsPerYuan: int64(e.PurchaseMilliPointsPerYuan),
			PurchaseLineCap:            int64(e.PurchaseLineCap), PurchaseLineCapApp: int64(e.PurchaseLineCapApp),
			ExcludedCategories:     append([]string{}, e.ExcludedCategories...),
			ExcludedProductTypes:   strs(e.ExcludedProductTypes),
			ExcludedOrderTypes:     strs(e.ExcludedOrderTypes),
			ExcludedPaymentMethods: strs(e.ExcludedPaymentMethods),
			PlusMultiplier:         int64(e.PlusMultiplier), Review: int64(e.Review), PhotoReview: int64(e.PhotoReview),
			CheckIn: int64(e.CheckIn), FirstMobileOrderDay: int64(e.FirstMobileOrderOfDay), PendingDays: e.PendingDays,
		},
		Spending: rules.Spending{DeductionStep: int64(s.DeductionStep), DeductionMinBalance: int64(s.DeductionMinBalance),
			DeductionMaxPercent: int64(s.DeductionMaxPercent)},
		Expiry: rules.Expiry{YearsAfterEarning: in.Expiry.YearsAfterEarning},
	}
}

func enums[T ~string](ss []string) []T {
	out := make([]T, len(ss))
	for i, s := range ss {
		out[i] = T(s)
	}
	return out
}

func strs[T ~string](ts []T) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

package plus

import (
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/score/formula"
)

// SavingsWindowMonths is how far "would have saved" looks back: the current programme-local
// month and the 11 before it (docs/domain.md §5 "the last 12 months").
const SavingsWindowMonths = 12

// Hypothetical uses of a benefit when "would have saved" applies a claim-counting rule to the
// member's past orders: one coupon per confirmed order, one free pickup per order returned,
// each within the benefit's quota. Which one a rule uses is data (rules.SavingsRule.WouldUseOn).
const (
	UseOnOrder  = "ORDER"
	UseOnReturn = "RETURN"
)

// SavingsMonth is one programme-local month of the counters the score and medals keep
// (internal/activity): spend and orders net of refunds, by the month the order was completed.
type SavingsMonth struct {
	Month      formula.Month
	SpendCents int64
	// CategoryCents is the spend of the categories the rules name.
	CategoryCents map[string]int64
	// Orders are the completed orders not refunded in full; Returned the orders with a refund.
	Orders, Returned int
}

// SavingsBenefit is a PLUS catalogue entry as the claim-counting rules need it.
type SavingsBenefit struct {
	Quota          int    // per QuotaPeriod; 0 = unlimited
	QuotaPeriod    string // NONE, MONTH or YEAR
	FaceValueCents int64
}

// SavingsClaims are a benefit's PLUS claims in the current term.
type SavingsClaims struct {
	Count          int
	FaceValueCents int64 // the face values recorded on the claims, summed
}

// SavingsTerm is what the member received in the current term.
type SavingsTerm struct {
	// SpendCents and CategoryCents: confirmed spend since the term began, net of refunds.
	SpendCents    int64
	CategoryCents map[string]int64
	// BonusPoints are the PLUS-funded points since the term began, less those taken back by
	// order refunds.
	BonusPoints int64
	// Claims by benefit key.
	Claims map[string]SavingsClaims
}

// SavingsFacts are what the savings rules read; LoadSavingsFacts reads them in a few
// set-based statements.
type SavingsFacts struct {
	Rules          rules.PlusBenefits
	PointsPerYuan  int64 // points worth ¥1
	PlusMultiplier int64 // the total multiple of the purchase reward a PLUS member earns
	// Term is nil when no term runs now.
	Term *SavingsTerm
	// Window are the months of the "would have saved" window that have counters, oldest first.
	Window []SavingsMonth
	// WindowBasePoints are the purchase points (1×) the window's orders earned, net of refunds.
	WindowBasePoints int64
	// Benefits are the PLUS catalogue entries by key.
	Benefits map[string]SavingsBenefit
}

// SavingsLine is one rule's share.
type SavingsLine struct {
	Rule                string
	TermCents           int64
	WouldHaveSavedCents int64
}

// Savings is what PLUS saved the member this term and would have saved over the window.
type Savings struct {
	TermCents           int64
	WouldHaveSavedCents int64
	// Breakdown has one line per savings rule, in the rules' order.
	Breakdown []SavingsLine
}

// ComputeSavings applies the savings rules of docs/domain.md §5: the bonus points at their
// value, a permille of the (category's) spend, the face value of each coupon, a fixed value
// per use. "This term" reads what the member received since the term began; "would have
// saved" applies the same rules to the window's confirmed, unrefunded orders. Amounts are
// floored to the cent, per rule.
func ComputeSavings(f SavingsFacts) Savings {
	var out Savings
	for _, r := range f.Rules.Savings {
		l := SavingsLine{Rule: r.Key}
		switch r.Kind {
		case rules.SavingsBonusPoints:
			if t := f.Term; t != nil {
				l.TermCents = pointsCents(t.BonusPoints, f.PointsPerYuan)
			}
			l.WouldHaveSavedCents = pointsCents(f.WindowBasePoints*max(f.PlusMultiplier-1, 0), f.PointsPerYuan)
		case rules.SavingsSpendPermille:
			if t := f.Term; t != nil {
				l.TermCents = permille(spendOf(t.SpendCents, t.CategoryCents, r.Category), r.Permille)
			}
			var spend int64
			for _, m := range f.Window {
				spend += spendOf(m.SpendCents, m.CategoryCents, r.Category)
			}
			l.WouldHaveSavedCents = permille(spend, r.Permille)
		case rules.SavingsFaceValue, rules.SavingsPerUse:
			b := f.Benefits[r.BenefitKey]
			each := r.CentsEach
			if r.Kind == rules.SavingsFaceValue {
				each = b.FaceValueCents
			}
			if t := f.Term; t != nil {
				c := t.Claims[r.BenefitKey]
				l.TermCents = int64(c.Count) * r.CentsEach
				if r.Kind == rules.SavingsFaceValue {
					l.TermCents = c.FaceValueCents // as recorded at each claim
				}
			}
			l.WouldHaveSavedCents = int64(wouldUse(f.Window, b, r.WouldUseOn)) * each
		}
		out.TermCents += l.TermCents
		out.WouldHaveSavedCents += l.WouldHaveSavedCents
		out.Breakdown = append(out.Breakdown, l)
	}
	return out
}

// wouldUse counts the uses the window's orders would have made of b, within its quota: per
// month for a monthly quota, per calendar year for a yearly one.
func wouldUse(window []SavingsMonth, b SavingsBenefit, on string) int {
	used := map[int]int{} // quota period → uses
	total := 0
	for _, m := range window {
		n := m.Orders
		if on == UseOnReturn {
			n = m.Returned
		}
		if b.Quota > 0 {
			period := int(m.Month)
			if b.QuotaPeriod == "YEAR" {
				period = m.Month.Year()
			}
			n = min(max(n, 0), b.Quota-used[period])
			used[period] += n
		}
		total += max(n, 0)
	}
	return total
}

func spendOf(all int64, byCategory map[string]int64, category string) int64 {
	if category == "" {
		return max(all, 0)
	}
	return max(byCategory[category], 0)
}

func permille(cents, pm int64) int64 { return cents * pm / 1000 }

// pointsCents values points at pointsPerYuan points to ¥1, floored to the cent.
func pointsCents(points, pointsPerYuan int64) int64 {
	if pointsPerYuan <= 0 || points <= 0 {
		return 0
	}
	return points * 100 / pointsPerYuan
}

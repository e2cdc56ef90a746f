package rules

import (
	"fmt"
	"regexp"
	"slices"
)

var keyPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)

// PlusBenefits is what a PLUS membership entitles a member to beyond the 10× points, and how
// its savings are reckoned (docs/domain.md §5 "Savings rules"). The benefits themselves are
// entries of the programme's benefit catalogue, named here by key.
type PlusBenefits struct {
	// Benefits are the keys of the catalogue entries a member holds while a PLUS term runs;
	// a coupon's face value is the catalogue entry's.
	Benefits []string `json:"benefits"`
	// Savings are the savings rules, one per benefit, in the order Member.plus.savings lists
	// their amounts.
	Savings []SavingsRule `json:"savings"`
}

// The kinds of savings rule.
const (
	// SavingsBonusPoints values the PLUS bonus points at the programme's points per yuan.
	SavingsBonusPoints = "BONUS_POINTS"
	// SavingsSpendPermille is Permille of the confirmed, unrefunded spend, of Category alone
	// when it is set.
	SavingsSpendPermille = "SPEND_PERMILLE"
	// SavingsFaceValue adds the recorded face value of each claim of BenefitKey.
	SavingsFaceValue = "FACE_VALUE"
	// SavingsPerUse adds CentsEach for each claim of BenefitKey.
	SavingsPerUse = "PER_USE"
)

// SavingsRule is one way PLUS saves a member money.
type SavingsRule struct {
	// Key names the rule in the savings breakdown, e.g. EXTRA_5_PERCENT.
	Key string `json:"key"`
	// Kind is one of the Savings* kinds.
	Kind string `json:"kind"`
	// Permille of the spend (SPEND_PERMILLE): 50 is 5 %.
	Permille int64 `json:"permille,omitempty"`
	// Category limits a SPEND_PERMILLE rule to one category's spend; empty means all spend.
	Category string `json:"category,omitempty"`
	// BenefitKey is the PLUS benefit whose claims a FACE_VALUE or PER_USE rule counts.
	BenefitKey string `json:"benefitKey,omitempty"`
	// CentsEach is what one claim saves (PER_USE).
	CentsEach int64 `json:"centsEach,omitempty"`
	// WouldUseOn is what one use of the benefit stands for when "would have saved" applies a
	// FACE_VALUE or PER_USE rule to past orders: ORDER (one per confirmed order, a coupon) or
	// RETURN (one per order with a return, a return pickup), within the benefit's quota.
	WouldUseOn string `json:"wouldUseOn,omitempty"`
}

// The preset's PLUS benefit keys (docs/domain.md §5 "Benefits").
const (
	PlusExtraDiscount   = "PLUS_EXTRA_5_OFF"
	PlusApparelDiscount = "PLUS_APPAREL_10_OFF"
	PlusMonthlyCoupon   = "PLUS_MONTHLY_COUPON"
	PlusReturnPickup    = "PLUS_FREE_RETURN_PICKUP"
	PlusHealthVIP       = "PLUS_HEALTH_VIP"
	PlusVIPHotline      = "PLUS_VIP_HOTLINE"
)

// JDPlusBenefits is the preset's PLUS catalogue and savings rules: 5 % off every order, 10 %
// off apparel, ¥10 all-category coupons, free return pickups valued at ¥10, a health VIP and
// the VIP hotline; the bonus points count at their value.
func JDPlusBenefits() PlusBenefits {
	return PlusBenefits{
		Benefits: []string{PlusExtraDiscount, PlusApparelDiscount, PlusMonthlyCoupon, PlusReturnPickup, PlusHealthVIP, PlusVIPHotline},
		Savings: []SavingsRule{
			{Key: "BONUS_POINTS", Kind: SavingsBonusPoints},
			{Key: "EXTRA_5_PERCENT", Kind: SavingsSpendPermille, Permille: 50},
			{Key: "APPAREL_10_PERCENT", Kind: SavingsSpendPermille, Permille: 100, Category: "APPAREL"},
			{Key: "COUPONS", Kind: SavingsFaceValue, BenefitKey: PlusMonthlyCoupon, WouldUseOn: "ORDER"},
			{Key: "RETURN_PICKUPS", Kind: SavingsPerUse, BenefitKey: PlusReturnPickup, CentsEach: 1000, WouldUseOn: "RETURN"},
		},
	}
}

// PlusBenefitRules returns the PLUS benefits and savings rules; a programme stored before
// PLUS was served gets the preset's.
func (r Rules) PlusBenefitRules() PlusBenefits {
	if r.PlusBenefits.Benefits == nil && r.PlusBenefits.Savings == nil {
		return JDPlusBenefits()
	}
	return r.PlusBenefits
}

// Holds reports whether PLUS holds catalogue entry key.
func (p PlusBenefits) Holds(key string) bool { return slices.Contains(p.Benefits, key) }

// Check reports every PLUS benefit and savings rule of p that cannot work for a programme
// with these categories, its path relative to p (benefits.0, savings.2.permille). Whether the
// benefit keys are in the catalogue is the programme's check.
func (p PlusBenefits) Check(categories []string) []Violation {
	var vs []Violation
	add := func(path, format string, args ...any) {
		vs = append(vs, Violation{path, fmt.Sprintf(format, args...)})
	}
	if len(p.Benefits) > 50 || len(p.Savings) > 20 {
		add("savings", "at most 50 benefits and 20 savings rules")
		return vs
	}
	seen := map[string]bool{}
	for i, b := range p.Benefits {
		if b == "" || seen[b] {
			add(fmt.Sprintf("benefits.%d", i), "a benefit key must be given and listed once, not %q", b)
		}
		seen[b] = true
	}
	keys := map[string]bool{}
	for i, s := range p.Savings {
		path := fmt.Sprintf("savings.%d", i)
		if !keyPattern.MatchString(s.Key) || keys[s.Key] {
			add(path+".key", "a rule key is A–Z, 0–9 and _, starting with a letter, at most 32, and used once, not %q", s.Key)
		}
		keys[s.Key] = true
		switch s.Kind {
		case SavingsBonusPoints:
		case SavingsSpendPermille:
			if s.Permille <= 0 || s.Permille > 1000 {
				add(path+".permille", "a share of the spend is 1..1000 permille, not %d", s.Permille)
			}
			if s.Category != "" && !slices.Contains(categories, s.Category) {
				add(path+".category", "%q is not one of the programme's categories", s.Category)
			}
		case SavingsFaceValue, SavingsPerUse:
			if !seen[s.BenefitKey] {
				add(path+".benefitKey", "%q is not one of the PLUS benefits listed", s.BenefitKey)
			}
			if s.Kind == SavingsPerUse && (s.CentsEach <= 0 || s.CentsEach > 100_000_00) {
				add(path+".centsEach", "a use is worth 1..10,000,000 cents, not %d", s.CentsEach)
			}
			if s.WouldUseOn != "ORDER" && s.WouldUseOn != "RETURN" {
				add(path+".wouldUseOn", "a use stands for an ORDER or a RETURN, not %q", s.WouldUseOn)
			}
		default:
			add(path+".kind", "the kind is %s, %s, %s or %s, not %q", SavingsBonusPoints, SavingsSpendPermille, SavingsFaceValue, SavingsPerUse, s.Kind)
		}
	}
	return vs
}

package rules

import (
	"fmt"
	"slices"
)

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

// Validate reports the first PLUS benefit or savings rule that cannot work, naming its JSON
// path. Whether the keys are in the catalogue is the programme's check.
func (p PlusBenefits) Validate() error {
	seen := map[string]bool{}
	for i, b := range p.Benefits {
		if b == "" || seen[b] {
			return fmt.Errorf("%w: plusBenefits.benefits.%d must be a key used once", ErrInvalid, i)
		}
		seen[b] = true
	}
	rules := map[string]bool{}
	for i, s := range p.Savings {
		path := fmt.Sprintf("plusBenefits.savings.%d", i)
		if s.Key == "" || rules[s.Key] {
			return fmt.Errorf("%w: %s needs a key used once", ErrInvalid, path)
		}
		rules[s.Key] = true
		switch s.Kind {
		case SavingsBonusPoints:
		case SavingsSpendPermille:
			if s.Permille <= 0 || s.Permille > 1000 {
				return fmt.Errorf("%w: %s.permille must be in 1..1000", ErrInvalid, path)
			}
		case SavingsFaceValue, SavingsPerUse:
			if !seen[s.BenefitKey] {
				return fmt.Errorf("%w: %s.benefitKey must be one of plusBenefits.benefits", ErrInvalid, path)
			}
			if s.Kind == SavingsPerUse && s.CentsEach <= 0 {
				return fmt.Errorf("%w: %s.centsEach must be > 0", ErrInvalid, path)
			}
			if s.WouldUseOn != "ORDER" && s.WouldUseOn != "RETURN" {
				return fmt.Errorf("%w: %s.wouldUseOn must be ORDER or RETURN", ErrInvalid, path)
			}
		default:
			return fmt.Errorf("%w: %s.kind must be %s, %s, %s or %s", ErrInvalid, path,
				SavingsBonusPoints, SavingsSpendPermille, SavingsFaceValue, SavingsPerUse)
		}
	}
	return nil
}

package program

import (
	"slices"
	"strings"

	"github.com/membergraph/membergraph/ent/benefit"
	entmedal "github.com/membergraph/membergraph/ent/medal"
	"github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/rules"
)

// PresetKey is the key of the shipped JD-style programme, the one a first start creates.
const PresetKey = "jd"

// JDPreset is the shipped "JD-style" programme of docs/domain.md: the five tiers at
// 0 / 1,000 / 2,500 / 4,500 / 7,000 and a benefit catalogue that grows toward the top and
// leans to service there. Upgrade gifts grow with the tier; the yearly deductions only
// apply when an operator switches the programme to cumulative growth.
func JDPreset() Definition {
	const (
		price     = benefit.KindPRICE
		logistics = benefit.KindLOGISTICS
		service   = benefit.KindSERVICE
		value     = benefit.KindVALUE_ADDED
		none      = benefit.QuotaPeriodNONE
		month     = benefit.QuotaPeriodMONTH
		year      = benefit.QuotaPeriodYEAR
	)
	def := Definition{
		Key:           PresetKey,
		Name:          "JD-style member programme",
		TimeZone:      "Asia/Shanghai",
		PointsPerYuan: 100,
		Rules:         rules.JDPreset(),
		Benefits: []BenefitDef{
			{Key: "MEMBER_PRICE", Name: "Member-only prices", Kind: price, QuotaPeriod: none,
				Description: "Prices reserved for members on selected goods."},
			{Key: "BIRTHDAY_COUPON", Name: "Birthday coupon", Kind: price, Quota: 1, QuotaPeriod: year,
				Description: "A coupon in the month of the member's birthday."},
			{Key: "TIER_GIFT_PACK", Name: "Tier gift pack", Kind: price, Quota: 1, QuotaPeriod: year,
				Description: "A yearly pack of coupons for the tier."},
			{Key: "FREE_SHIPPING_2", Name: "Free-shipping coupons ×2", Kind: logistics, Quota: 2, QuotaPeriod: month,
				Description: "Two free-shipping coupons a month."},
			{Key: "FREE_SHIPPING_5", Name: "Free-shipping coupons ×5", Kind: logistics, Quota: 5, QuotaPeriod: month,
				Description: "Five free-shipping coupons a month."},
			{Key: "DOUBLE_FREE_SHIPPING", Name: "Double free shipping", Kind: logistics, QuotaPeriod: none,
				Description: "Free shipping both ways on returns."},
			{Key: "DOORSTEP_EXCHANGE", Name: "Door-step exchange", Kind: logistics, QuotaPeriod: none,
				Description: "The replacement is brought when the return is picked up."},
			{Key: "FLASH_REFUND", Name: "Flash refund", Kind: service, QuotaPeriod: none,
				Description: "Refund paid when the return is picked up, before it is inspected."},
			{Key: "REPLACE_NOT_REPAIR", Name: "Replace instead of repair", Kind: service, QuotaPeriod: none,
				Description: "A faulty item is replaced rather than sent for repair."},
			{Key: "VIP_HOTLINE", Name: "VIP hotline", Kind: service, QuotaPeriod: none,
				Description: "A dedicated customer-service line."},
			{Key: "SERVICE_24H", Name: "24-hour service", Kind: service, QuotaPeriod: none,
				Description: "Customer service around the clock."},
			{Key: "PARTNER_MEMBERSHIP_TRIAL", Name: "Partner membership trial", Kind: value, Quota: 1, QuotaPeriod: year,
				Description: "A month of a partner brand's membership."},
			{Key: "UPGRADE_COUPON", Name: "Upgrade coupon", Kind: price, QuotaPeriod: none,
				Description: "A coupon issued with the upgrade gift when a member reaches a tier."},
			{Key: "MEDAL_COUPON", Name: "Medal coupon", Kind: price, QuotaPeriod: none,
				Description: "A coupon issued once when a medal reaches a level that carries one."},
			{Key: "POINTS_BOOST", Name: "Points multiplier days", Kind: value, Quota: 2, QuotaPeriod: month,
				Description: "Days on which purchases earn extra points."},
			// PLUS's catalogue (docs/domain.md §5): held while a PLUS term runs, whatever the tier.
			{Key: rules.PlusExtraDiscount, Name: "PLUS extra 5% off", Kind: price, QuotaPeriod: none,
				Description: "5% off every order on top of other prices."},
			{Key: rules.PlusApparelDiscount, Name: "PLUS 10% off apparel", Kind: price, QuotaPeriod: none,
				Description: "10% off apparel."},
			{Key: rules.PlusMonthlyCoupon, Name: "PLUS all-category coupon", Kind: price, Quota: 4, QuotaPeriod: month, FaceValueCents: 1000,
				Description: "Four ¥10 coupons a month, good in every category."},
			{Key: rules.PlusReturnPickup, Name: "PLUS free return pickup", Kind: logistics, Quota: 2, QuotaPeriod: month,
				Description: "Two returns a month picked up at the door for free."},
			{Key: rules.PlusHealthVIP, Name: "PLUS health VIP", Kind: value, QuotaPeriod: none,
				Description: "Online doctor consultations and health-service discounts."},
			{Key: rules.PlusVIPHotline, Name: "PLUS VIP hotline", Kind: service, QuotaPeriod: none,
				Description: "The PLUS members' customer-service line."},
		},
		Tiers: []TierDef{
			{Key: "REGISTERED", Name: "Registered", MinScore: 0,
				Description: "Every member starts here.",
				Benefits:    []string{"MEMBER_PRICE"}},
			{Key: "BRONZE", Name: "Bronze", MinScore: 1000, GiftPoints: 100, YearlyDeduction: 200,
				Benefits: []string{"MEMBER_PRICE", "BIRTHDAY_COUPON", "FREE_SHIPPING_2"}},
			{Key: "SILVER", Name: "Silver", MinScore: 2500, GiftPoints: 200, GiftBenefits: []string{"UPGRADE_COUPON"}, YearlyDeduction: 500,
				Benefits: []string{"MEMBER_PRICE", "BIRTHDAY_COUPON", "TIER_GIFT_PACK", "FREE_SHIPPING_2", "FLASH_REFUND"}},
			{Key: "GOLD", Name: "Gold", MinScore: 4500, GiftPoints: 500, GiftBenefits: []string{"UPGRADE_COUPON"}, YearlyDeduction: 900,
				Benefits: []string{"MEMBER_PRICE", "BIRTHDAY_COUPON", "TIER_GIFT_PACK", "FREE_SHIPPING_5", "DOORSTEP_EXCHANGE",
					"FLASH_REFUND", "REPLACE_NOT_REPAIR", "VIP_HOTLINE", "POINTS_BOOST"}},
			{Key: "DIAMOND", Name: "Diamond", MinScore: 7000, GiftPoints: 1000, GiftBenefits: []string{"UPGRADE_COUPON"}, YearlyDeduction: 1400,
				Benefits: []string{"MEMBER_PRICE", "BIRTHDAY_COUPON", "TIER_GIFT_PACK", "FREE_SHIPPING_5", "DOUBLE_FREE_SHIPPING",
					"DOORSTEP_EXCHANGE", "FLASH_REFUND", "REPLACE_NOT_REPAIR", "VIP_HOTLINE", "SERVICE_24H",
					"POINTS_BOOST", "PARTNER_MEMBERSHIP_TRIAL"}},
		},
	}
	def.Medals = presetMedals(def.Rules.Categories, def.Rules.Earning.ExcludedCategories)
	return def
}

// presetMedals are docs/domain.md §6's medals: one per category that earns points, levelled at
// ¥500 / ¥2,000 / ¥5,000 / ¥10,000 / ¥20,000 over 12 months, and the five behaviour medals
// (orders 5/20/50/100/200, the others 5/20/50/100/300). Levels 3 and 5 carry a coupon.
func presetMedals(categories, excluded []string) []MedalDef {
	coupon := [][]string{nil, nil, {"MEDAL_COUPON"}, nil, {"MEDAL_COUPON"}}
	var out []MedalDef
	for _, c := range categories {
		if slices.Contains(excluded, c) {
			continue
		}
		out = append(out, MedalDef{Key: c, Name: medalName(c), Kind: entmedal.KindCATEGORY,
			Thresholds: []int64{500, 2000, 5000, 10000, 20000}, LevelBenefits: coupon})
	}
	for _, b := range medal.Behaviours {
		th := []int64{5, 20, 50, 100, 300}
		if b == medal.Orders {
			th = []int64{5, 20, 50, 100, 200}
		}
		out = append(out, MedalDef{Key: b, Name: medalName(b), Kind: entmedal.KindBEHAVIOR, Thresholds: th, LevelBenefits: coupon})
	}
	return out
}

// medalName turns a key into a name: PERSONAL_CARE → "Personal care".
func medalName(key string) string {
	s := strings.ToLower(strings.ReplaceAll(key, "_", " "))
	return strings.ToUpper(s[:1]) + s[1:]
}

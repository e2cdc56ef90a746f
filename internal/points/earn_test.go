package points_test

import (
	"testing"

	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/rules"
)

func order(channel string, mutate func(*payload.Body), lines ...payload.Line) points.Activity {
	b := payload.Body{OrderID: "o1", OrderType: "NORMAL", PaymentMethod: "CASH", Lines: lines}
	if mutate != nil {
		mutate(&b)
	}
	return points.Activity{Kind: payload.OrderCompleted, Channel: channel, Body: b}
}

func line(paid int64) payload.Line {
	return payload.Line{SKU: "s1", Category: "PHONES", PaidCents: paid, ProductType: "PHYSICAL"}
}

func sum(gs []points.Grant, kind pointentry.Kind) (n int64) {
	for _, g := range gs {
		if g.Kind == kind {
			n += g.Amount
		}
	}
	return n
}

// TestPurchaseEarning covers every purchase case of docs/domain.md §3 "Earning".
func TestPurchaseEarning(t *testing.T) {
	r := rules.JDPreset()
	for _, tc := range []struct {
		name string
		a    points.Activity
		want int64
	}{
		{"below ¥50 earns nothing", order("WEB", nil, line(4999)), 0},
		{"¥50 → 5", order("WEB", nil, line(5000)), 5},
		{"¥57 → 5 (floored to ¥50)", order("WEB", nil, line(5700)), 5},
		{"¥59.99 → 5", order("WEB", nil, line(5999)), 5},
		{"¥60 → 6", order("WEB", nil, line(6000)), 6},
		{"¥1,234 → 123", order("WEB", nil, line(123400)), 123},
		{"cap 1,000 per line off the app", order("WEB", nil, line(50_000_000)), 1000},
		{"cap 2,000 per line in the app", order("APP", nil, line(50_000_000)), 2000},
		{"the app cap applies to the app only", order("MINI_PROGRAM", nil, line(50_000_000)), 1000},
		{"each line on its own", order("WEB", nil, line(123400), payload.Line{SKU: "s2", Category: "FOOD", PaidCents: 5700, ProductType: "PHYSICAL"}), 128},
		{"virtual goods", order("WEB", nil, payload.Line{SKU: "t", Category: "PHONES", PaidCents: 100000, ProductType: "VIRTUAL"}), 0},
		{"services", order("WEB", nil, payload.Line{SKU: "t", Category: "PHONES", PaidCents: 100000, ProductType: "SERVICE"}), 0},
		{"investment metals", order("WEB", nil, payload.Line{SKU: "g", Category: "INVESTMENT_METALS", PaidCents: 100000, ProductType: "PHYSICAL"}), 0},
		{"agricultural supplies", order("WEB", nil, payload.Line{SKU: "g", Category: "AGRICULTURAL_SUPPLIES", PaidCents: 100000, ProductType: "PHYSICAL"}), 0},
		{"whole vehicles", order("WEB", nil, payload.Line{SKU: "g", Category: "WHOLE_VEHICLES", PaidCents: 100000, ProductType: "PHYSICAL"}), 0},
		{"group buy", order("WEB", func(b *payload.Body) { b.OrderType = "GROUP_BUY" }, line(100000)), 0},
		{"auction", order("WEB", func(b *payload.Body) { b.OrderType = "AUCTION" }, line(100000)), 0},
		{"corporate transfer", order("WEB", func(b *payload.Body) { b.PaymentMethod = "CORPORATE_TRANSFER" }, line(100000)), 0},
		{"postal remittance", order("WEB", func(b *payload.Body) { b.PaymentMethod = "POSTAL_REMITTANCE" }, line(100000)), 0},
		{"gift card pays fine", order("WEB", func(b *payload.Body) { b.PaymentMethod = "GIFT_CARD" }, line(100000)), 100},
	} {
		got := points.Earn(r, tc.a, points.Facts{})
		if n := sum(got, pointentry.KindPURCHASE); n != tc.want {
			t.Errorf("%s: %d points, want %d", tc.name, n, tc.want)
		}
		for _, g := range got {
			if g.Kind == pointentry.KindPURCHASE && (g.Funding != points.FundPlatform || !g.FromOrder || g.Description == "") {
				t.Errorf("%s: grant %+v", tc.name, g)
			}
		}
	}
}

func TestPlusBonus(t *testing.T) {
	r := rules.JDPreset()
	got := points.Earn(r, order("WEB", nil, line(123400)), points.Facts{PlusActive: true})
	if base, bonus := sum(got, pointentry.KindPURCHASE), sum(got, pointentry.KindPLUS_BONUS); base != 123 || bonus != 9*123 {
		t.Fatalf("PLUS: base %d bonus %d, want 123 and 1107 (10× in all)", base, bonus)
	}
	for _, g := range got {
		if g.Kind == pointentry.KindPLUS_BONUS && g.Funding != points.FundPlus {
			t.Errorf("PLUS bonus funded by %s", g.Funding)
		}
	}
	if bonus := sum(points.Earn(r, order("WEB", nil, line(123400)), points.Facts{}), pointentry.KindPLUS_BONUS); bonus != 0 {
		t.Errorf("non-PLUS member got a bonus of %d", bonus)
	}
	if got := points.Earn(r, order("WEB", func(b *payload.Body) { b.OrderType = "AUCTION" }, line(123400)), points.Facts{PlusActive: true}); len(got) != 0 {
		t.Errorf("PLUS bonus on an excluded order: %+v", got)
	}
}

func TestFixedRewards(t *testing.T) {
	r := rules.JDPreset()
	review := points.Activity{Kind: payload.ReviewPosted, Channel: "APP", Body: payload.Body{OrderID: "o1", SKUs: []string{"s1"}}}
	photo := points.Activity{Kind: payload.PhotoReviewPosted, Channel: "APP", Body: payload.Body{OrderID: "o1", SKUs: []string{"s1"}}}
	checkIn := points.Activity{Kind: payload.CheckIn, Channel: "APP"}
	for _, tc := range []struct {
		name string
		a    points.Activity
		f    points.Facts
		kind pointentry.Kind
		want int64
	}{
		{"review 10", review, points.Facts{}, pointentry.KindREVIEW, 10},
		{"second review of the line", review, points.Facts{AlreadyRewarded: true}, pointentry.KindREVIEW, 0},
		{"photo review 20", photo, points.Facts{}, pointentry.KindPHOTO_REVIEW, 20},
		{"check-in 5", checkIn, points.Facts{}, pointentry.KindCHECK_IN, 5},
		{"second check-in of the day", checkIn, points.Facts{AlreadyRewarded: true}, pointentry.KindCHECK_IN, 0},
		{"first mobile order of the day 10", order("APP", nil, line(100)), points.Facts{}, pointentry.KindFIRST_MOBILE_ORDER, 10},
		{"mini-program is mobile", order("MINI_PROGRAM", nil, line(100)), points.Facts{}, pointentry.KindFIRST_MOBILE_ORDER, 10},
		{"web is not mobile", order("WEB", nil, line(100)), points.Facts{}, pointentry.KindFIRST_MOBILE_ORDER, 0},
		{"second mobile order of the day", order("APP", nil, line(100)), points.Facts{AlreadyRewarded: true}, pointentry.KindFIRST_MOBILE_ORDER, 0},
		{"login earns nothing", points.Activity{Kind: payload.Login, Channel: "APP"}, points.Facts{}, pointentry.KindCHECK_IN, 0},
	} {
		if got := sum(points.Earn(r, tc.a, tc.f), tc.kind); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	// Every number is configuration.
	r.Earning.Review, r.Earning.PurchaseLineCap = 30, 50
	if got := sum(points.Earn(r, review, points.Facts{}), pointentry.KindREVIEW); got != 30 {
		t.Errorf("configured review reward: %d", got)
	}
	if got := sum(points.Earn(r, order("WEB", nil, line(10_000_00)), points.Facts{}), pointentry.KindPURCHASE); got != 50 {
		t.Errorf("configured cap: %d", got)
	}
}

// Package points is the points currency (京豆) of docs/domain.md §3: the earning rules, the
// append-only ledger with its lots, spending, refunds, expiry and quotes. Points are
// integers and every entry names who funds it.
package points

import (
	"fmt"
	"slices"

	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/rules"
)

// Funding sources of docs/domain.md §3 (stores and partners fund as STORE:<id>, PARTNER:<key>).
const (
	FundPlatform = "PLATFORM"
	FundPlus     = "PLUS"
)

// Activity is what the earning rules look at: an accepted event.
type Activity struct {
	Kind    payload.Kind
	Channel string
	Body    payload.Body
}

// Facts are what the rules need to know beyond the event; the ledger looks them up.
type Facts struct {
	PlusActive bool // the member holds an active PLUS membership
	// AlreadyRewarded: the reward this event would give was given before (a second
	// check-in the same day, a second review of the same line, a second mobile order the
	// same day).
	AlreadyRewarded bool
}

// Grant is one earning the rules award.
type Grant struct {
	Kind        pointentry.Kind
	Amount      int64
	Funding     string
	OrderID     string
	SKU         string
	Description string
	// FromOrder marks points earned by an order, which the pending period holds back.
	FromOrder bool
	// requestKey is the idempotency key of the request that grants it (an adjustment).
	requestKey string
}

// Earn applies the earning rules of r to an accepted activity: an event goes in, grants
// come out. It is the one place these rules live; live ingestion, tests and the model test
// all call it.
func Earn(r rules.Rules, a Activity, f Facts) []Grant {
	e := r.Earning
	fixed := func(kind pointentry.Kind, amount int64, desc string) []Grant {
		if amount <= 0 || f.AlreadyRewarded {
			return nil
		}
		g := Grant{Kind: kind, Amount: amount, Funding: FundPlatform, OrderID: a.Body.OrderID, Description: desc}
		if len(a.Body.SKUs) > 0 {
			g.SKU = a.Body.SKUs[0]
		}
		return []Grant{g}
	}
	switch a.Kind {
	case payload.OrderCompleted:
		grants := purchase(r, a, f)
		if isMobile(a.Channel) {
			grants = append(grants, fixed(pointentry.KindFIRST_MOBILE_ORDER, e.FirstMobileOrderDay,
				fmt.Sprintf("First mobile order of the day (order %s)", a.Body.OrderID))...)
		}
		return grants
	case payload.ReviewPosted:
		return fixed(pointentry.KindREVIEW, e.Review, fmt.Sprintf("Review of order %s", a.Body.OrderID))
	case payload.PhotoReviewPosted:
		return fixed(pointentry.KindPHOTO_REVIEW, e.PhotoReview, fmt.Sprintf("Photo review of order %s", a.Body.OrderID))
	case payload.CheckIn:
		return fixed(pointentry.KindCHECK_IN, e.CheckIn, "Daily check-in")
	}
	return nil
}

// isMobile: the app and the mini-program are the mobile channels.
func isMobile(channel string) bool { return channel == "APP" || channel == "MINI_PROGRAM" }

// purchase awards the per-line purchase reward and, for PLUS members, the PLUS bonus.
// The first-mobile-order fact does not apply to it, so AlreadyRewarded is ignored here.
func purchase(r rules.Rules, a Activity, f Facts) []Grant {
	e := r.Earning
	b := a.Body
	if slices.Contains(e.ExcludedOrderTypes, b.OrderType) || slices.Contains(e.ExcludedPaymentMethods, b.PaymentMethod) {
		return nil
	}
	lineCap := e.PurchaseLineCap
	if a.Channel == "APP" {
		lineCap = e.PurchaseLineCapApp
	}
	var grants []Grant
	for _, l := range b.Lines {
		base := PurchaseReward(e, l.PaidCents, lineCap)
		if base == 0 || slices.Contains(e.ExcludedProductTypes, l.ProductType) || slices.Contains(e.ExcludedCategories, l.Category) {
			continue
		}
		grants = append(grants, Grant{Kind: pointentry.KindPURCHASE, Amount: base, Funding: FundPlatform,
			OrderID: b.OrderID, SKU: l.SKU, FromOrder: true,
			Description: fmt.Sprintf("Order %s, item %s: ¥%d.%02d paid", b.OrderID, l.SKU, l.PaidCents/100, l.PaidCents%100)})
		// The line cap bounds the base: §3 caps "the purchase reward" and PLUS is 10× that
		// reward, so the bonus multiplies the capped base (a ¥20,000 web line: 1,000 + 9,000).
		if f.PlusActive && e.PlusMultiplier > 1 {
			grants = append(grants, Grant{Kind: pointentry.KindPLUS_BONUS, Amount: base * (e.PlusMultiplier - 1), Funding: FundPlus,
				OrderID: b.OrderID, SKU: l.SKU, FromOrder: true,
				Description: fmt.Sprintf("PLUS %d× points on order %s, item %s", e.PlusMultiplier, b.OrderID, l.SKU)})
		}
	}
	return grants
}

// PurchaseReward is the base reward of one paid line: nothing below the minimum; otherwise
// the amount floored to the step, at the configured rate, capped.
func PurchaseReward(e rules.Earning, paidCents, lineCap int64) int64 {
	if paidCents < e.PurchaseMinLineCents || paidCents <= 0 {
		return 0
	}
	floored := paidCents - paidCents%e.PurchaseStepCents
	reward := floored * e.PurchaseMilliPointsPerYuan / (100 * 1000)
	return min(reward, lineCap)
}

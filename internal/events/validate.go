package events

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/event"
	"github.com/membergraph/membergraph/internal/amount"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/ident"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/usererr"
)

var (
	providerPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)
	orderTypes      = []string{"NORMAL", "GROUP_BUY", "AUCTION"}
	paymentMethods  = []string{"CASH", "BANK_CARD", "GIFT_CARD", "BALANCE", "CORPORATE_TRANSFER", "POSTAL_REMITTANCE"}
	productTypes    = []string{"PHYSICAL", "VIRTUAL", "SERVICE"}
)

// Horizon is the earliest occurredAt an event may have at now. By default it is the first
// instant whose points are still alive under the programme's expiry rule (docs/domain.md §3
// "Expiry": points earned in year N lapse at the start of year N+years+1, so at now only
// earnings of year now−years or later count): with the preset's one year, 1 January of last
// year in the programme's zone. An older event would promise points born expired, which the
// balance never shows. It is configured through that rule (updatePointsRules'
// expiry.yearsAfterEarning), so the two cannot disagree.
func Horizon(prog *ent.Program, now time.Time) time.Time {
	loc, err := points.Location(prog.TimeZone)
	if err != nil {
		loc = time.UTC // the zone was checked when the programme was saved
	}
	years := max(prog.Rules.Expiry.YearsAfterEarning, 0)
	h := time.Date(now.In(loc).Year()-years, 1, 1, 0, 0, 0, 0, loc).UTC()
	// ExpiresAt is the rule's one statement; an instant before h must already be past it.
	for !points.ExpiresAt(h, loc, years).After(now) {
		h = time.Date(h.In(loc).Year()+1, 1, 1, 0, 0, 0, 0, loc).UTC()
	}
	return h
}

// validate checks an event on its own, before anything is read or written: occurredAt must
// lie between the Horizon and now (with ClockSkew), every amount within internal/amount's
// bounds and every id within internal/ident's rule.
func validate(prog *ent.Program, in Input, now time.Time, field string) error {
	var errs usererr.List
	horizon := Horizon(prog, now)
	ident.Check(&errs, field+".idempotencyKey", ident.Key, in.IdempotencyKey)
	ident.Check(&errs, field+".externalId", ident.ExternalID, in.ExternalID)
	if !slices.Contains(payload.Kinds, in.Kind) {
		errs.Add(usererr.InvalidArgument, field+".kind", "unknown kind %q", in.Kind)
	}
	if event.ChannelValidator(event.Channel(in.Channel)) != nil {
		errs.Add(usererr.InvalidArgument, field+".channel", "unknown channel %q", in.Channel)
	}
	switch {
	case in.OccurredAt.IsZero() || in.OccurredAt.After(now.Add(ClockSkew)):
		errs.Add(usererr.InvalidArgument, field+".occurredAt", "occurredAt must be given and not lie in the future")
	case in.OccurredAt.Before(horizon):
		errs.Add(usererr.InvalidArgument, field+".occurredAt", "occurredAt lies before the event horizon %s: its points would have lapsed already",
			horizon.Format(time.RFC3339))
	}
	b := in.Body
	needOrder := in.Kind == payload.OrderCompleted || in.Kind == payload.OrderRefunded ||
		in.Kind == payload.ReviewPosted || in.Kind == payload.PhotoReviewPosted
	switch {
	case needOrder && !ident.Valid(ident.Ref, b.OrderID):
		errs.Add(usererr.InvalidArgument, field+".orderId", "%s needs an orderId of %s", in.Kind, ident.Ref.Rule())
	case !needOrder && b.OrderID != "":
		errs.Add(usererr.InvalidArgument, field+".orderId", "%s takes no orderId", in.Kind)
	}
	if in.Kind != payload.OrderCompleted && (len(b.Lines) > 0 || b.OrderType != "" || b.PaymentMethod != "") {
		errs.Add(usererr.InvalidArgument, field+".lines", "only ORDER_COMPLETED has lines, orderType and paymentMethod")
	}
	switch in.Kind {
	case payload.OrderCompleted:
		validateOrder(&errs, prog, b, field)
	case payload.OrderRefunded:
		validateSKUs(&errs, b.SKUs, 1, MaxLines, field)
	case payload.ReviewPosted, payload.PhotoReviewPosted:
		validateSKUs(&errs, b.SKUs, 1, 1, field)
	case payload.QuestionAnswered, payload.ProductShared:
		validateSKUs(&errs, b.SKUs, 0, 1, field)
	default:
		if len(b.SKUs) > 0 {
			errs.Add(usererr.InvalidArgument, field+".skus", "%s takes no skus", in.Kind)
		}
	}
	if (in.Kind == payload.AccountBound) != (b.Provider != "") || b.Provider != "" && !providerPattern.MatchString(b.Provider) {
		errs.Add(usererr.InvalidArgument, field+".provider", "ACCOUNT_BOUND, and only it, needs a provider in UPPER_SNAKE_CASE, e.g. WECHAT")
	}
	if in.Kind == payload.RiskUpdated {
		if b.Reputation == nil && b.Credit == nil {
			errs.Add(usererr.InvalidArgument, field+".reputation", "RISK_UPDATED needs reputation or credit")
		}
		for name, v := range map[string]*int{"reputation": b.Reputation, "credit": b.Credit} {
			if v != nil && (*v < 0 || *v > 100) {
				errs.Add(usererr.InvalidArgument, field+"."+name, "%s must be 0–100", name)
			}
		}
	} else if b.Reputation != nil || b.Credit != nil {
		errs.Add(usererr.InvalidArgument, field+".reputation", "only RISK_UPDATED carries reputation and credit")
	}
	return errs.Err()
}

func validateOrder(errs *usererr.List, prog *ent.Program, b payload.Body, field string) {
	if !slices.Contains(orderTypes, b.OrderType) {
		errs.Add(usererr.InvalidArgument, field+".orderType", "orderType must be one of %v", orderTypes)
	}
	if !slices.Contains(paymentMethods, b.PaymentMethod) {
		errs.Add(usererr.InvalidArgument, field+".paymentMethod", "paymentMethod must be one of %v", paymentMethods)
	}
	if len(b.Lines) == 0 || len(b.Lines) > MaxLines {
		errs.Add(usererr.InvalidArgument, field+".lines", "an order has 1–%d lines", MaxLines)
	}
	seen := map[string]bool{}
	var total int64 // of the lines, each within bounds: no overflow below MaxLines·MaxCents
	for i, l := range b.Lines {
		f := fmt.Sprintf("%s.lines.%d", field, i)
		if !ident.Valid(ident.Ref, l.SKU) || seen[l.SKU] {
			errs.Add(usererr.InvalidArgument, f+".sku", "sku must be %s and unique in the order", ident.Ref.Rule())
		}
		seen[l.SKU] = true
		if !prog.Rules.HasCategory(l.Category) {
			errs.Add(usererr.InvalidArgument, f+".category", "unknown category %q", l.Category)
		}
		if !amount.Within(l.PaidCents, 0, amount.MaxCents) {
			errs.Add(usererr.InvalidArgument, f+".paidCents", "paidCents must be 0–%d (¥%d)", amount.MaxCents, amount.MaxCents/100)
		} else {
			total += l.PaidCents
		}
		if !slices.Contains(productTypes, l.ProductType) {
			errs.Add(usererr.InvalidArgument, f+".productType", "productType must be one of %v", productTypes)
		}
	}
	if total > amount.MaxCents {
		errs.Add(usererr.InvalidArgument, field+".lines", "an order's lines may be paid at most %d cents (¥%d) in all, got %d", amount.MaxCents, amount.MaxCents/100, total)
	}
}

func validateSKUs(errs *usererr.List, skus []string, lo, hi int, field string) {
	if len(skus) < lo || len(skus) > hi {
		errs.Add(usererr.InvalidArgument, field+".skus", "%d–%d skus expected, got %d", lo, hi, len(skus))
		return
	}
	seen := map[string]bool{}
	for i, s := range skus {
		if !ident.Valid(ident.Ref, s) || seen[s] {
			errs.Add(usererr.InvalidArgument, fmt.Sprintf("%s.skus.%d", field, i), "sku must be %s and unique", ident.Ref.Rule())
		}
		seen[s] = true
	}
}

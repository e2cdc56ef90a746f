package events

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/event"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/usererr"
)

var (
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9_.:@/-]{1,64}$`)
	providerPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)
	orderTypes      = []string{"NORMAL", "GROUP_BUY", "AUCTION"}
	paymentMethods  = []string{"CASH", "BANK_CARD", "GIFT_CARD", "BALANCE", "CORPORATE_TRANSFER", "POSTAL_REMITTANCE"}
	productTypes    = []string{"PHYSICAL", "VIRTUAL", "SERVICE"}
)

// validate checks an event on its own, before anything is read or written.
func validate(prog *ent.Program, in Input, now time.Time, field string) error {
	var errs usererr.List
	if !points.ValidKey(in.IdempotencyKey) {
		errs.Add(usererr.InvalidArgument, field+".idempotencyKey", "idempotencyKey must be 1–%d printable ASCII characters", points.MaxKeyLen)
	}
	if in.ExternalID == "" || len(in.ExternalID) > maxIDLen {
		errs.Add(usererr.InvalidArgument, field+".externalId", "externalId must be 1–%d characters", maxIDLen)
	}
	if !slices.Contains(payload.Kinds, in.Kind) {
		errs.Add(usererr.InvalidArgument, field+".kind", "unknown kind %q", in.Kind)
	}
	if event.ChannelValidator(event.Channel(in.Channel)) != nil {
		errs.Add(usererr.InvalidArgument, field+".channel", "unknown channel %q", in.Channel)
	}
	if in.OccurredAt.IsZero() || in.OccurredAt.After(now.Add(ClockSkew)) {
		errs.Add(usererr.InvalidArgument, field+".occurredAt", "occurredAt must be given and not lie in the future")
	}
	b := in.Body
	needOrder := in.Kind == payload.OrderCompleted || in.Kind == payload.OrderRefunded ||
		in.Kind == payload.ReviewPosted || in.Kind == payload.PhotoReviewPosted
	switch {
	case needOrder && !idPattern.MatchString(b.OrderID):
		errs.Add(usererr.InvalidArgument, field+".orderId", "%s needs an orderId of 1–%d letters, digits or - _ . : @ /", in.Kind, maxIDLen)
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
	for i, l := range b.Lines {
		f := fmt.Sprintf("%s.lines.%d", field, i)
		if !idPattern.MatchString(l.SKU) || seen[l.SKU] {
			errs.Add(usererr.InvalidArgument, f+".sku", "sku must be 1–%d characters and unique in the order", maxIDLen)
		}
		seen[l.SKU] = true
		if !prog.Rules.HasCategory(l.Category) {
			errs.Add(usererr.InvalidArgument, f+".category", "unknown category %q", l.Category)
		}
		if l.PaidCents < 0 || l.PaidCents > MaxPaidCents {
			errs.Add(usererr.InvalidArgument, f+".paidCents", "paidCents must be 0–%d", int64(MaxPaidCents))
		}
		if !slices.Contains(productTypes, l.ProductType) {
			errs.Add(usererr.InvalidArgument, f+".productType", "productType must be one of %v", productTypes)
		}
	}
}

func validateSKUs(errs *usererr.List, skus []string, lo, hi int, field string) {
	if len(skus) < lo || len(skus) > hi {
		errs.Add(usererr.InvalidArgument, field+".skus", "%d–%d skus expected, got %d", lo, hi, len(skus))
		return
	}
	seen := map[string]bool{}
	for i, s := range skus {
		if !idPattern.MatchString(s) || seen[s] {
			errs.Add(usererr.InvalidArgument, fmt.Sprintf("%s.skus.%d", field, i), "sku must be 1–%d characters and unique", maxIDLen)
		}
		seen[s] = true
	}
}

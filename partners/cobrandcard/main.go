// Command cobrandcard is a co-branded credit card's partner plugin. A member links a card
// (the bank's token and the last four digits, never the card number); card spend the bank
// reports earns points from the bank's budget through the platform (default 1 point per
// ¥10); and the plugin answers whether a member is a cardholder, for the PLUS card channel.
package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk"
)

// The benefits: linking a card is granted; being a cardholder is only checked.
const (
	linkCard   = "CARD_LINK"
	cardholder = "CARDHOLDER"
)

var (
	last4Pattern = regexp.MustCompile(`^[0-9]{4}$`)
	tokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)
	cardNumber   = regexp.MustCompile(`^[0-9]{12,19}$`)
)

type card struct {
	mu            sync.RWMutex
	centsPerPoint int64
	book          *sdk.GrantBook
	host          sdk.Host
}

func (p *card) Describe(context.Context) (*partnerv1.DescribeResponse, error) {
	return &partnerv1.DescribeResponse{
		Key: "cobrandcard", Name: "Co-branded credit card", Version: "1.0.0", ApiVersions: []uint32{sdk.APIVersion},
		Benefits: []*partnerv1.Benefit{
			{Key: linkCard, Name: "Link your co-branded card", Description: "Card spend earns points; params: token, last4."},
			{Key: cardholder, Name: "Cardholder", Description: "Holds a linked co-branded card (checked, not granted)."},
		},
		ConfigSchema: []*partnerv1.ConfigField{
			{Key: "cents_per_point", Description: "card spend in cents that earns one point", DefaultValue: "1000"},
		},
	}, nil
}

func (p *card) Configure(_ context.Context, cfg sdk.Config, host sdk.Host) error {
	book, err := sdk.OpenGrantBook(cfg.StateDir)
	if err != nil {
		return err
	}
	cpp := int64(1000)
	if v := cfg.Values["cents_per_point"]; v != "" {
		if cpp, err = strconv.ParseInt(v, 10, 64); err != nil || cpp <= 0 {
			return fmt.Errorf("%w: cents_per_point must be a positive whole number", sdk.ErrInvalid)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.book, p.host, p.centsPerPoint = book, host, cpp
	return nil
}

func (p *card) linked(externalID string) (sdk.StoredGrant, bool) {
	return p.book.Find(func(g sdk.StoredGrant) bool { return g.ExternalID == externalID && !g.Revoked })
}

func (p *card) CheckEligibility(_ context.Context, req *partnerv1.EligibilityRequest) (*partnerv1.EligibilityResponse, error) {
	switch req.BenefitKey {
	case linkCard:
		return &partnerv1.EligibilityResponse{Eligible: true}, nil
	case cardholder:
		if _, ok := p.linked(req.GetMember().GetExternalId()); ok {
			return &partnerv1.EligibilityResponse{Eligible: true}, nil
		}
		return &partnerv1.EligibilityResponse{Reason: "no co-branded card is linked"}, nil
	}
	return nil, fmt.Errorf("%w %q", sdk.ErrUnknownBenefit, req.BenefitKey)
}

func (p *card) Grant(_ context.Context, req *partnerv1.GrantRequest) (*partnerv1.GrantResponse, error) {
	switch req.BenefitKey {
	case linkCard:
	case cardholder:
		return nil, fmt.Errorf("%w: %s is checked, not granted", sdk.ErrInvalid, cardholder)
	default:
		return nil, fmt.Errorf("%w %q", sdk.ErrUnknownBenefit, req.BenefitKey)
	}
	token, last4 := req.Params["token"], req.Params["last4"]
	if _, full := req.Params["number"]; full || cardNumber.MatchString(token) {
		return nil, fmt.Errorf("%w: never send a card number; send the bank's token and the last four digits", sdk.ErrInvalid)
	}
	if !tokenPattern.MatchString(token) || !last4Pattern.MatchString(last4) {
		return nil, fmt.Errorf("%w: params token (8–64 letters, digits, - or _) and last4 (4 digits) are required", sdk.ErrInvalid)
	}
	g, _, err := p.book.Grant(req.IdempotencyKey, func(string, map[string]string) (sdk.StoredGrant, error) {
		return sdk.StoredGrant{BenefitKey: linkCard, ExternalID: req.Member.GetExternalId(), Code: "•••• " + last4,
			Extra: map[string]string{"token": token}}, nil
	})
	if err != nil {
		return nil, err
	}
	return &partnerv1.GrantResponse{GrantId: g.ID, Code: g.Code, Description: "Card ending " + last4 + " linked"}, nil
}

// Report takes the bank's card spend: CARD_SPEND of amount_cents earns a point per
// cents_per_point, awarded from the bank's budget; the key makes a resent report harmless.
func (p *card) Report(ctx context.Context, req *partnerv1.ReportRequest) (*partnerv1.ReportResponse, error) {
	if req.Kind != "CARD_SPEND" || req.AmountCents <= 0 {
		return nil, fmt.Errorf("%w: reports are CARD_SPEND with a positive amount_cents", sdk.ErrInvalid)
	}
	if _, ok := p.linked(req.ExternalId); !ok {
		return nil, fmt.Errorf("%w: member %q has no linked card", sdk.ErrNotEligible, req.ExternalId)
	}
	p.mu.RLock()
	host, cpp := p.host, p.centsPerPoint
	p.mu.RUnlock()
	pts := req.AmountCents / cpp
	if pts == 0 {
		return &partnerv1.ReportResponse{Detail: "below one point"}, nil
	}
	if host == nil {
		return nil, fmt.Errorf("%w: no host to award points through", sdk.ErrInvalid)
	}
	_, err := host.AwardPoints(ctx, &partnerv1.AwardPointsRequest{ExternalId: req.ExternalId, Points: pts,
		Reason: fmt.Sprintf("co-branded card spend of ¥%d.%02d", req.AmountCents/100, req.AmountCents%100), IdempotencyKey: req.IdempotencyKey})
	if err != nil {
		return nil, err
	}
	return &partnerv1.ReportResponse{PointsAwarded: pts}, nil
}

func (p *card) Revoke(_ context.Context, req *partnerv1.RevokeRequest) error {
	return p.book.Revoke(req.GrantId)
}

func (p *card) Status(_ context.Context, req *partnerv1.StatusRequest) (*partnerv1.StatusResponse, error) {
	return p.book.Status(req.GrantId)
}

func main() { sdk.Serve(&card{}) }

// Command cobrandcard is a co-branded credit card's partner plugin. A member links a card
// (the bank's token and the last four digits, never the card number); card spend the bank
// reports earns points from the bank's budget through the platform (default 1 point per
// ¥10); the plugin answers whether a member is a cardholder; and a cardholder gets PLUS
// (CARD_PLUS) through the platform's GrantPlus, a term at a time, renewed while the card stays
// linked: unlinking ends the renewals, and the term running then runs to its end.
package main

import (
	"context"
	"fmt"
	"log"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk"
)

// The benefits: linking a card is granted; being a cardholder is only checked.
const (
	linkCard   = "CARD_LINK"
	cardholder = "CARDHOLDER"
	cardPlus   = "CARD_PLUS"
)

var (
	last4Pattern = regexp.MustCompile(`^[0-9]{4}$`)
	tokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)
	cardNumber   = regexp.MustCompile(`^[0-9]{12,19}$`)
)

type card struct {
	mu            sync.RWMutex
	centsPerPoint int64
	plusPlan      string
	renewBefore   time.Duration // a term is renewed this long before it ends
	renewEvery    time.Duration // how often the renewals are looked for
	book          *sdk.GrantBook
	host          sdk.Host
	renewing      sync.Once
}

func (p *card) Describe(context.Context) (*partnerv1.DescribeResponse, error) {
	return &partnerv1.DescribeResponse{
		Key: "cobrandcard", Name: "Co-branded credit card", Version: "1.0.0", ApiVersions: []uint32{sdk.APIVersion},
		Benefits: []*partnerv1.Benefit{
			{Key: linkCard, Name: "Link your co-branded card", Description: "Card spend earns points; params: token, last4."},
			{Key: cardholder, Name: "Cardholder", Description: "Holds a linked co-branded card (checked, not granted)."},
			{Key: cardPlus, Name: "PLUS with your card", Description: "PLUS for cardholders, renewed while the card stays linked."},
		},
		ConfigSchema: []*partnerv1.ConfigField{
			{Key: "cents_per_point", Description: "card spend in cents that earns one point", DefaultValue: "1000"},
			{Key: "plus_plan", Description: "the PLUS plan a cardholder gets", DefaultValue: "ANNUAL"},
			{Key: "renew_before_days", Description: "days before a term ends that the next one is granted", DefaultValue: "7"},
			{Key: "renew_check_seconds", Description: "how often renewals are looked for", DefaultValue: "3600"},
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
	days, err := positive(cfg.Values["renew_before_days"], 7, true)
	if err != nil {
		return fmt.Errorf("%w: renew_before_days %v", sdk.ErrInvalid, err)
	}
	every, err := positive(cfg.Values["renew_check_seconds"], 3600, false)
	if err != nil {
		return fmt.Errorf("%w: renew_check_seconds %v", sdk.ErrInvalid, err)
	}
	plan := cfg.Values["plus_plan"]
	if plan == "" {
		plan = "ANNUAL"
	}
	p.mu.Lock()
	p.book, p.host, p.centsPerPoint, p.plusPlan = book, host, cpp, plan
	p.renewBefore, p.renewEvery = time.Duration(days)*24*time.Hour, time.Duration(every)*time.Second
	p.mu.Unlock()
	p.renewing.Do(func() { go p.renewLoop() })
	return nil
}

// positive parses a whole number of a setting, def when empty; zero only when zeroOK.
func positive(v string, def int64, zeroOK bool) (int64, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || (n == 0 && !zeroOK) || n > 1_000_000 {
		return 0, fmt.Errorf("must be a whole number of 1–1000000")
	}
	return n, nil
}

func (p *card) linked(externalID string) (sdk.StoredGrant, bool) {
	return p.book.Find(func(g sdk.StoredGrant) bool {
		return g.ExternalID == externalID && g.BenefitKey == linkCard && !g.Revoked
	})
}

func (p *card) CheckEligibility(_ context.Context, req *partnerv1.EligibilityRequest) (*partnerv1.EligibilityResponse, error) {
	switch req.BenefitKey {
	case linkCard:
		return &partnerv1.EligibilityResponse{Eligible: true}, nil
	case cardholder, cardPlus:
		if _, ok := p.linked(req.GetMember().GetExternalId()); ok {
			return &partnerv1.EligibilityResponse{Eligible: true}, nil
		}
		return &partnerv1.EligibilityResponse{Reason: "no co-branded card is linked"}, nil
	}
	return nil, fmt.Errorf("%w %q", sdk.ErrUnknownBenefit, req.BenefitKey)
}

func (p *card) Grant(ctx context.Context, req *partnerv1.GrantRequest) (*partnerv1.GrantResponse, error) {
	switch req.BenefitKey {
	case linkCard:
	case cardPlus:
		return p.grantPlus(ctx, req)
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

// The book's values keep each card's PLUS: "plus|<link grant id>" = "<terms>|<end unix>".
func plusValue(linkID string) string { return "plus|" + linkID }

// termKey is the platform's key of a card's nth term: however often it is asked (a retried
// claim, a renewal run twice, a lost reply), the card gets that term once.
func termKey(linkID string, n int) string { return fmt.Sprintf("card:%s:term:%d", linkID, n) }

// grantPlus grants the first PLUS term of a linked card; the renewals follow by themselves.
func (p *card) grantPlus(ctx context.Context, req *partnerv1.GrantRequest) (*partnerv1.GrantResponse, error) {
	ext := req.Member.GetExternalId()
	link, ok := p.linked(ext)
	if !ok {
		return nil, fmt.Errorf("%w: no co-branded card is linked", sdk.ErrNotEligible)
	}
	p.mu.RLock()
	host, plan := p.host, p.plusPlan
	p.mu.RUnlock()
	g, _, err := p.book.Grant(req.IdempotencyKey, func(_ string, values map[string]string) (sdk.StoredGrant, error) {
		if _, had := values[plusValue(link.ID)]; had {
			return sdk.StoredGrant{}, fmt.Errorf("%w: the card ending %s has PLUS already, renewed while it stays linked", sdk.ErrNotEligible, link.Code)
		}
		term, err := sdk.GrantPlus(ctx, host, ext, plan, termKey(link.ID, 1), "card:"+link.ID)
		if err != nil {
			return sdk.StoredGrant{}, err
		}
		values[plusValue(link.ID)] = fmt.Sprintf("1|%d", term.End.Unix())
		return sdk.StoredGrant{BenefitKey: cardPlus, ExternalID: ext, Code: "PLUS while card " + link.Code + " stays linked",
			ExpiresAtUnix: term.End.Unix(), Extra: map[string]string{"link": link.ID}}, nil
	})
	if err != nil {
		return nil, err
	}
	return &partnerv1.GrantResponse{GrantId: g.ID, Code: g.Code, Description: "PLUS " + plan + ", renewed while the card stays linked"}, nil
}

// renewLoop grants each linked card its next term when the current one nears its end. A
// card unlinked meanwhile is not renewed: its last term runs to its end.
func (p *card) renewLoop() {
	last := time.Now()
	// A second at a time, so a new renew_check_seconds takes effect at once.
	for range time.Tick(time.Second) {
		p.mu.RLock()
		every := p.renewEvery
		p.mu.RUnlock()
		if time.Since(last) >= every {
			p.renew(context.Background())
			last = time.Now()
		}
	}
}

func (p *card) renew(ctx context.Context) {
	p.mu.RLock()
	host, plan, before, book := p.host, p.plusPlan, p.renewBefore, p.book
	p.mu.RUnlock()
	due := map[string]string{} // link id → member
	now := time.Now()
	_ = book.Update(func(values map[string]string) error {
		for k, v := range values {
			linkID, ok := strings.CutPrefix(k, "plus|")
			n, end := parsePlus(v)
			if ok && n > 0 && time.Unix(end, 0).Sub(now) <= before {
				due[linkID] = ""
			}
		}
		return nil
	})
	for linkID := range due {
		link, err := book.Get(linkID)
		if err != nil || link.Revoked {
			continue // unlinked: no more terms
		}
		err = book.Update(func(values map[string]string) error {
			n, end := parsePlus(values[plusValue(linkID)])
			if time.Unix(end, 0).Sub(now) > before { // renewed meanwhile
				return nil
			}
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			term, err := sdk.GrantPlus(cctx, host, link.ExternalID, plan, termKey(linkID, n+1), "card:"+linkID)
			if err != nil {
				return err
			}
			values[plusValue(linkID)] = fmt.Sprintf("%d|%d", n+1, term.End.Unix())
			return nil
		})
		if err != nil {
			log.Printf("renewing PLUS of card %s: %v", linkID, err) // stderr: the platform logs it
		}
	}
}

func parsePlus(v string) (n int, end int64) {
	a, b, _ := strings.Cut(v, "|")
	n, _ = strconv.Atoi(a)
	end, _ = strconv.ParseInt(b, 10, 64)
	return n, end
}

func (p *card) Revoke(_ context.Context, req *partnerv1.RevokeRequest) error {
	return p.book.Revoke(req.GrantId)
}

func (p *card) Status(_ context.Context, req *partnerv1.StatusRequest) (*partnerv1.StatusResponse, error) {
	return p.book.Status(req.GrantId)
}

func main() { sdk.Serve(&card{}) }

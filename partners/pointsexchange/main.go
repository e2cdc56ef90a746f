// Command pointsexchange is the bank and airline points exchange: a member turns partner
// points (bank points, airline miles) into platform points at a configured rate, up to a
// monthly cap per member, paid from the exchange partner's budget; or buys a PLUS term for a
// configured price in bank points or miles, granted by the platform through GrantPlus.
package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk"
)

// The benefits, one per partner currency, with the config key of its rate.
var currencies = map[string]string{"BANK_POINTS": "bank_rate_x100", "AIRLINE_MILES": "airline_rate_x100"}

// plusBenefit buys a PLUS term; params.pay names the currency it is paid in.
const plusBenefit = "PLUS"

// The PLUS price per currency: its config key and default, in partner units.
var plusPrices = map[string]struct {
	key string
	def int64
}{"BANK_POINTS": {"plus_price_bank_points", 30000}, "AIRLINE_MILES": {"plus_price_airline_miles", 15000}}

type exchange struct {
	mu         sync.RWMutex
	rates      map[string]int64 // platform points per 100 partner units
	monthlyCap int64
	plusPlan   string
	plusPrices map[string]int64 // partner units per PLUS term
	book       *sdk.GrantBook
	host       sdk.Host
}

func (p *exchange) Describe(context.Context) (*partnerv1.DescribeResponse, error) {
	return &partnerv1.DescribeResponse{
		Key: "pointsexchange", Name: "Bank & airline points exchange", Version: "1.0.0", ApiVersions: []uint32{sdk.APIVersion},
		Benefits: []*partnerv1.Benefit{
			{Key: "BANK_POINTS", Name: "Exchange bank points", Description: "params: amount (bank points)"},
			{Key: "AIRLINE_MILES", Name: "Exchange airline miles", Description: "params: amount (miles)"},
			{Key: plusBenefit, Name: "PLUS for points", Description: "A PLUS term paid in bank points or miles; params: pay (BANK_POINTS or AIRLINE_MILES)"},
		},
		ConfigSchema: []*partnerv1.ConfigField{
			{Key: "bank_rate_x100", Description: "platform points for 100 bank points", DefaultValue: "50"},
			{Key: "airline_rate_x100", Description: "platform points for 100 miles", DefaultValue: "80"},
			{Key: "monthly_cap", Description: "platform points a member may get per calendar month", DefaultValue: "5000"},
			{Key: "plus_plan", Description: "the PLUS plan a PLUS exchange buys", DefaultValue: "ANNUAL"},
			{Key: "plus_price_bank_points", Description: "bank points a PLUS term costs", DefaultValue: "30000"},
			{Key: "plus_price_airline_miles", Description: "airline miles a PLUS term costs", DefaultValue: "15000"},
		},
	}, nil
}

func (p *exchange) Configure(_ context.Context, cfg sdk.Config, host sdk.Host) error {
	book, err := sdk.OpenGrantBook(cfg.StateDir)
	if err != nil {
		return err
	}
	num := func(key string, def int64) (int64, error) {
		v := cfg.Values[key]
		if v == "" {
			return def, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%w: %s must be a positive whole number", sdk.ErrInvalid, key)
		}
		return n, nil
	}
	rates := map[string]int64{}
	for benefit, key := range currencies {
		def := map[string]int64{"BANK_POINTS": 50, "AIRLINE_MILES": 80}[benefit]
		if rates[benefit], err = num(key, def); err != nil {
			return err
		}
	}
	monthlyCap, err := num("monthly_cap", 5000)
	if err != nil {
		return err
	}
	prices := map[string]int64{}
	for currency, pr := range plusPrices {
		if prices[currency], err = num(pr.key, pr.def); err != nil {
			return err
		}
	}
	plan := cfg.Values["plus_plan"]
	if plan == "" {
		plan = "ANNUAL"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.book, p.host, p.rates, p.monthlyCap, p.plusPlan, p.plusPrices = book, host, rates, monthlyCap, plan, prices
	return nil
}

func (p *exchange) CheckEligibility(_ context.Context, req *partnerv1.EligibilityRequest) (*partnerv1.EligibilityResponse, error) {
	if _, ok := currencies[req.BenefitKey]; !ok && req.BenefitKey != plusBenefit {
		return nil, fmt.Errorf("%w %q", sdk.ErrUnknownBenefit, req.BenefitKey)
	}
	return &partnerv1.EligibilityResponse{Eligible: true}, nil
}

// Grant exchanges params.amount partner units. The month's total per member is kept with
// the grant, in one write, so the cap holds across restarts; the award's key is the grant's,
// so a retried grant never pays twice.
func (p *exchange) Grant(ctx context.Context, req *partnerv1.GrantRequest) (*partnerv1.GrantResponse, error) {
	if req.BenefitKey == plusBenefit {
		return p.grantPlus(ctx, req)
	}
	if _, ok := currencies[req.BenefitKey]; !ok {
		return nil, fmt.Errorf("%w %q", sdk.ErrUnknownBenefit, req.BenefitKey)
	}
	amount, err := strconv.ParseInt(req.Params["amount"], 10, 64)
	if err != nil || amount <= 0 || amount > 100_000_000 {
		return nil, fmt.Errorf("%w: params.amount must be a positive whole number of partner units", sdk.ErrInvalid)
	}
	p.mu.RLock()
	rate, monthlyCap, host := p.rates[req.BenefitKey], p.monthlyCap, p.host
	p.mu.RUnlock()
	pts := amount * rate / 100
	if pts == 0 {
		return nil, fmt.Errorf("%w: %d units are worth less than one point", sdk.ErrInvalid, amount)
	}
	ext := req.Member.GetExternalId()
	g, _, err := p.book.Grant(req.IdempotencyKey, func(id string, values map[string]string) (sdk.StoredGrant, error) {
		month := ext + "|" + time.Now().UTC().Format("2006-01")
		used, _ := strconv.ParseInt(values[month], 10, 64)
		if used+pts > monthlyCap {
			return sdk.StoredGrant{}, fmt.Errorf("%w: %d points this month would pass the cap of %d (%d used)", sdk.ErrNotEligible, pts, monthlyCap, used)
		}
		if host == nil {
			return sdk.StoredGrant{}, fmt.Errorf("%w: no host to award points through", sdk.ErrInvalid)
		}
		_, err := host.AwardPoints(ctx, &partnerv1.AwardPointsRequest{ExternalId: ext, Points: pts,
			Reason: fmt.Sprintf("exchange of %d %s", amount, req.BenefitKey), IdempotencyKey: req.IdempotencyKey})
		if err != nil {
			return sdk.StoredGrant{}, err
		}
		values[month] = strconv.FormatInt(used+pts, 10)
		return sdk.StoredGrant{BenefitKey: req.BenefitKey, ExternalID: ext, Code: fmt.Sprintf("%d points", pts),
			Extra: map[string]string{"amount": strconv.FormatInt(amount, 10)}}, nil
	})
	if err != nil {
		return nil, err
	}
	return &partnerv1.GrantResponse{GrantId: g.ID, Code: g.Code, Description: fmt.Sprintf("%s exchanged for %s", g.Extra["amount"], g.Code)}, nil
}

// grantPlus sells a PLUS term for partner units. The platform grants the term under the
// grant's own key, so a retried grant (or one retried after a crash before the book was
// written) gets the same term and the member is charged once; a refusal charges nothing.
func (p *exchange) grantPlus(ctx context.Context, req *partnerv1.GrantRequest) (*partnerv1.GrantResponse, error) {
	currency := req.Params["pay"]
	p.mu.RLock()
	price, ok := p.plusPrices[currency]
	plan, host := p.plusPlan, p.host
	p.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: params.pay must be BANK_POINTS or AIRLINE_MILES", sdk.ErrInvalid)
	}
	ext := req.Member.GetExternalId()
	g, _, err := p.book.Grant(req.IdempotencyKey, func(id string, _ map[string]string) (sdk.StoredGrant, error) {
		term, err := sdk.GrantPlus(ctx, host, ext, plan, req.IdempotencyKey, "pointsexchange:"+req.IdempotencyKey)
		if err != nil {
			return sdk.StoredGrant{}, err
		}
		// Here the exchange would debit the member's bank points or miles at the partner.
		return sdk.StoredGrant{BenefitKey: plusBenefit, ExternalID: ext, Code: "PLUS " + plan + " until " + term.End.Format("2006-01-02"),
			ExpiresAtUnix: term.End.Unix(), Extra: map[string]string{"paid": fmt.Sprintf("%d %s", price, currency), "term": term.ID}}, nil
	})
	if err != nil {
		return nil, err
	}
	return &partnerv1.GrantResponse{GrantId: g.ID, Code: g.Code, ExpiresAtUnix: g.ExpiresAtUnix,
		Description: fmt.Sprintf("%s paid for PLUS (term %s)", g.Extra["paid"], g.Extra["term"])}, nil
}

func (p *exchange) Revoke(_ context.Context, req *partnerv1.RevokeRequest) error {
	return p.book.Revoke(req.GrantId)
}

func (p *exchange) Status(_ context.Context, req *partnerv1.StatusRequest) (*partnerv1.StatusResponse, error) {
	return p.book.Status(req.GrantId)
}

func main() { sdk.Serve(&exchange{}) }

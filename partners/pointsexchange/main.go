// Command pointsexchange is the bank and airline points exchange: a member turns partner
// points (bank points, airline miles) into platform points at a configured rate, up to a
// monthly cap per member, paid from the exchange partner's budget.
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

type exchange struct {
	mu         sync.RWMutex
	rates      map[string]int64 // platform points per 100 partner units
	monthlyCap int64
	book       *sdk.GrantBook
	host       sdk.Host
}

func (p *exchange) Describe(context.Context) (*partnerv1.DescribeResponse, error) {
	return &partnerv1.DescribeResponse{
		Key: "pointsexchange", Name: "Bank & airline points exchange", Version: "1.0.0", ApiVersions: []uint32{sdk.APIVersion},
		Benefits: []*partnerv1.Benefit{
			{Key: "BANK_POINTS", Name: "Exchange bank points", Description: "params: amount (bank points)"},
			{Key: "AIRLINE_MILES", Name: "Exchange airline miles", Description: "params: amount (miles)"},
		},
		ConfigSchema: []*partnerv1.ConfigField{
			{Key: "bank_rate_x100", Description: "platform points for 100 bank points", DefaultValue: "50"},
			{Key: "airline_rate_x100", Description: "platform points for 100 miles", DefaultValue: "80"},
			{Key: "monthly_cap", Description: "platform points a member may get per calendar month", DefaultValue: "5000"},
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
	p.mu.Lock()
	defer p.mu.Unlock()
	p.book, p.host, p.rates, p.monthlyCap = book, host, rates, monthlyCap
	return nil
}

func (p *exchange) CheckEligibility(_ context.Context, req *partnerv1.EligibilityRequest) (*partnerv1.EligibilityResponse, error) {
	if _, ok := currencies[req.BenefitKey]; !ok {
		return nil, fmt.Errorf("%w %q", sdk.ErrUnknownBenefit, req.BenefitKey)
	}
	return &partnerv1.EligibilityResponse{Eligible: true}, nil
}

// Grant exchanges params.amount partner units. The month's total per member is kept with
// the grant, in one write, so the cap holds across restarts; the award's key is the grant's,
// so a retried grant never pays twice.
func (p *exchange) Grant(ctx context.Context, req *partnerv1.GrantRequest) (*partnerv1.GrantResponse, error) {
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

func (p *exchange) Revoke(_ context.Context, req *partnerv1.RevokeRequest) error {
	return p.book.Revoke(req.GrantId)
}

func (p *exchange) Status(_ context.Context, req *partnerv1.StatusRequest) (*partnerv1.StatusResponse, error) {
	return p.book.Status(req.GrantId)
}

func main() { sdk.Serve(&exchange{}) }

// Command videovip is the video platform's partner plugin: a one-year VIP membership,
// bundled with the paid membership, delivered as an activation code valid 12 months.
// Until PLUS exists, members of the configured tiers are eligible, and those an admin names.
package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk"
)

const benefit = "VIP_YEAR"

type videoVIP struct {
	mu      sync.RWMutex
	tiers   []string
	members []string
	book    *sdk.GrantBook
}

func (p *videoVIP) Describe(context.Context) (*partnerv1.DescribeResponse, error) {
	return &partnerv1.DescribeResponse{
		Key: "videovip", Name: "Video VIP", Version: "1.0.0", ApiVersions: []uint32{sdk.APIVersion},
		Benefits: []*partnerv1.Benefit{{Key: benefit, Name: "One year of Video VIP",
			Description: "An activation code for a year of the video platform's VIP membership."}},
		ConfigSchema: []*partnerv1.ConfigField{
			{Key: "eligible_tiers", Description: "comma-separated tier keys whose members are eligible", DefaultValue: "GOLD,DIAMOND"},
			{Key: "eligible_members", Description: "comma-separated externalIds an admin made eligible"},
		},
	}, nil
}

func (p *videoVIP) Configure(_ context.Context, cfg sdk.Config, _ sdk.Host) error {
	book, err := sdk.OpenGrantBook(cfg.StateDir)
	if err != nil {
		return err
	}
	tiers := cfg.Values["eligible_tiers"]
	if tiers == "" {
		tiers = "GOLD,DIAMOND"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.book, p.tiers, p.members = book, split(tiers), split(cfg.Values["eligible_members"])
	return nil
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (p *videoVIP) CheckEligibility(_ context.Context, req *partnerv1.EligibilityRequest) (*partnerv1.EligibilityResponse, error) {
	if req.BenefitKey != benefit {
		return nil, fmt.Errorf("%w %q", sdk.ErrUnknownBenefit, req.BenefitKey)
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	m := req.GetMember()
	if m.GetPlusActive() || slices.Contains(p.tiers, m.GetTierKey()) || slices.Contains(p.members, m.GetExternalId()) {
		return &partnerv1.EligibilityResponse{Eligible: true}, nil
	}
	return &partnerv1.EligibilityResponse{Reason: fmt.Sprintf("Video VIP comes with PLUS or the %s tiers", strings.Join(p.tiers, ", "))}, nil
}

func (p *videoVIP) Grant(_ context.Context, req *partnerv1.GrantRequest) (*partnerv1.GrantResponse, error) {
	if req.BenefitKey != benefit {
		return nil, fmt.Errorf("%w %q", sdk.ErrUnknownBenefit, req.BenefitKey)
	}
	g, _, err := p.book.Grant(req.IdempotencyKey, func(string, map[string]string) (sdk.StoredGrant, error) {
		code := strings.ToUpper(sdk.NewID()[:16])
		return sdk.StoredGrant{BenefitKey: benefit, ExternalID: req.Member.GetExternalId(),
			Code:          fmt.Sprintf("VIP-%s-%s-%s-%s", code[0:4], code[4:8], code[8:12], code[12:16]),
			ExpiresAtUnix: time.Now().AddDate(1, 0, 0).Unix()}, nil
	})
	if err != nil {
		return nil, err
	}
	return &partnerv1.GrantResponse{GrantId: g.ID, Code: g.Code, ExpiresAtUnix: g.ExpiresAtUnix,
		Description: "Activate at video.example/vip within 12 months"}, nil
}

func (p *videoVIP) Revoke(_ context.Context, req *partnerv1.RevokeRequest) error {
	return p.book.Revoke(req.GrantId)
}

func (p *videoVIP) Status(_ context.Context, req *partnerv1.StatusRequest) (*partnerv1.StatusResponse, error) {
	return p.book.Status(req.GrantId)
}

func main() { sdk.Serve(&videoVIP{}) }

// Package testpartner is the partner of the host's tests and benchmarks; its behaviour
// follows its key: "hang*" never answers a grant, anything else is a well-behaved partner
// with a FAST benefit and a SLOW one that takes 400 ms to grant. Members whose external id
// begins with "ineligible" are not eligible for either.
package testpartner

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk"
)

type partner struct {
	key  string
	book *sdk.GrantBook
}

func (p *partner) Describe(context.Context) (*partnerv1.DescribeResponse, error) {
	return &partnerv1.DescribeResponse{Key: p.key, Name: "Test partner " + p.key, Version: "0.0.1", ApiVersions: []uint32{sdk.APIVersion},
		Benefits: []*partnerv1.Benefit{{Key: "FAST", Name: "Fast"}, {Key: "SLOW", Name: "Slow"}}}, nil
}

func (p *partner) Configure(_ context.Context, cfg sdk.Config, _ sdk.Host) error {
	b, err := sdk.OpenGrantBook(cfg.StateDir)
	p.book = b
	return err
}

func (p *partner) CheckEligibility(_ context.Context, req *partnerv1.EligibilityRequest) (*partnerv1.EligibilityResponse, error) {
	if strings.HasPrefix(req.GetMember().GetExternalId(), "ineligible") {
		return &partnerv1.EligibilityResponse{Reason: "ineligible members are not eligible"}, nil
	}
	return &partnerv1.EligibilityResponse{Eligible: true}, nil
}

func (p *partner) Grant(ctx context.Context, req *partnerv1.GrantRequest) (*partnerv1.GrantResponse, error) {
	if strings.HasPrefix(p.key, "hang") {
		<-ctx.Done()
		select {} // never answer, even after the deadline
	}
	if req.BenefitKey == "ENV" { // what the plugin process was given, for the host's tests
		return &partnerv1.GrantResponse{GrantId: "env", Code: strings.Join(os.Environ(), "\x00")}, nil
	}
	if req.BenefitKey != "FAST" && req.BenefitKey != "SLOW" {
		return nil, fmt.Errorf("%w %q", sdk.ErrUnknownBenefit, req.BenefitKey)
	}
	g, _, err := p.book.Grant(req.IdempotencyKey, func(id string, _ map[string]string) (sdk.StoredGrant, error) {
		if req.BenefitKey == "SLOW" {
			time.Sleep(400 * time.Millisecond)
		}
		return sdk.StoredGrant{BenefitKey: req.BenefitKey, ExternalID: req.Member.GetExternalId(), Code: "CODE-" + id[:6]}, nil
	})
	if err != nil {
		return nil, err
	}
	return &partnerv1.GrantResponse{GrantId: g.ID, Code: g.Code}, nil
}

func (p *partner) Revoke(_ context.Context, req *partnerv1.RevokeRequest) error {
	return p.book.Revoke(req.GrantId)
}

func (p *partner) Status(_ context.Context, req *partnerv1.StatusRequest) (*partnerv1.StatusResponse, error) {
	return p.book.Status(req.GrantId)
}

// New returns the partner of key.
func New(key string) sdk.Partner { return &partner{key: key} }

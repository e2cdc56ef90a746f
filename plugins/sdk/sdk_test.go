package sdk

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
)

// counting is a partner whose members named "no" are not eligible and whose Grant refuses
// "capped" members itself; it counts the calls it gets.
type counting struct {
	Partner
	desc           *partnerv1.DescribeResponse
	checks, grants int
}

func (p *counting) Describe(context.Context) (*partnerv1.DescribeResponse, error) { return p.desc, nil }

func (p *counting) CheckEligibility(_ context.Context, req *partnerv1.EligibilityRequest) (*partnerv1.EligibilityResponse, error) {
	p.checks++
	switch req.BenefitKey {
	case "GIFT":
	case "BROKEN":
		return nil, errors.New("the back end is down")
	default:
		return nil, ErrUnknownBenefit
	}
	if req.GetMember().GetExternalId() == "no" {
		return &partnerv1.EligibilityResponse{Reason: "no gifts for no"}, nil
	}
	return &partnerv1.EligibilityResponse{Eligible: true}, nil
}

func (p *counting) Grant(_ context.Context, req *partnerv1.GrantRequest) (*partnerv1.GrantResponse, error) {
	p.grants++
	if req.GetMember().GetExternalId() == "capped" {
		return nil, errors.Join(ErrNotEligible, errors.New("over the cap"))
	}
	return &partnerv1.GrantResponse{GrantId: "g-" + req.IdempotencyKey}, nil
}

// TestGrantChecksEligibility: the adapter says it checks, and with check_eligibility runs the
// partner's CheckEligibility before its Grant, which a member who is not eligible never reaches.
func TestGrantChecksEligibility(t *testing.T) {
	ctx := context.Background()
	desc := &partnerv1.DescribeResponse{Key: "gifts"}
	p := &counting{desc: desc}
	s := &server{impl: p}
	d, err := s.Describe(ctx, &partnerv1.DescribeRequest{})
	if err != nil || !d.GrantChecksEligibility || d.Key != "gifts" {
		t.Fatalf("describe: %v %v", d, err)
	}
	if desc.GrantChecksEligibility {
		t.Error("the partner's own description was written to")
	}

	grant := func(ext, benefit string, check bool) (*partnerv1.GrantResponse, error) {
		return s.Grant(ctx, &partnerv1.GrantRequest{IdempotencyKey: ext, BenefitKey: benefit, Member: &partnerv1.Member{ExternalId: ext}, CheckEligibility: check})
	}
	if g, err := grant("yes", "GIFT", true); err != nil || g.GrantId != "g-yes" || p.checks != 1 || p.grants != 1 {
		t.Errorf("eligible: %v %v, %d checks %d grants", g, err, p.checks, p.grants)
	}
	g, err := grant("no", "GIFT", true)
	if reason, ok := IsNotEligible(err); !ok || reason != "no gifts for no" || g != nil || p.checks != 2 || p.grants != 1 {
		t.Errorf("not eligible: %v %v (%q %v), %d checks %d grants", g, err, reason, ok, p.checks, p.grants)
	}
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("not eligible: %v, want FAILED_PRECONDITION", err)
	}
	// The partner's own FAILED_PRECONDITION from Grant is a refusal, not "not eligible".
	if _, err := grant("capped", "GIFT", true); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("capped: %v, want FAILED_PRECONDITION", err)
	} else if _, ok := IsNotEligible(err); ok {
		t.Errorf("capped: %v reads as not eligible", err)
	}
	// An error of the check is the call's, as CheckEligibility's would be.
	if _, err := grant("yes", "NOPE", true); status.Code(err) != codes.NotFound {
		t.Errorf("unknown benefit: %v, want NOT_FOUND", err)
	}
	if _, err := grant("yes", "BROKEN", true); status.Code(err) != codes.Internal {
		t.Errorf("a failing check: %v, want INTERNAL", err)
	}
	// Without the field, Grant is the partner's alone.
	before := p.checks
	if _, err := grant("no", "GIFT", false); err != nil || p.checks != before {
		t.Errorf("unchecked: %v, %d checks (was %d)", err, p.checks, before)
	}
	if _, ok := IsNotEligible(status.Error(codes.FailedPrecondition, "no gifts for no")); ok {
		t.Error("a bare FAILED_PRECONDITION reads as not eligible")
	}
	if _, ok := IsNotEligible(nil); ok {
		t.Error("nil reads as not eligible")
	}
}

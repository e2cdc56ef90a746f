package sdk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
)

// PlusGranter is a Host that serves GrantPlus. It is an interface of its own, beside Host,
// so a partner's own stand-in for Host (in its tests) keeps compiling; GrantPlus below is
// how a partner calls it.
type PlusGranter interface {
	GrantPlus(ctx context.Context, req *partnerv1.GrantPlusRequest) (*partnerv1.GrantPlusResponse, error)
}

// PlusRefused is the platform's refusal of a GrantPlus, as an error. It is ErrNotEligible
// (errors.Is), so a partner's Grant that returns it refuses the member's claim with the
// platform's reason, and the claim is recorded REFUSED rather than retried.
type PlusRefused struct {
	// Code is the refusal's stable code: NOT_ALLOWED, MONTHLY_CAP, or the PLUS rules' own.
	Code string
	// Reason is the platform's sentence.
	Reason string
}

func (e *PlusRefused) Error() string { return fmt.Sprintf("PLUS refused (%s): %s", e.Code, e.Reason) }

// Is makes a refusal ErrNotEligible.
func (e *PlusRefused) Is(target error) bool { return target == ErrNotEligible }

// PlusTerm is a granted term with its instants as times.
type PlusTerm struct {
	ID       string
	Plan     string
	Start    time.Time // inclusive
	End      time.Time // exclusive
	Replayed bool      // the key was used before: this is the first grant
}

// GrantPlus asks the platform, through host, to grant a PLUS term of plan to the member,
// once per key (a replay returns the first term). A refusal is a *PlusRefused; a platform
// that does not serve GrantPlus (older than this SDK) gives ErrInvalid; anything else is the
// call's error, to be retried with the same key.
func GrantPlus(ctx context.Context, host Host, externalID, plan, key, reference string) (PlusTerm, error) {
	g, ok := host.(PlusGranter)
	if !ok { // nil too
		return PlusTerm{}, fmt.Errorf("%w: no platform host that grants PLUS", ErrInvalid)
	}
	res, err := g.GrantPlus(ctx, &partnerv1.GrantPlusRequest{ExternalId: externalID, Plan: plan, IdempotencyKey: key, Reference: reference})
	switch {
	case status.Code(err) == codes.Unimplemented:
		return PlusTerm{}, fmt.Errorf("%w: this platform does not grant PLUS to partners", ErrInvalid)
	case err != nil:
		return PlusTerm{}, err
	case res.GetRefusal() != "" || res.GetTerm() == nil:
		return PlusTerm{}, &PlusRefused{Code: res.GetRefusalCode(), Reason: res.GetRefusal()}
	}
	t := res.GetTerm()
	return PlusTerm{ID: t.Id, Plan: t.Plan, Start: time.Unix(t.StartsAtUnix, 0).UTC(), End: time.Unix(t.EndsAtUnix, 0).UTC(), Replayed: res.Replayed}, nil
}

// IsPlusRefused reports whether err is a refusal of GrantPlus, and gives it.
func IsPlusRefused(err error) (*PlusRefused, bool) {
	var r *PlusRefused
	ok := errors.As(err, &r)
	return r, ok
}

func (h hostClient) GrantPlus(ctx context.Context, req *partnerv1.GrantPlusRequest) (*partnerv1.GrantPlusResponse, error) {
	return h.c.GrantPlus(ctx, req)
}

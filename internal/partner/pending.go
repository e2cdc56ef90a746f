package partner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/partnergrant"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/usererr"
	"github.com/membergraph/membergraph/plugins/host"
)

// PendingExpiry is how long a member's claim may wait for its partner: a claim still PENDING
// a day after it was made (the partner FAILED, disabled or never answering all along) is
// EXPIRED by the reconciler and answered so from then on. A day lets a partner's outage be
// fixed and the claim finished; after it, a member is better told than kept waiting.
// Nothing is held for a claim on the platform's side (no points are taken for one; a
// partner awards points only as it grants), so expiring it has nothing to give back.
// Bundled grants of PLUS terms never expire: the member paid for the term, and the grant
// waits for its partner however long it is down.
const PendingExpiry = 24 * time.Hour

// down is a partner that could not be reached. Its detail (the host's error: file names,
// "not the trusted build", dial errors of this server) is for operators; every other caller
// reads only that the partner cannot be reached now and how to retry: the same code and
// the same hint. Unwrap gives the detail, so inside the package it is a user error like
// any other.
type down struct{ detail, public *usererr.Error }

func (d *down) Error() string { return d.detail.Error() }
func (d *down) Unwrap() error { return d.detail }

// partnerDown says that partner could not do what (grant, revoke, take the report) now
// because of cause, and how to retry.
func partnerDown(field, partner, what, retry string, cause error) error {
	return &down{
		detail: usererr.New(usererr.Unavailable, field, "%s could not %s now (%v); %s", partner, what, cause, retry),
		public: usererr.New(usererr.Unavailable, field, "%s could not %s now; %s", partner, what, retry),
	}
}

// forCaller is err as the caller behind ctx may read it: an unreachable partner's detail
// for ADMIN only.
func forCaller(ctx context.Context, err error) error {
	var d *down
	if !errors.As(err, &d) {
		return err
	}
	if v, _ := auth.FromContext(ctx); v.Is(auth.RoleAdmin) {
		return d.detail
	}
	return d.public
}

// expiredClaim is the answer to a claim whose grant EXPIRED, every time its key is used.
func expiredClaim(g *ent.PartnerGrant) error {
	return usererr.New(usererr.Expired, "input.partner", "%s did not answer this claim of %s within %s; nothing was granted: claim again with a new idempotencyKey",
		g.PartnerKey, g.BenefitKey, PendingExpiry)
}

// runningPartners are the keys of the partners whose plugins run now.
func (s *Service) runningPartners() []string {
	if s.runner == nil {
		return nil
	}
	var keys []string
	for _, p := range s.runner.Partners() {
		if p.Status == host.Running {
			keys = append(keys, p.Key)
		}
	}
	return keys
}

// expirePending expires the members' claims made PendingExpiry ago or earlier that are still
// PENDING. One statement, conditional on PENDING: when a partner grants a claim at the same
// moment, the grant is recorded GRANTED whichever write comes last (this one changes only
// PENDING rows; finish's outcome replaces EXPIRED).
func (s *Service) expirePending(ctx context.Context) (int, error) {
	now := s.clock.Now()
	return s.client.PartnerGrant.Update().Where(partnergrant.StatusEQ(partnergrant.StatusPENDING),
		partnergrant.CreatedAtLTE(now.Add(-PendingExpiry)), partnergrant.Not(partnergrant.IdempotencyKeyHasPrefix(bundleKeyPrefix))).
		SetStatus(partnergrant.StatusEXPIRED).SetDetail(fmt.Sprintf("no answer from the partner within %s; nothing was granted", PendingExpiry)).
		SetUpdatedAt(now).Save(ctx)
}

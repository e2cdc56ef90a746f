package partner

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/partnergrant"
	"github.com/membergraph/membergraph/ent/plusterm"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/usererr"
	"github.com/membergraph/membergraph/plugins/host"
	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk"
)

// Bundle is a partner benefit that every PLUS term comes with (docs/domain.md §5: the
// bundled video VIP).
type Bundle struct {
	Partner string // the partner's key, e.g. videovip
	Benefit string // the benefit's key within it, e.g. VIP_YEAR
}

// defaultBundles is what a PLUS term bundles in the preset: a year of the video platform's VIP.
var defaultBundles = []Bundle{{Partner: "videovip", Benefit: "VIP_YEAR"}}

// termParam names, in a bundled grant's params, the PLUS term it belongs to.
const termParam = "plus_term"

// revokePending starts the detail of a grant the platform revoked but the partner has not
// yet heard of (it was down); the reconciler tells it and rewrites the detail.
const revokePending = "Revoke pending: "

// bundleKeyPrefix starts the idempotency key of every bundled grant; members' own claims may
// not use it.
const bundleKeyPrefix = "plus-term:"

// bundleKey is a bundled grant's idempotency key: one per term and partner, so however often
// a term's start is heard of (a retry, the reconciler), it is granted once.
func bundleKey(termID int, partnerKey string) string {
	return fmt.Sprintf("%s%d:%s", bundleKeyPrefix, termID, partnerKey)
}

// TermListener is what the PLUS service tells of terms (plus.TermListener): the Service's
// bundles are granted when a term starts and revoked when it is cancelled or refunded.
func (s *Service) TermListener() *Bundler { return &Bundler{s: s} }

// Bundler grants and revokes the bundled partner benefits of PLUS terms.
type Bundler struct{ s *Service }

// TermStarted claims each bundled benefit for the term, keyed by the term, through the
// claim path: recorded PENDING first, so a partner that is down gets the grant from the
// reconciler once it is back. Errors are logged: the term stands whatever a partner says.
func (b *Bundler) TermStarted(ctx context.Context, term *ent.PlusTerm) {
	s := b.s
	if len(s.bundles) == 0 || s.runner == nil {
		return // a server without plugins has no partner to bundle
	}
	if term.Source == plus.SourceTrial {
		// The bundle is a benefit of the ways in (docs/domain.md §5: purchase, codes,
		// partner channels); a free 30-day trial carrying a year of a partner's VIP would
		// give the year away.
		return
	}
	// The term is committed: what follows must not be cut short by the caller going away.
	ctx = s.sys(context.WithoutCancel(ctx))
	m, err := s.client.Member.Get(ctx, term.MemberID)
	if err != nil {
		s.logger.Error("bundled partner benefits: the term's member", "term", term.ID, "err", err)
		return
	}
	bundled := maps.Clone(term.Bundled)
	if bundled == nil {
		bundled = map[string]string{}
	}
	for _, bd := range s.bundles {
		bundled[bd.Partner] = bundleKey(term.ID, bd.Partner)
	}
	if err := s.client.PlusTerm.UpdateOneID(term.ID).SetBundled(bundled).Exec(ctx); err != nil {
		s.logger.Error("bundled partner benefits: recording them on the term", "term", term.ID, "err", err)
	}
	for _, bd := range s.bundles {
		_, err := s.claim(ctx, m, ClaimRequest{ExternalID: m.ExternalID, Partner: bd.Partner, Benefit: bd.Benefit,
			IdempotencyKey: bundleKey(term.ID, bd.Partner), Params: map[string]string{termParam: strconv.Itoa(term.ID)}})
		if ue, ok := usererr.From(err); ok && ue[0].Code == usererr.Unavailable {
			s.logger.Warn("bundled partner benefit left pending for the reconciler", "partner", bd.Partner, "term", term.ID, "err", err)
		} else if err != nil {
			s.logger.Error("bundled partner benefit not granted", "partner", bd.Partner, "term", term.ID, "err", err)
		}
	}
}

// TermEnded revokes the bundled benefits of a cancelled (or refunded) term through their
// partners; a term that simply ran out keeps them (the VIP year is the partner's own). A
// partner that cannot be reached now is told by the reconciler.
func (b *Bundler) TermEnded(ctx context.Context, term *ent.PlusTerm, why string) {
	s := b.s
	if term.CancelledAt == nil {
		return
	}
	ctx = s.sys(context.WithoutCancel(ctx))
	reason := clip("PLUS term "+strconv.Itoa(term.ID)+" "+strings.ToLower(why), 200)
	for _, bd := range s.bundles {
		g, err := s.client.PartnerGrant.Query().Where(partnergrant.ProgramID(s.programID), partnergrant.IdempotencyKey(bundleKey(term.ID, bd.Partner))).Only(ctx)
		if ent.IsNotFound(err) {
			continue
		}
		if err != nil {
			s.logger.Error("bundled partner benefit: revoking", "partner", bd.Partner, "term", term.ID, "err", err)
			continue
		}
		if _, err := s.revokeBundled(ctx, g, reason); err != nil {
			s.logger.Error("bundled partner benefit: revoking", "partner", bd.Partner, "term", term.ID, "err", err)
		}
	}
}

// revokeBundled withdraws a bundled grant: one still PENDING is withdrawn before it is
// granted (the reconciler then leaves it); a GRANTED one is revoked through the plugin, and
// when the plugin cannot be reached it is REVOKED here with the revoke pending for the
// reconciler.
func (s *Service) revokeBundled(ctx context.Context, g *ent.PartnerGrant, reason string) (*ent.PartnerGrant, error) {
	switch g.Status {
	case partnergrant.StatusPENDING:
		n, err := s.client.PartnerGrant.Update().Where(partnergrant.ID(g.ID), partnergrant.StatusEQ(partnergrant.StatusPENDING)).
			SetStatus(partnergrant.StatusREVOKED).SetDetail(clip("Withdrawn before it was granted: "+reason, 512)).SetUpdatedAt(s.clock.Now()).Save(ctx)
		if err != nil || n == 0 { // n == 0: the grant was finished meanwhile; revoke what it became
			if err == nil {
				if g, err = s.client.PartnerGrant.Get(ctx, g.ID); err == nil && g.Status == partnergrant.StatusGRANTED {
					return s.revokeBundled(ctx, g, reason)
				}
			}
			return g, err
		}
		return s.client.PartnerGrant.Get(ctx, g.ID)
	case partnergrant.StatusGRANTED:
	default:
		return g, nil
	}
	if err := s.callRevoke(ctx, g, reason); err != nil {
		s.logger.Warn("partner revoke left pending for the reconciler", "partner", g.PartnerKey, "grant", g.ID, "err", err)
		return s.client.PartnerGrant.UpdateOne(g).SetStatus(partnergrant.StatusREVOKED).SetDetail(clip(revokePending+reason, 512)).
			SetUpdatedAt(s.clock.Now()).Save(ctx)
	}
	return s.client.PartnerGrant.UpdateOne(g).SetStatus(partnergrant.StatusREVOKED).SetDetail(clip("Revoked: "+reason, 512)).
		SetUpdatedAt(s.clock.Now()).Save(ctx)
}

// callRevoke tells the plugin; nil when it revoked the grant or does not know it (nothing to
// withdraw there).
func (s *Service) callRevoke(ctx context.Context, g *ent.PartnerGrant, reason string) error {
	if s.runner == nil {
		return errNoPlugins(g.PartnerKey, "input.grant")
	}
	err := s.runner.Call(ctx, g.PartnerKey, func(ctx context.Context, c *sdk.Client) error {
		_, err := c.Revoke(ctx, &partnerv1.RevokeRequest{GrantId: g.GrantID, Reason: reason})
		return err
	})
	if err != nil && !refused(err) {
		return err
	}
	return nil
}

// reconcileRevokes tells partners of the revokes they missed, each once: the row is taken
// (its attempt counted) before the call, so two reconcilers never both call.
func (s *Service) reconcileRevokes(ctx context.Context, olderThan time.Duration) (int, error) {
	pending, err := s.client.PartnerGrant.Query().Where(partnergrant.ProgramID(s.programID), partnergrant.StatusEQ(partnergrant.StatusREVOKED),
		partnergrant.UpdatedAtLTE(s.clock.Now().Add(-olderThan)), partnergrant.DetailHasPrefix(revokePending)).Limit(500).All(ctx)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, g := range pending {
		if info, err := s.runner.Info(g.PartnerKey); err != nil || info.Status != host.Running {
			continue
		}
		// The attempt count always changes, so the row counts as taken on MySQL too (which
		// reports only rows whose values changed).
		n, err := s.client.PartnerGrant.Update().Where(partnergrant.ID(g.ID), partnergrant.Attempts(g.Attempts)).
			AddAttempts(1).SetUpdatedAt(s.clock.Now()).Save(ctx)
		if err != nil || n == 0 {
			continue
		}
		reason := strings.TrimPrefix(g.Detail, revokePending)
		if err := s.callRevoke(ctx, g, reason); err != nil {
			s.logger.Warn("partner revoke still pending", "partner", g.PartnerKey, "grant", g.ID, "err", err)
			continue
		}
		if err := s.client.PartnerGrant.UpdateOneID(g.ID).SetDetail(clip("Revoked: "+reason, 512)).SetUpdatedAt(s.clock.Now()).Exec(ctx); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// bundledTermCancelled: a PENDING bundled grant whose term was cancelled meanwhile is
// withdrawn instead of granted.
func (s *Service) bundledTermCancelled(ctx context.Context, g *ent.PartnerGrant) (bool, error) {
	id, err := strconv.Atoi(g.Params[termParam])
	if err != nil || !strings.HasPrefix(g.IdempotencyKey, bundleKeyPrefix) {
		return false, nil
	}
	return s.client.PlusTerm.Query().Where(plusterm.ID(id), plusterm.CancelledAtNotNil()).Exist(ctx)
}

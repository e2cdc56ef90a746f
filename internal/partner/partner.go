// Package partner is the platform's side of partner benefits (docs/domain.md §7): claims recorded
// around the plugin call (PENDING before, the outcome after, a reconciler for what a crash
// left PENDING), revocation, the admin's switches and configuration, and the narrow callback
// service a plugin may use. Running the plugins is plugins/host's job.
package partner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/partnergrant"
	"github.com/membergraph/membergraph/ent/partnersetting"
	"github.com/membergraph/membergraph/internal/amount"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/ident"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/usererr"
	"github.com/membergraph/membergraph/plugins/host"
	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk"
)

// Runner runs the plugins; *host.Manager is one. A Service without one has no partners.
type Runner interface {
	Partners() []host.Info
	Info(key string) (host.Info, error)
	Call(ctx context.Context, key string, fn func(ctx context.Context, c *sdk.Client) error) error
	Reconfigure(ctx context.Context, key string) error
}

// Service claims, revokes and configures partner benefits for one programme.
type Service struct {
	client    *ent.Client
	ledger    *points.Ledger
	clock     clock.Clock
	programID int
	runner    Runner
	logger    *slog.Logger

	plus    *plus.Service
	bundles []Bundle
}

// NewService returns a Service for the programme programID; SetRunner attaches the plugins.
func NewService(client *ent.Client, ledger *points.Ledger, programID int, logger *slog.Logger) *Service {
	return &Service{client: client, ledger: ledger, clock: ledger.Clock(), programID: programID, logger: logger, bundles: defaultBundles}
}

// SetRunner attaches the running plugins (they need the Service's settings and host
// callbacks to start, hence the two steps).
func (s *Service) SetRunner(r Runner) { s.runner = r }

func (s *Service) sys(ctx context.Context) context.Context {
	return auth.SystemContext(ctx, s.programID)
}

// Partners lists the partners with their state; an admin's disabled partner is DISABLED.
func (s *Service) Partners() []host.Info {
	if s.runner == nil {
		return nil
	}
	return s.runner.Partners()
}

// Settings is what the host asks before it starts or reconfigures a plugin: the plugin's
// own settings, without the platform's.
func (s *Service) Settings(key string) (bool, map[string]string) {
	st, err := s.setting(context.Background(), key)
	if err != nil || st == nil {
		return true, nil // enabled with its defaults until an admin says otherwise
	}
	return st.Enabled, pluginConfig(st.Config)
}

// setting is a partner's stored setting, nil when an admin never set one.
func (s *Service) setting(ctx context.Context, key string) (*ent.PartnerSetting, error) {
	st, err := s.client.PartnerSetting.Query().Where(partnersetting.ProgramID(s.programID), partnersetting.PartnerKey(key)).Only(s.sys(ctx))
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return st, err
}

// Configure changes a partner's switch, the plugin's configuration and what the platform
// allows it in the PLUS channel (nil leaves each as it is) and hands them to the plugin.
func (s *Service) Configure(ctx context.Context, key string, enabled *bool, config map[string]string, plus *PlusAllowance) (host.Info, error) {
	info, err := s.info(key, "input.partner")
	if err != nil {
		return info, err
	}
	for k := range config {
		if strings.HasPrefix(k, platformPrefix) {
			return info, usererr.New(usererr.InvalidArgument, "input.config", "%q: settings under %s are the platform's (input.plus)", k, platformPrefix)
		}
		if info.Description != nil && !slices.ContainsFunc(info.Description.ConfigSchema, func(f *partnerv1.ConfigField) bool { return f.Key == k }) {
			return info, usererr.New(usererr.InvalidArgument, "input.config", "%s has no setting %q", key, k)
		}
	}
	if plus != nil {
		var errs usererr.List
		if validateAllowance(&errs, plus); errs.Err() != nil {
			return info, errs.Err()
		}
	}
	if config != nil || plus != nil {
		// One JSON holds both: the part not being replaced is kept as it is.
		old, err := s.setting(ctx, key)
		if err != nil {
			return info, err
		}
		var stored map[string]string
		if old != nil {
			stored = old.Config
		}
		merged := map[string]string{}
		for k, v := range stored {
			if own := strings.HasPrefix(k, platformPrefix); (own && plus == nil) || (!own && config == nil) {
				merged[k] = v
			}
		}
		for k, v := range config {
			merged[k] = v
		}
		if plus != nil && (len(plus.Plans) > 0 || plus.MonthlyCap > 0) {
			merged[plusPlansKey], merged[plusMonthlyKey] = strings.Join(plus.Plans, ","), strconv.Itoa(plus.MonthlyCap)
		}
		config = merged
	}
	c := s.client.PartnerSetting.Create().SetProgramID(s.programID).SetPartnerKey(key).SetUpdatedAt(s.clock.Now())
	if enabled != nil {
		c.SetEnabled(*enabled)
	}
	if config != nil {
		c.SetConfig(config)
	}
	err = c.OnConflictColumns(partnersetting.FieldProgramID, partnersetting.FieldPartnerKey).Update(func(u *ent.PartnerSettingUpsert) {
		u.UpdateUpdatedAt()
		if enabled != nil {
			u.UpdateEnabled()
		}
		if config != nil {
			u.UpdateConfig()
		}
	}).Exec(ctx)
	if err != nil {
		return info, err
	}
	if err := s.runner.Reconfigure(ctx, key); err != nil {
		return info, err
	}
	return s.waitSettled(key), nil
}

// waitSettled gives a partner that was switched a moment to reach its new state.
func (s *Service) waitSettled(key string) host.Info {
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, _ := s.runner.Info(key)
		enabled, _ := s.Settings(key)
		if (enabled && info.Status == host.Running) || (!enabled && info.Status == host.Disabled) || time.Now().After(deadline) {
			return info
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Service) info(key, field string) (host.Info, error) {
	if s.runner == nil {
		return host.Info{}, usererr.New(usererr.NotFound, field, "no partner %q: no plugins are installed", key)
	}
	info, err := s.runner.Info(key)
	if errors.Is(err, host.ErrUnknown) {
		return info, usererr.New(usererr.NotFound, field, "no partner %q", key)
	}
	return info, err
}

// ClaimRequest asks a partner to grant a member a benefit.
type ClaimRequest struct {
	ExternalID     string
	Partner        string
	Benefit        string
	IdempotencyKey string
	// Params are what the benefit needs (a card token, an amount to exchange).
	Params map[string]string
}

// Claimed is a claim's outcome.
type Claimed struct {
	Grant    *ent.PartnerGrant
	Replayed bool
}

// Claim grants a benefit once per idempotency key. The grant is recorded PENDING before the
// plugin is called and gets its outcome after: GRANTED, or REFUSED when the partner said no
// (a user error). When the partner cannot be reached in time the grant stays PENDING and the
// caller gets UNAVAILABLE: retrying with the same key (or the reconciler) finishes it.
func (s *Service) Claim(ctx context.Context, r ClaimRequest) (Claimed, error) {
	var errs usererr.List
	points.CheckKey(&errs, r.IdempotencyKey)
	if strings.HasPrefix(r.IdempotencyKey, bundleKeyPrefix) {
		// The bundled benefits of PLUS terms are keyed so; a claim taking such a key first
		// would keep a term's bundle from ever being granted.
		errs.Add(usererr.InvalidArgument, "input.idempotencyKey", "idempotency keys starting plus-term: are the platform's")
	}
	if r.Benefit == "" {
		errs.Add(usererr.InvalidArgument, "input.benefit", "benefit is required")
	}
	if err := errs.Err(); err != nil {
		return Claimed{}, err
	}
	// The caller's viewer decides whom it may name: a MEMBER only itself.
	m, err := memberpkg.Named(ctx, s.client, r.ExternalID)
	if err != nil {
		return Claimed{}, err
	}
	c, err := s.claim(s.sys(ctx), m, r)
	return c, forCaller(ctx, err)
}

// claim is Claim for member m, in the system's context.
func (s *Service) claim(ctx context.Context, m *ent.Member, r ClaimRequest) (Claimed, error) {
	if len(r.Params) > 20 {
		return Claimed{}, usererr.New(usererr.InvalidArgument, "input.params", "at most 20 params")
	}
	hash := points.Hash(struct {
		Member, Partner, Benefit string
		Params                   map[string]string
	}{r.ExternalID, r.Partner, r.Benefit, r.Params})
	g, err := s.client.PartnerGrant.Query().Where(partnergrant.IdempotencyKey(r.IdempotencyKey)).Only(ctx)
	switch {
	case err == nil && g.BodyHash != hash:
		return Claimed{}, usererr.New(usererr.Conflict, "input.idempotencyKey", "idempotencyKey %q was used for a different claim", r.IdempotencyKey)
	case err == nil && g.Status == partnergrant.StatusREFUSED:
		// The first outcome is the outcome: the same refusal, whatever the partner would say now.
		return Claimed{Grant: g, Replayed: true}, refusal(g)
	case err == nil && g.Status == partnergrant.StatusEXPIRED:
		return Claimed{Grant: g, Replayed: true}, expiredClaim(g)
	case err == nil && g.Status != partnergrant.StatusPENDING:
		return Claimed{Grant: g, Replayed: true}, nil
	case err == nil:
		// A PENDING grant: finish it below.
	case !ent.IsNotFound(err):
		return Claimed{}, err
	default:
		info, err := s.info(r.Partner, "input.partner")
		if err != nil {
			return Claimed{}, err
		}
		if info.Description != nil && !slices.ContainsFunc(info.Description.Benefits, func(b *partnerv1.Benefit) bool { return b.Key == r.Benefit }) {
			return Claimed{}, usererr.New(usererr.NotFound, "input.benefit", "%s offers no benefit %q", r.Partner, r.Benefit)
		}
		now := s.clock.Now()
		g, err = s.client.PartnerGrant.Create().SetProgramID(s.programID).SetMemberID(m.ID).SetPartnerKey(r.Partner).
			SetBenefitKey(r.Benefit).SetIdempotencyKey(r.IdempotencyKey).SetBodyHash(hash).SetParams(r.Params).SetStatus(partnergrant.StatusPENDING).
			SetCreatedAt(now).SetUpdatedAt(now).Save(ctx)
		if ent.IsConstraintError(err) {
			return s.claim(ctx, m, r) // the same key at once: the other request's row decides
		}
		if err != nil {
			return Claimed{}, err
		}
	}
	g, err = s.finish(ctx, g)
	return Claimed{Grant: g}, err
}

// errNoPlugins answers for a partner when this server runs no plugins at all.
func errNoPlugins(partner, field string) error {
	return partnerDown(field, partner, "be reached", "retry later", errors.New("this server runs no partner plugins"))
}

// finish calls the plugin for a PENDING grant and records the outcome.
func (s *Service) finish(ctx context.Context, g *ent.PartnerGrant) (*ent.PartnerGrant, error) {
	if s.runner == nil {
		return g, errNoPlugins(g.PartnerKey, "input.partner")
	}
	if cancelled, err := s.bundledTermCancelled(ctx, g); err != nil || cancelled {
		if err != nil {
			return g, err
		}
		return s.revokeBundled(ctx, g, "its PLUS term was cancelled")
	}
	m, err := s.client.Member.Query().Where(member.ID(g.MemberID)).WithTier().Only(ctx)
	if err != nil {
		return g, err
	}
	pm := &partnerv1.Member{ExternalId: m.ExternalID, TierKey: m.Edges.Tier.Key, PlusActive: s.plusActive(ctx, m.ID)}
	var elig *partnerv1.EligibilityResponse
	var res *partnerv1.GrantResponse
	callErr := s.runner.Call(ctx, g.PartnerKey, func(ctx context.Context, c *sdk.Client) error {
		// The plugin's key is the grant's row: the same on every retry of this claim.
		req := &partnerv1.GrantRequest{IdempotencyKey: fmt.Sprintf("membergraph-%d", g.ID), BenefitKey: g.BenefitKey, Member: pm, Params: g.Params}
		var err error
		if c.GrantChecksEligibility() {
			// One round trip: the plugin checks eligibility before it grants, on every
			// attempt, as the two calls below do. Its "not eligible" is an answer, not a
			// refusal of the call: the outcome (and the call's count) are the two calls'.
			req.CheckEligibility = true
			res, err = c.Grant(ctx, req)
			if reason, ok := sdk.IsNotEligible(err); ok {
				res, elig, err = nil, &partnerv1.EligibilityResponse{Reason: reason}, nil
			} else if err == nil {
				elig = &partnerv1.EligibilityResponse{Eligible: true}
			}
			return err
		}
		// A plugin that did not say it checks (an older or non-Go one): ask, then grant.
		if elig, err = c.CheckEligibility(ctx, &partnerv1.EligibilityRequest{BenefitKey: g.BenefitKey, Member: pm}); err != nil || !elig.Eligible {
			return err
		}
		res, err = c.Grant(ctx, req)
		return err
	})
	u := s.client.PartnerGrant.UpdateOne(g).SetUpdatedAt(s.clock.Now()).AddAttempts(1)
	switch {
	case callErr == nil && !elig.Eligible:
		g, err = u.SetStatus(partnergrant.StatusREFUSED).SetDetail(clip(elig.Reason, 512)).Save(ctx)
		if err != nil {
			return g, err
		}
		return g, refusal(g)
	case callErr == nil:
		u.SetStatus(partnergrant.StatusGRANTED).SetGrantID(res.GrantId).SetCode(clip(res.Code, 256)).SetDetail(clip(res.Description, 512))
		if res.ExpiresAtUnix > 0 {
			u.SetExpiresAt(time.Unix(res.ExpiresAtUnix, 0).UTC())
		}
		return u.Save(ctx)
	case refused(callErr):
		msg := status.Convert(callErr).Message()
		g, err = u.SetStatus(partnergrant.StatusREFUSED).SetDetail(clip(msg, 512)).Save(ctx)
		if err != nil {
			return g, err
		}
		return g, refusal(g)
	default:
		if _, err := u.Save(ctx); err != nil {
			return g, err
		}
		s.logger.Warn("partner grant left pending", "partner", g.PartnerKey, "grant", g.ID, "err", callErr)
		return g, partnerDown("input.partner", g.PartnerKey, "grant", "retry with the same idempotencyKey", callErr)
	}
}

// refusal is the answer to a REFUSED grant, built from the row alone, so that every retry
// of the claim answers the first refusal word for word.
func refusal(g *ent.PartnerGrant) error {
	return usererr.New(usererr.FailedPrecondition, "input.benefit", "%s refused %s: %s", g.PartnerKey, g.BenefitKey, g.Detail)
}

// refused: the partner answered, and the answer is no.
func refused(err error) bool {
	switch status.Code(err) {
	case codes.FailedPrecondition, codes.NotFound, codes.InvalidArgument, codes.PermissionDenied, codes.AlreadyExists:
		return true
	}
	return false
}

// Revoke withdraws a granted benefit; revoking a revoked grant changes nothing.
func (s *Service) Revoke(ctx context.Context, grantID int, reason string) (*ent.PartnerGrant, error) {
	if len(reason) < 3 || len(reason) > 200 {
		return nil, usererr.New(usererr.InvalidArgument, "input.reason", "a reason of 3–200 characters is required")
	}
	g, err := s.client.PartnerGrant.Get(ctx, grantID)
	if ent.IsNotFound(err) {
		return nil, usererr.New(usererr.NotFound, "input.grant", "no partner grant %d", grantID)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case g.Status == partnergrant.StatusREVOKED && strings.HasPrefix(g.Detail, revokePending):
		// Revoked here while the partner was down: tell it now rather than wait.
		if err := s.callRevoke(ctx, g, reason); err != nil {
			return g, partnerDown("input.grant", g.PartnerKey, "revoke", "retry", err)
		}
		return s.client.PartnerGrant.UpdateOne(g).SetDetail(clip("Revoked: "+reason, 512)).SetUpdatedAt(s.clock.Now()).Save(s.sys(ctx))
	case g.Status == partnergrant.StatusREVOKED:
		return g, nil
	case g.Status == partnergrant.StatusGRANTED:
	default:
		return g, usererr.New(usererr.FailedPrecondition, "input.grant", "a %s grant cannot be revoked", g.Status)
	}
	if s.runner == nil {
		return g, errNoPlugins(g.PartnerKey, "input.grant")
	}
	if err := s.callRevoke(ctx, g, reason); err != nil {
		return g, partnerDown("input.grant", g.PartnerKey, "revoke", "retry", err)
	}
	return s.client.PartnerGrant.UpdateOne(g).SetStatus(partnergrant.StatusREVOKED).SetDetail(clip("Revoked: "+reason, 512)).
		SetUpdatedAt(s.clock.Now()).Save(s.sys(ctx))
}

// Reconcile finishes grants left PENDING for longer than olderThan (a crash between the
// record and the outcome, or a partner that was down) by calling the plugin again with the
// grant's key once the partner runs, expires the claims no partner answered within
// PendingExpiry, and tells partners of the revokes they missed while down. It returns how
// many grants it finished or expired.
func (s *Service) Reconcile(ctx context.Context, olderThan time.Duration) (int, error) {
	ctx = s.sys(ctx)
	done := 0
	if running := s.runningPartners(); len(running) > 0 {
		// Only running partners' grants, oldest first: those of a partner that stays down
		// would otherwise fill the batch and keep everyone else's waiting.
		pending, err := s.client.PartnerGrant.Query().Where(partnergrant.StatusEQ(partnergrant.StatusPENDING),
			partnergrant.PartnerKeyIn(running...), partnergrant.UpdatedAtLTE(s.clock.Now().Add(-olderThan))).
			Order(partnergrant.ByID()).Limit(500).All(ctx)
		if err != nil {
			return 0, err
		}
		for _, g := range pending {
			if g, err = s.finish(ctx, g); g != nil && g.Status != partnergrant.StatusPENDING {
				done++
			}
			if err != nil && ctx.Err() != nil {
				return done, ctx.Err()
			}
		}
	}
	expired, err := s.expirePending(ctx)
	if done += expired; err != nil || s.runner == nil {
		return done, err
	}
	revoked, err := s.reconcileRevokes(ctx, olderThan)
	return done + revoked, err
}

// RunReconciler runs Reconcile every interval until ctx ends.
func (s *Service) RunReconciler(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.Reconcile(ctx, interval); err != nil && ctx.Err() == nil {
			s.logger.Error("partner grant reconciliation failed", "err", err)
		} else if n > 0 {
			s.logger.Info("partner grants reconciled", "finished", n)
		}
	}
}

// Report hands a partner's back-office activity to its plugin. A PARTNER token reports for
// its own partner only.
func (s *Service) Report(ctx context.Context, partnerKey, externalID, kind string, amountCents int64, key string) (*partnerv1.ReportResponse, error) {
	v, _ := auth.FromContext(ctx)
	if v.Is(auth.RolePartner) && v.Subject != partnerKey {
		return nil, usererr.New(usererr.PermissionDenied, "input.partner", "this token reports for %q only", v.Subject)
	}
	var errs usererr.List
	ident.Check(&errs, "input.externalId", ident.ExternalID, externalID)
	amount.CheckCents(&errs, "input.amountCents", amountCents, 0)
	if points.CheckKey(&errs, key); errs.Err() != nil {
		return nil, errs.Err()
	}
	if _, err := s.info(partnerKey, "input.partner"); err != nil {
		return nil, err
	}
	// As the callbacks see members: one the partner has no benefit with looks unknown.
	if _, err := (&callbacks{s: s, key: partnerKey}).granted(ctx, externalID); status.Code(err) == codes.NotFound {
		return nil, usererr.New(usererr.NotFound, "input.externalId", "no member %q with a benefit of %s", externalID, partnerKey)
	} else if err != nil {
		return nil, err
	}
	var res *partnerv1.ReportResponse
	err := s.runner.Call(ctx, partnerKey, func(ctx context.Context, c *sdk.Client) error {
		var err error
		res, err = c.Report(ctx, &partnerv1.ReportRequest{IdempotencyKey: key, ExternalId: externalID, Kind: kind, AmountCents: amountCents})
		return err
	})
	switch {
	case err == nil:
		return res, nil
	case status.Code(err) == codes.Unimplemented:
		return nil, usererr.New(usererr.FailedPrecondition, "input.partner", "%s takes no reports", partnerKey)
	case status.Code(err) == codes.AlreadyExists:
		// The partner, or the award it asked of the ledger, holds the key for another body:
		// the same answer as every other key reused for another request.
		return nil, usererr.New(usererr.Conflict, "input.idempotencyKey", "idempotencyKey %q was used for a different report", key)
	case refused(err):
		return nil, usererr.New(usererr.FailedPrecondition, "input", "%s refused: %s", partnerKey, status.Convert(err).Message())
	}
	return nil, forCaller(ctx, partnerDown("input.partner", partnerKey, "take the report", "retry with the same idempotencyKey", err))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

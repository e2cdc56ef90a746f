// Package benefit is what a member's tier and PLUS membership entitle the member to, with the
// quotas of docs/domain.md §4 "Tier benefits": a limited benefit is claimed at most N times per
// month or year, tracked per member, once per idempotency key. PLUS's entries (docs/domain.md
// §5) are held while a term runs, asked of the ledger's PLUS checker, so they stop at the
// term's end instant.
package benefit

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/membergraph/membergraph/ent"
	entbenefit "github.com/membergraph/membergraph/ent/benefit"
	"github.com/membergraph/membergraph/ent/benefitclaim"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/refusal"
	"github.com/membergraph/membergraph/ent/tier"
	"github.com/membergraph/membergraph/internal/auth"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Source says why a member holds a benefit.
type Source string

// The sources.
const (
	SourceTier Source = "TIER"
	SourcePlus Source = "PLUS"
)

// claimSource is the claim rows' record of why a benefit was held.
var claimSource = map[Source]benefitclaim.Source{SourceTier: benefitclaim.SourceCLAIM, SourcePlus: benefitclaim.SourcePLUS}

// Entitlement is one benefit a member holds now.
type Entitlement struct {
	Benefit *ent.Benefit
	Source  Source
	// Used is how many claims count against this period's quota; Remaining is nil when the
	// benefit is unlimited.
	Used      int
	Remaining *int
	// PeriodEnd is when the quota renews; nil when unlimited.
	PeriodEnd *time.Time
}

// Service lists and claims benefits.
type Service struct {
	client *ent.Client
	ledger *points.Ledger
}

// NewService returns a Service; claims lock the member through ledger, so a claim and a
// points change of one member never interleave.
func NewService(client *ent.Client, ledger *points.Ledger) *Service {
	return &Service{client: client, ledger: ledger}
}

// Period is the quota period of b that holds now, and when it ends: YYYY-MM, YYYY, or ""
// for an unlimited benefit.
func Period(b *ent.Benefit, now time.Time, loc *time.Location) (string, *time.Time) {
	l := now.In(loc)
	switch b.QuotaPeriod {
	case entbenefit.QuotaPeriodMONTH:
		end := time.Date(l.Year(), l.Month()+1, 1, 0, 0, 0, 0, loc)
		return l.Format("2006-01"), &end
	case entbenefit.QuotaPeriodYEAR:
		end := time.Date(l.Year()+1, 1, 1, 0, 0, 0, 0, loc)
		return l.Format("2006"), &end
	}
	return "", nil
}

// Of lists what m holds: its tier's benefits and, while a PLUS term runs, PLUS's, each with
// the quota left this period, by kind, then key, a tier's before PLUS's of one key.
func (s *Service) Of(ctx context.Context, prog *ent.Program, m *ent.Member) ([]Entitlement, error) {
	loc, err := points.Location(prog.TimeZone)
	if err != nil {
		return nil, err
	}
	t, err := s.client.Tier.Query().Where(tier.ID(m.TierID)).WithBenefits(func(q *ent.BenefitQuery) {
		q.Order(store.BenefitOrder()...)
	}).Only(ctx)
	if err != nil {
		return nil, err
	}
	now := s.ledger.Clock().Now()
	type held struct {
		b   *ent.Benefit
		src Source
	}
	var all []held
	for _, b := range t.Edges.Benefits {
		all = append(all, held{b, SourceTier})
	}
	plus, err := s.plusBenefits(ctx, prog, m.ID, now)
	if err != nil {
		return nil, err
	}
	if len(plus) > 0 {
		for _, b := range plus {
			all = append(all, held{b, SourcePlus})
		}
		// Both lists come in the catalogue order; merged, they keep it.
		slices.SortStableFunc(all, func(x, y held) int {
			return cmp.Or(cmp.Compare(slices.Index(store.BenefitKinds, x.b.Kind), slices.Index(store.BenefitKinds, y.b.Kind)),
				cmp.Compare(x.b.Key, y.b.Key))
		})
	}
	used, err := s.used(ctx, m.ID, now, loc)
	if err != nil {
		return nil, err
	}
	out := make([]Entitlement, len(all))
	for i, h := range all {
		e := Entitlement{Benefit: h.b, Source: h.src}
		if h.b.Quota > 0 {
			period, end := Period(h.b, now, loc)
			e.Used, e.PeriodEnd = used[claimKey{h.b.ID, period, claimSource[h.src]}], end
			left := max(h.b.Quota-e.Used, 0)
			e.Remaining = &left
		}
		out[i] = e
	}
	return out, nil
}

// plusBenefits are PLUS's catalogue entries in the catalogue order when the member is PLUS
// at now, else none.
func (s *Service) plusBenefits(ctx context.Context, prog *ent.Program, memberID int, now time.Time) ([]*ent.Benefit, error) {
	keys := prog.Rules.PlusBenefitRules().Benefits
	if len(keys) == 0 {
		return nil, nil
	}
	active, err := s.ledger.PlusActive(ctx, memberID, now)
	if err != nil || !active {
		return nil, err
	}
	return s.client.Benefit.Query().Where(entbenefit.ProgramID(prog.ID), entbenefit.KeyIn(keys...)).Order(store.BenefitOrder()...).All(ctx)
}

type claimKey struct {
	benefit int
	period  string
	source  benefitclaim.Source
}

// used counts the member's claimBenefit claims (of the tier's and of PLUS's benefits) of this
// month and this year, in one query.
func (s *Service) used(ctx context.Context, memberID int, now time.Time, loc *time.Location) (map[claimKey]int, error) {
	l := now.In(loc)
	claims, err := s.client.BenefitClaim.Query().Where(benefitclaim.MemberID(memberID),
		benefitclaim.SourceIn(benefitclaim.SourceCLAIM, benefitclaim.SourcePLUS),
		benefitclaim.PeriodIn(l.Format("2006-01"), l.Format("2006"))).All(ctx)
	if err != nil {
		return nil, err
	}
	out := map[claimKey]int{}
	for _, c := range claims {
		out[claimKey{c.BenefitID, c.Period, c.Source}]++
	}
	return out, nil
}

// ClaimRequest uses a benefit once.
type ClaimRequest struct {
	ExternalID     string
	BenefitKey     string
	IdempotencyKey string
}

// Claimed is the outcome of a claim.
type Claimed struct {
	Claim     *ent.BenefitClaim
	Remaining *int // nil when unlimited
	Replayed  bool // the key was used before for the same claim: nothing changed
}

// Claim uses a benefit of the member's tier, or of PLUS while a term runs, once, within its
// quota. The quota is checked under the member's lock, so racing claims never exceed it; a
// replayed key returns the first outcome, the claim or the refusal (kept as a Refusal in the
// transaction that decided it), and the same key for another member or benefit is a
// CONFLICT. A claim records the benefit's face value, which a PLUS refund deducts.
func (s *Service) Claim(ctx context.Context, r ClaimRequest) (Claimed, error) {
	var errs usererr.List
	points.CheckKey(&errs, r.IdempotencyKey)
	if r.BenefitKey == "" {
		errs.Add(usererr.InvalidArgument, "input.benefitKey", "benefitKey is required")
	}
	if err := errs.Err(); err != nil {
		return Claimed{}, err
	}
	// The caller's viewer decides which members it may name (a MEMBER only itself); the
	// write then runs as the platform.
	m, err := memberpkg.Named(ctx, s.client, r.ExternalID)
	if err != nil {
		return Claimed{}, err
	}
	v, _ := auth.FromContext(ctx)
	ctx = auth.SystemContext(ctx, v.ProgramID)
	prog, err := s.client.Program.Get(ctx, v.ProgramID)
	if err != nil {
		return Claimed{}, err
	}
	b, err := s.client.Benefit.Query().Where(entbenefit.Key(r.BenefitKey)).Only(ctx)
	if ent.IsNotFound(err) {
		return Claimed{}, usererr.New(usererr.NotFound, "input.benefitKey", "no benefit %q in the catalogue", r.BenefitKey)
	}
	if err != nil {
		return Claimed{}, err
	}
	hash := points.Hash(struct {
		Member  int
		Benefit string
	}{m.ID, r.BenefitKey})
	var out Claimed
	var refused *usererr.Error
	err = s.ledger.WithTx(ctx, func(tx *ent.Tx) error {
		out, refused = Claimed{}, nil
		book, err := s.ledger.Open(ctx, tx, prog, m.ID)
		if err != nil {
			return err
		}
		prev, err := tx.BenefitClaim.Query().Where(benefitclaim.IdempotencyKey(r.IdempotencyKey)).Only(ctx)
		if err == nil {
			if prev.MemberID != m.ID || prev.BenefitID != b.ID {
				return usererr.New(usererr.Conflict, "input.idempotencyKey", "idempotencyKey %q was used for a different claim", r.IdempotencyKey)
			}
			out.Claim, out.Replayed = prev, true
			return s.remaining(ctx, tx, b, m.ID, prev.Period, prev.Source, &out)
		}
		if !ent.IsNotFound(err) {
			return err
		}
		// A key refused before answers as it did, under this member's lock; any other claim
		// under it is a CONFLICT.
		was, err := tx.Refusal.Query().Where(refusal.ProgramID(prog.ID), refusal.Operation(claimOperation), refusal.Key(r.IdempotencyKey)).Only(ctx)
		if err == nil {
			if was.BodyHash != hash {
				return usererr.New(usererr.Conflict, "input.idempotencyKey", "idempotencyKey %q was used for a different claim", r.IdempotencyKey)
			}
			return usererr.New(usererr.Code(was.Code), was.Field, "%s", was.Message)
		}
		if !ent.IsNotFound(err) {
			return err
		}
		if err := s.decide(ctx, tx, prog, b, m, book, r.IdempotencyKey, &out); err != nil {
			d, ok := points.Decided(err)
			if !ok {
				return err
			}
			// Kept in the transaction that read the state it was decided on, which wrote
			// nothing else: the refusal commits, and a retry meets it.
			err = tx.Refusal.Create().SetProgramID(prog.ID).SetMemberID(m.ID).SetOperation(claimOperation).SetKey(r.IdempotencyKey).
				SetBodyHash(hash).SetCode(string(d.Code)).SetField(strings.Join(d.Field, ".")).SetMessage(d.Message).SetCreatedAt(book.Now).Exec(ctx)
			if ent.IsConstraintError(err) {
				return usererr.New(usererr.Conflict, "input.idempotencyKey", "idempotencyKey %q was used for a different claim", r.IdempotencyKey)
			}
			if err != nil {
				return err
			}
			out, refused = Claimed{}, d
		}
		return nil
	})
	if out.Claim != nil {
		out.Claim = out.Claim.Unwrap() // its edges are read after the transaction
	}
	if err == nil && refused != nil {
		return Claimed{}, refused
	}
	return out, err
}

// claimOperation names claimBenefit's keys among the refusals kept.
const claimOperation = "claimBenefit"

// decide claims b for m under the lock the caller holds on book, or refuses: the benefit is
// not the member's (tier or PLUS) or its quota is used. It writes only the claim.
func (s *Service) decide(ctx context.Context, tx *ent.Tx, prog *ent.Program, b *ent.Benefit, m *ent.Member, book *points.Book, key string, out *Claimed) error {
	// A campaign's coupon goes first: it expires, the tier's quota renews.
	if used, err := useCoupon(ctx, tx, prog.ID, b, m.ID, key, book.Now, out); used || err != nil {
		return err
	}
	// Read the tier inside the lock: a settlement may just have moved the member.
	cur, err := tx.Member.Query().Where(member.ID(m.ID)).QueryTier().WithBenefits().Only(ctx)
	if err != nil {
		return err
	}
	source := benefitclaim.Source("")
	for _, tb := range cur.Edges.Benefits {
		if tb.ID == b.ID {
			source = benefitclaim.SourceCLAIM
		}
	}
	if source == "" && prog.Rules.PlusBenefitRules().Holds(b.Key) {
		// Asked inside the lock, at the claim's instant: a term ended a second ago holds nothing.
		active, err := book.PlusActive(ctx, book.Now)
		if err != nil {
			return err
		}
		if !active {
			return usererr.New(usererr.FailedPrecondition, "input.benefitKey", "%s is a PLUS benefit and the member has no PLUS term running", b.Key)
		}
		source = benefitclaim.SourcePLUS
	}
	if source == "" {
		if err := couponRefusal(ctx, tx, b, m.ID, book.Now); err != nil {
			return err
		}
		return usererr.New(usererr.FailedPrecondition, "input.benefitKey", "%s is not a benefit of the %s tier", b.Key, cur.Name)
	}
	period, end := Period(b, book.Now, book.Loc)
	if err := s.remaining(ctx, tx, b, m.ID, period, source, out); err != nil {
		return err
	}
	if out.Remaining != nil && *out.Remaining == 0 {
		return usererr.New(usererr.FailedPrecondition, "input.benefitKey", "the %d claims of %s for %s are used; it renews %s",
			b.Quota, b.Key, period, end.Format(time.DateOnly))
	}
	out.Claim, err = tx.BenefitClaim.Create().SetProgramID(prog.ID).SetMemberID(m.ID).SetBenefitID(b.ID).
		SetIdempotencyKey(key).SetPeriod(period).SetSource(source).SetFaceValueCents(b.FaceValueCents).SetClaimedAt(book.Now).Save(ctx)
	if ent.IsConstraintError(err) {
		return usererr.New(usererr.Conflict, "input.idempotencyKey", "idempotencyKey %q was used for a different claim", key)
	}
	if err != nil {
		return err
	}
	if out.Remaining != nil {
		*out.Remaining--
	}
	return nil
}

// remaining fills out.Remaining with what is left of b's quota in period for claims of source.
func (s *Service) remaining(ctx context.Context, tx *ent.Tx, b *ent.Benefit, memberID int, period string, source benefitclaim.Source, out *Claimed) error {
	if b.Quota == 0 {
		return nil
	}
	n, err := tx.BenefitClaim.Query().Where(benefitclaim.MemberID(memberID), benefitclaim.BenefitID(b.ID),
		benefitclaim.Period(period), benefitclaim.SourceEQ(source)).Count(ctx)
	if err != nil {
		return fmt.Errorf("counting claims: %w", err)
	}
	left := max(b.Quota-n, 0)
	out.Remaining = &left
	return nil
}

package campaign

import (
	"context"
	"time"

	"github.com/membergraph/membergraph/ent"
	entbenefit "github.com/membergraph/membergraph/ent/benefit"
	entcampaign "github.com/membergraph/membergraph/ent/campaign"
	"github.com/membergraph/membergraph/ent/campaignresult"
	"github.com/membergraph/membergraph/ent/coupon"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/usererr"
)

// ISSUE_COUPON: each member hit gets a coupon for a catalogue benefit, good for the
// campaign's valid days, which claimBenefit uses once (internal/benefit). The coupons are
// written with the chunk's results, so the unique (run, member) result issues each once.

// MaxValidDays bounds a coupon's validity: a year, as the frequency cap's window.
const MaxValidDays = 366

// validateCoupon checks an ISSUE_COUPON action alone; Create checks that the benefit exists.
func validateCoupon(a Action, errs *usererr.List) {
	if a.BenefitKey == "" || len(a.BenefitKey) > 64 {
		errs.Add(usererr.InvalidArgument, "input.action.benefitKey", "an ISSUE_COUPON campaign needs benefitKey, a catalogue benefit's key")
	}
	if a.ValidDays < 1 || a.ValidDays > MaxValidDays {
		errs.Add(usererr.InvalidArgument, "input.action.validDays", "validDays must be 1 to %d", MaxValidDays)
	}
}

// couponBenefit is the catalogue benefit an ISSUE_COUPON campaign names; NOT_FOUND at
// field when the catalogue has none of key. ctx must be a system context.
func (s *Service) couponBenefit(ctx context.Context, key, field string) (*ent.Benefit, error) {
	b, err := s.client.Benefit.Query().Where(entbenefit.Key(key)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, usererr.New(usererr.NotFound, field, "no benefit %q in the catalogue", key)
	}
	return b, err
}

// writeCoupons issues c's coupons to the members outs hit, in the chunk's transaction tx.
func (s *Service) writeCoupons(ctx context.Context, tx *ent.Tx, c *ent.Campaign, runID int, outs []Outcome, now time.Time) error {
	b, err := tx.Benefit.Query().Where(entbenefit.Key(c.BenefitKey)).Only(ctx)
	if err != nil {
		return err
	}
	var rows []*ent.CouponCreate
	for _, o := range outs {
		if o.Status == campaignresult.StatusDONE {
			rows = append(rows, tx.Coupon.Create().SetProgramID(c.ProgramID).SetMemberID(o.MemberID).SetBenefitID(b.ID).
				SetCampaignID(c.ID).SetCampaignKey(c.Key).SetRunID(runID).SetIssuedAt(now).
				SetExpiresAt(now.Add(time.Duration(c.ValidDays)*24*time.Hour)))
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return tx.Coupon.CreateBulk(rows...).Exec(ctx)
}

// couponCost fills a dry run's coupons and their face value, one coupon per member hit.
func (s *Service) couponCost(ctx context.Context, c *ent.Campaign, cost *Cost) error {
	if c.Action != entcampaign.ActionISSUE_COUPON {
		return nil
	}
	b, err := s.couponBenefit(ctx, c.BenefitKey, "input.key")
	if err != nil {
		return err
	}
	cost.Coupons = cost.Members
	cost.CouponCents = int64(cost.Members) * b.FaceValueCents
	return nil
}

// MaxCoupons is the most coupons one Coupons call returns.
const MaxCoupons = 100

// Coupons are the coupons issued to the member of memberID, the latest to expire first,
// then the later issued first, at most first (1–MaxCoupons), each with its benefit. Who
// may read whose is the coupon rows' privacy policy (a MEMBER its own).
func (s *Service) Coupons(ctx context.Context, memberID, first int) ([]*ent.Coupon, error) {
	if first < 1 || first > MaxCoupons {
		return nil, usererr.New(usererr.InvalidArgument, "first", "first must be 1–%d", MaxCoupons)
	}
	rows, err := s.client.Coupon.Query().Where(coupon.MemberID(memberID)).
		Order(ent.Desc(coupon.FieldExpiresAt), ent.Desc(coupon.FieldID)).Limit(first).All(ctx)
	if err != nil || len(rows) == 0 {
		return rows, err
	}
	// The catalogue entries, read as the platform: a member reads the catalogue anyway.
	v, _ := auth.FromContext(ctx)
	ids := make([]int, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.BenefitID)
	}
	bs, err := s.client.Benefit.Query().Where(entbenefit.IDIn(ids...)).All(auth.SystemContext(ctx, v.ProgramID))
	if err != nil {
		return nil, err
	}
	byID := make(map[int]*ent.Benefit, len(bs))
	for _, b := range bs {
		byID[b.ID] = b
	}
	for _, r := range rows {
		r.Edges.Benefit = byID[r.BenefitID]
	}
	return rows, nil
}

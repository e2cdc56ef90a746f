package benefit

import (
	"context"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/benefitclaim"
	"github.com/membergraph/membergraph/ent/coupon"
	"github.com/membergraph/membergraph/internal/usererr"
)

// useCoupon claims b for the member with a coupon a campaign issued (internal/campaign),
// the one expiring first among those unused and unexpired at now, under the member's lock
// the caller holds; used says whether there was one. The coupon is marked used only if it
// still is not, so that it backs exactly one claim.
func useCoupon(ctx context.Context, tx *ent.Tx, programID int, b *ent.Benefit, memberID int, key string, now time.Time, out *Claimed) (used bool, err error) {
	cp, err := tx.Coupon.Query().Where(coupon.MemberID(memberID), coupon.BenefitID(b.ID), coupon.UsedAtIsNil(),
		coupon.ExpiresAtGT(now)).Order(ent.Asc(coupon.FieldExpiresAt), ent.Asc(coupon.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	claim, err := tx.BenefitClaim.Create().SetProgramID(programID).SetMemberID(memberID).SetBenefitID(b.ID).
		SetIdempotencyKey(key).SetPeriod("").SetSource(benefitclaim.SourceCOUPON).SetFaceValueCents(b.FaceValueCents).
		SetClaimedAt(now).Save(ctx)
	if ent.IsConstraintError(err) {
		return false, usererr.New(usererr.Conflict, "input.idempotencyKey", "idempotencyKey %q was used for a different claim", key)
	}
	if err != nil {
		return false, err
	}
	n, err := tx.Coupon.Update().Where(coupon.ID(cp.ID), coupon.UsedAtIsNil()).SetUsedAt(now).SetClaimID(claim.ID).Save(ctx)
	if err != nil {
		return false, err
	}
	if n != 1 {
		// Another claim used it between the read and the write, which the member's lock
		// rules out; refusing rolls this claim back rather than backing two with one coupon.
		return false, usererr.New(usererr.Conflict, "input.benefitKey", "the coupon of %s was used meanwhile; retry", b.Key)
	}
	out.Claim = claim
	return true, nil
}

// couponRefusal is why the member cannot use b, when it holds b only through coupons that
// are all used (ALREADY_USED) or expired (EXPIRED) at now, judged by the latest to expire;
// nil when it never had one.
func couponRefusal(ctx context.Context, tx *ent.Tx, b *ent.Benefit, memberID int, now time.Time) error {
	cp, err := tx.Coupon.Query().Where(coupon.MemberID(memberID), coupon.BenefitID(b.ID)).
		Order(ent.Desc(coupon.FieldExpiresAt), ent.Desc(coupon.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if cp.UsedAt != nil {
		return usererr.New(usererr.AlreadyUsed, "input.benefitKey", "the coupon of %s was used at %s", b.Key, cp.UsedAt.UTC().Format(time.RFC3339))
	}
	return usererr.New(usererr.Expired, "input.benefitKey", "the coupon of %s expired at %s", b.Key, cp.ExpiresAt.UTC().Format(time.RFC3339))
}

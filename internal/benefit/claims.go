package benefit

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/benefitclaim"
	"github.com/membergraph/membergraph/internal/page"
)

// Claims is a page of what a member has claimed or been given (claimBenefit, upgrade-gift
// coupons, medal benefits), newest first and, among claims of one instant, the later
// stored first, each with its benefit. Who may read whose claims is the claim rows' privacy
// policy (a MEMBER its own). Three statements at most: the page, its benefits and, when
// asked, the count.
func (s *Service) Claims(ctx context.Context, memberID int, r page.Request) (page.Page[*ent.BenefitClaim], error) {
	if err := r.Validate(); err != nil {
		return page.Page[*ent.BenefitClaim]{}, err
	}
	q := s.client.BenefitClaim.Query().Where(benefitclaim.MemberID(memberID))
	var total int
	if r.Total {
		var err error
		if total, err = q.Clone().Count(ctx); err != nil {
			return page.Page[*ent.BenefitClaim]{}, err
		}
	}
	if k := r.After; k != nil {
		q.Where(benefitclaim.Or(benefitclaim.ClaimedAtLT(k.At.UTC()),
			benefitclaim.And(benefitclaim.ClaimedAt(k.At.UTC()), benefitclaim.IDLT(k.ID))))
	}
	if k := r.Before; k != nil {
		q.Where(benefitclaim.Or(benefitclaim.ClaimedAtGT(k.At.UTC()),
			benefitclaim.And(benefitclaim.ClaimedAt(k.At.UTC()), benefitclaim.IDGT(k.ID))))
	}
	dir := sql.OrderDesc()
	if r.Backward() {
		dir = sql.OrderAsc()
	}
	q.Order(benefitclaim.ByClaimedAt(dir), benefitclaim.ByID(dir)).WithBenefit()
	if n := r.Limit(); n > 0 {
		q.Limit(n)
	}
	rows, err := q.All(ctx)
	if err != nil {
		return page.Page[*ent.BenefitClaim]{}, err
	}
	p := page.Trim(r, rows)
	p.TotalCount = total
	return p, nil
}

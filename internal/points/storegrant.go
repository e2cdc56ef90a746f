package points

import (
	"context"
	"fmt"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/internal/usererr"
)

// GrantFromBudget credits a member from the budget kept under owner (a store's own id, or
// a union's shared budget), the entry naming r.StoreID as its funder. admit runs under the
// member's lock before the budget is touched and may refuse (internal/storeprog's consent);
// its refusal is kept under the key like any decided refusal.
func (l *Ledger) GrantFromBudget(ctx context.Context, r StoreGrantRequest, owner string, admit func(b *Book) error) (Result, error) {
	var errs usererr.List
	validateStore(&errs, r.StoreID, r.Points, r.Reason, r.IdempotencyKey)
	grant := l.fromBudget(ctx, owner, r.Points, Grant{
		Kind: pointentry.KindSTORE_GRANT, Amount: r.Points, Funding: FundingOf(r.StoreID),
		Description: fmt.Sprintf("From store %s: %s", r.StoreID, r.Reason), requestKey: r.IdempotencyKey}, nil)
	return l.change(ctx, errs, r.ExternalID, r.IdempotencyKey, r, func(b *Book) (*ent.PointEntry, error) {
		if err := admit(b); err != nil {
			return nil, err
		}
		return grant(b)
	})
}

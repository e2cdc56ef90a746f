package points

import (
	"context"

	"github.com/membergraph/membergraph/ent"
)

// LockBudget locks, inside tx, the budget kept under owner (a store's key or a union's
// UNION:<key>), creating it on first use, for a caller that credits many members from it at
// once (internal/campaign). The caller must have opened the members' books first: accounts
// before budgets, always, as GrantFromBudget does, so the two never wait on each other in a
// cycle. It then adds what it grants with tx.StoreBudget.UpdateOne(b).AddGranted.
func (l *Ledger) LockBudget(ctx context.Context, tx *ent.Tx, programID int, owner string) (*ent.StoreBudget, error) {
	return l.lockBudget(ctx, tx, programID, owner)
}

package points

import (
	"context"

	"entgo.io/ent/dialect"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/pointaccount"
)

// LockBudget locks, inside tx, the budget kept under owner (a store's key or a union's
// UNION:<key>), creating it on first use, for a caller that credits many members from it at
// once (internal/campaign). The caller must have locked the members' accounts first
// (CreditMembers, Open): accounts before budgets, always, as GrantFromBudget does, so the
// two never wait on each other in a cycle. It then adds what it grants with
// tx.StoreBudget.UpdateOne(b).AddGranted.
func (l *Ledger) LockBudget(ctx context.Context, tx *ent.Tx, programID int, owner string) (*ent.StoreBudget, error) {
	return l.lockBudget(ctx, tx, programID, owner)
}

// Accounts locks, inside tx, the accounts of memberIDs in one statement, in ascending
// member order (the order every transaction that locks several members takes), and returns
// them by member id. A member without an account is absent.
func (l *Ledger) Accounts(ctx context.Context, tx *ent.Tx, memberIDs []int) (map[int]*ent.PointAccount, error) {
	q := tx.PointAccount.Query().Where(pointaccount.MemberIDIn(memberIDs...)).Order(ent.Asc(pointaccount.FieldMemberID))
	if l.dialect == dialect.MySQL {
		q.ForUpdate()
	}
	accts, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int]*ent.PointAccount, len(accts))
	for _, a := range accts {
		out[a.MemberID] = a
	}
	return out, nil
}

// CreditMembers writes the same earning g to each of accts (locked by Accounts in tx): the
// set-based form of Book.Credit for a batch job crediting many members at once. Members
// without debt — nearly all — get their entries and lots in two multi-row inserts and their
// accounts moved in one UPDATE; a member with debt pays it from the earning first, through
// Book.Credit. Every member of accts must fit the balance bound (CheckBalance) — the caller
// decides the refusals before it writes.
func (l *Ledger) CreditMembers(ctx context.Context, tx *ent.Tx, prog *ent.Program, accts []*ent.PointAccount, g Grant) error {
	if len(accts) == 0 {
		return nil
	}
	loc, err := Location(prog.TimeZone)
	if err != nil {
		return err
	}
	now := l.clock.Now()
	entries := make([]*ent.PointEntryCreate, 0, len(accts))
	lots := make([]*ent.PointLotCreate, 0, len(accts))
	plain := make([]int, 0, len(accts))
	// One book writes every plain member's earning, its account swapped in for each: the
	// book's outbox messages (points.changed) and observer reports are then gathered into
	// one INSERT and one report at the commit, not one per member.
	shared := &Book{Tx: tx, Program: prog, Loc: loc, Now: now, plus: l.plus, obs: l.obs}
	for _, a := range accts {
		if a.Debt > 0 {
			b := &Book{Tx: tx, Account: a, Program: prog, Loc: loc, Now: now, plus: l.plus, obs: l.obs}
			if _, err := b.Credit(ctx, g, now, nil); err != nil {
				return err
			}
			continue
		}
		shared.Account = a
		entry, lot, _ := shared.earning(g, now, nil, 0)
		entries, lots, plain = append(entries, entry), append(lots, lot), append(plain, a.ID)
		a.Total += g.Amount
	}
	if len(plain) == 0 {
		return nil
	}
	if err := tx.PointEntry.CreateBulk(entries...).Exec(ctx); err != nil {
		return err
	}
	if err := tx.PointLot.CreateBulk(lots...).Exec(ctx); err != nil {
		return err
	}
	return tx.PointAccount.Update().Where(pointaccount.IDIn(plain...)).AddTotal(g.Amount).Exec(ctx)
}

// CheckBalance refuses a credit of points to an account holding held when the sum would
// pass amount.MaxBalance: Book.Credit's check, for a caller deciding before it writes.
func CheckBalance(field string, held, points int64) error { return checkBalance(field, held, points) }

package points

import (
	"context"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/ent/storebudget"
	"github.com/membergraph/membergraph/ent/storefunding"
	"github.com/membergraph/membergraph/internal/amount"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/ident"
	"github.com/membergraph/membergraph/internal/usererr"
)

// FundingOf names a store's budget as the funder of ledger entries.
func FundingOf(storeID string) string { return "STORE:" + storeID }

// PartnerFunding names a partner's budget as the funder of ledger entries. A partner's
// budget is kept like a store's, under the owner PartnerFunding(key), which no store id
// can take (store ids have no "PARTNER:" prefix).
func PartnerFunding(partnerKey string) string { return partnerPrefix + partnerKey }

const partnerPrefix = "PARTNER:"

// FundRequest records that a store bought points to grant.
type FundRequest struct {
	StoreID        string
	Points         int64
	Reason         string
	IdempotencyKey string
}

func validateStore(errs *usererr.List, storeID string, points int64, reason, key string) {
	if !ident.Valid(ident.Ref, storeID) || strings.HasPrefix(storeID, partnerPrefix) {
		errs.Add(usererr.InvalidArgument, "input.storeId", "storeId must be %s and not start with %s", ident.Ref.Rule(), partnerPrefix)
	}
	amount.CheckPoints(errs, "input.points", points, 1)
	if len(reason) < 3 || len(reason) > 200 {
		errs.Add(usererr.InvalidArgument, "input.reason", "a reason of 3–200 characters is required")
	}
	ident.Check(errs, "input.idempotencyKey", ident.Key, key)
}

// FundStore adds a purchase to a store's budget, once per idempotency key.
func (l *Ledger) FundStore(ctx context.Context, r FundRequest) (*ent.StoreBudget, bool, error) {
	var errs usererr.List
	validateStore(&errs, r.StoreID, r.Points, r.Reason, r.IdempotencyKey)
	if err := errs.Err(); err != nil {
		return nil, false, err
	}
	return l.fund(ctx, r)
}

// FundPartner adds points to a partner's budget, from which its plugin awards points,
// once per idempotency key. r.StoreID names the partner's key.
func (l *Ledger) FundPartner(ctx context.Context, r FundRequest) (*ent.StoreBudget, bool, error) {
	var errs usererr.List
	validateStore(&errs, r.StoreID, r.Points, r.Reason, r.IdempotencyKey)
	if err := errs.Err(); err != nil {
		return nil, false, err
	}
	r.StoreID = PartnerFunding(r.StoreID)
	return l.fund(ctx, r)
}

func (l *Ledger) fund(ctx context.Context, r FundRequest) (*ent.StoreBudget, bool, error) {
	v, _ := auth.FromContext(ctx)
	hash := Hash(r)
	var budget *ent.StoreBudget
	replayed := false
	err := l.WithTx(ctx, func(tx *ent.Tx) error {
		replayed = false
		b, err := l.lockBudget(ctx, tx, v.ProgramID, r.StoreID)
		if err != nil {
			return err
		}
		prev, err := tx.StoreFunding.Query().Where(storefunding.ProgramID(v.ProgramID), storefunding.Key(r.IdempotencyKey)).Only(ctx)
		switch {
		case err == nil && prev.BodyHash != hash:
			return usererr.New(usererr.Conflict, "input.idempotencyKey", "idempotencyKey %q was used for a different request", r.IdempotencyKey)
		case err == nil:
			budget, replayed = b, true
			return nil
		case !ent.IsNotFound(err):
			return err
		}
		err = tx.StoreFunding.Create().SetProgramID(v.ProgramID).SetStoreID(r.StoreID).SetPoints(r.Points).
			SetReason(r.Reason).SetKey(r.IdempotencyKey).SetBodyHash(hash).SetActor(orDefault(v.Subject, string(v.Role))).
			SetCreatedAt(l.clock.Now()).Exec(ctx)
		if ent.IsConstraintError(err) {
			return usererr.New(usererr.Conflict, "input.idempotencyKey", "idempotencyKey %q was used for a different request", r.IdempotencyKey)
		}
		if err != nil {
			return err
		}
		if err := checkBalance("input.points", b.Funded, r.Points); err != nil {
			return err
		}
		budget, err = tx.StoreBudget.UpdateOne(b).AddFunded(r.Points).Save(ctx)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return budget.Unwrap(), replayed, nil
}

// lockBudget returns the store's budget row, locked, creating it on first use.
func (l *Ledger) lockBudget(ctx context.Context, tx *ent.Tx, programID int, storeID string) (*ent.StoreBudget, error) {
	get := func() (*ent.StoreBudget, error) {
		q := tx.StoreBudget.Query().Where(storebudget.ProgramID(programID), storebudget.StoreID(storeID))
		if l.dialect == dialect.MySQL {
			q.ForUpdate()
		}
		return q.Only(ctx)
	}
	b, err := get()
	if ent.IsNotFound(err) {
		cerr := tx.StoreBudget.Create().SetProgramID(programID).SetStoreID(storeID).Exec(ctx)
		if cerr != nil && !ent.IsConstraintError(cerr) {
			return nil, cerr
		}
		b, err = get()
	}
	return b, err
}

// StoreGrantRequest grants a member points from a store's budget.
type StoreGrantRequest struct {
	StoreID        string
	ExternalID     string
	Points         int64
	Reason         string
	IdempotencyKey string
}

// GrantFromStore credits a member from a store's budget; a grant beyond what remains is
// refused. The member's account is locked before the budget, always in that order.
func (l *Ledger) GrantFromStore(ctx context.Context, r StoreGrantRequest) (Result, error) {
	return l.GrantFromBudget(ctx, r, r.StoreID, nil)
}

// GrantFromBudget credits a member from the budget kept under owner (a store's own id, or
// a union's shared budget), the entry naming r.StoreID as its funder. admit, when not nil,
// runs under the member's lock before the budget is touched and may refuse
// (internal/storeprog's consent); its refusal is kept under the key like any decided refusal.
func (l *Ledger) GrantFromBudget(ctx context.Context, r StoreGrantRequest, owner string, admit func(b *Book) error) (Result, error) {
	var errs usererr.List
	validateStore(&errs, r.StoreID, r.Points, r.Reason, r.IdempotencyKey)
	grant := l.fromBudget(ctx, owner, r.Points, Grant{
		Kind: pointentry.KindSTORE_GRANT, Amount: r.Points, Funding: FundingOf(r.StoreID),
		Description: fmt.Sprintf("From store %s: %s", r.StoreID, r.Reason), requestKey: r.IdempotencyKey}, nil)
	if admit == nil {
		return l.change(ctx, errs, r.ExternalID, r.IdempotencyKey, r, grant)
	}
	return l.change(ctx, errs, r.ExternalID, r.IdempotencyKey, r, func(b *Book) (*ent.PointEntry, error) {
		if err := admit(b); err != nil {
			return nil, err
		}
		return grant(b)
	})
}

// AwardFromPartner credits a member from a partner's budget (r.StoreID names the partner):
// a partner plugin's award through the host callback. Never beyond the budget; once per
// idempotency key. budgetLeft, when not nil, receives what remains.
func (l *Ledger) AwardFromPartner(ctx context.Context, r StoreGrantRequest, budgetLeft *int64) (Result, error) {
	var errs usererr.List
	validateStore(&errs, r.StoreID, r.Points, r.Reason, r.IdempotencyKey)
	return l.change(ctx, errs, r.ExternalID, r.IdempotencyKey, r, l.fromBudget(ctx, PartnerFunding(r.StoreID), r.Points, Grant{
		Kind: pointentry.KindPARTNER_GRANT, Amount: r.Points, Funding: PartnerFunding(r.StoreID),
		Description: fmt.Sprintf("From %s: %s", r.StoreID, r.Reason), requestKey: r.IdempotencyKey}, budgetLeft))
}

// fromBudget is the write of a grant from a budget: lock it, refuse what exceeds it, count
// it, credit the member.
func (l *Ledger) fromBudget(ctx context.Context, owner string, points int64, g Grant, budgetLeft *int64) func(b *Book) (*ent.PointEntry, error) {
	return func(b *Book) (*ent.PointEntry, error) {
		budget, err := l.lockBudget(ctx, b.Tx, b.Program.ID, owner)
		if err != nil {
			return nil, err
		}
		left := budget.Funded - budget.Granted
		if points > left {
			return nil, usererr.New(usererr.FailedPrecondition, "input.points", "%s has %d points left in its budget", owner, left)
		}
		if err := b.Tx.StoreBudget.UpdateOne(budget).AddGranted(points).Exec(ctx); err != nil {
			return nil, err
		}
		if budgetLeft != nil {
			*budgetLeft = left - points
		}
		return b.Credit(ctx, g, b.Now, nil)
	}
}

// StoreBudget returns a store's budget as the viewer may see it; nil when there is none.
func (l *Ledger) StoreBudget(ctx context.Context, storeID string) (*ent.StoreBudget, error) {
	v, _ := auth.FromContext(ctx)
	b, err := l.client.StoreBudget.Query().Where(storebudget.ProgramID(v.ProgramID), storebudget.StoreID(storeID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return b, err
}

package points

import (
	"context"
	"slices"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/internal/rules"
)

// The pure half of the ledger for set-based ingestion (internal/events): a member's live
// lots and debt are loaded once for a batch slice, every earning and taking is decided here
// in memory, and the caller writes the result with multi-row statements. The rules are the
// ones Book applies one statement at a time: an earning pays debt from its own lot first; a
// taking empties the lots that expire first, a refund's own line before the others, and
// what the lots cannot cover becomes debt.

// LiveLot is a lot a batch can take from: a stored one or one the batch creates (Created;
// its ID is set once written, Seq orders it after every stored lot of the same expiry).
type LiveLot struct {
	ID          int
	Created     bool
	Seq         int
	OrderID     string
	SKU         string
	Remaining   int64
	ExpiresAt   time.Time
	AvailableAt time.Time
	// Loaded is what a stored lot held when read: the write sets Remaining only where it moved.
	Loaded int64
}

// Wallet is one member's points as a batch slice decides them: the account's total and
// debt and its live lots, soonest to expire first.
type Wallet struct {
	AccountID   int
	Total, Debt int64
	Lots        []*LiveLot
	// LoadedTotal and LoadedDebt are the account as read, to write only what moved.
	LoadedTotal, LoadedDebt int64
}

// Credited is an earning decided in memory: its entry's dates, the lot it opens and the
// debt it pays from that lot.
type Credited struct {
	Grant       Grant
	ExpiresAt   time.Time
	AvailableAt time.Time
	Lot         *LiveLot
	Paid        int64
}

// PlanCredit decides an earning of g at earnedAt, written at now: the same dates and debt
// repayment as Book.Credit. It moves w and returns the credited lot, appended to w.Lots.
func PlanCredit(w *Wallet, r rules.Rules, loc *time.Location, now, earnedAt time.Time, g Grant, seq int) Credited {
	expires, available := earningDates(r, loc, now, earnedAt, g)
	paid := min(w.Debt, g.Amount)
	lot := &LiveLot{Created: true, Seq: seq, OrderID: g.OrderID, SKU: g.SKU, Remaining: g.Amount - paid, ExpiresAt: expires, AvailableAt: available}
	w.insertLot(lot)
	w.Debt -= paid
	w.Total += g.Amount
	return Credited{Grant: g, ExpiresAt: expires, AvailableAt: available, Lot: lot, Paid: paid}
}

// insertLot keeps w.Lots in the order Book.liveLots reads them: expiry, then stored before
// new (a new lot's id is higher), then creation order.
func (w *Wallet) insertLot(l *LiveLot) {
	i, _ := slices.BinarySearchFunc(w.Lots, l, func(a, b *LiveLot) int {
		if c := a.ExpiresAt.Compare(b.ExpiresAt); c != 0 {
			return c
		}
		if a.Created != b.Created {
			if b.Created {
				return -1
			}
			return 1
		}
		if !a.Created {
			return a.ID - b.ID
		}
		return a.Seq - b.Seq
	})
	// Equal keys do not occur (ids and sequence numbers are unique), so i is the place.
	w.Lots = slices.Insert(w.Lots, i, l)
}

// Taken is how much of one lot a taking consumed.
type Taken struct {
	Lot    *LiveLot
	Amount int64
}

// PlanTake decides a taking of amount points at now, as Book.Take without SpendableOnly
// (a refund): the lots of first (if given) before the others, then by expiry; what the
// lots cannot cover becomes debt. It moves w and returns the lots taken from and the debt.
func PlanTake(w *Wallet, now time.Time, amount int64, first *OrderLine) ([]Taken, int64) {
	var live []*LiveLot
	for _, l := range w.Lots {
		if l.Remaining > 0 && l.ExpiresAt.After(now) {
			live = append(live, l)
		}
	}
	var taken []Taken
	left := amount
	for _, l := range firstFrom(live, first, func(l *LiveLot) OrderLine { return OrderLine{l.OrderID, l.SKU} }) {
		if left == 0 {
			break
		}
		n := min(l.Remaining, left)
		l.Remaining -= n
		left -= n
		taken = append(taken, Taken{Lot: l, Amount: n})
	}
	w.Total -= amount
	w.Debt += left
	return taken, left
}

// WalletOf builds a wallet from a locked account and its live lots (in liveLots order).
func WalletOf(acct *ent.PointAccount, lots []*ent.PointLot) *Wallet {
	w := &Wallet{AccountID: acct.ID, Total: acct.Total, Debt: acct.Debt, LoadedTotal: acct.Total, LoadedDebt: acct.Debt}
	for _, l := range lots {
		w.Lots = append(w.Lots, &LiveLot{ID: l.ID, OrderID: l.OrderID, SKU: l.Sku, Remaining: l.Remaining, Loaded: l.Remaining,
			ExpiresAt: l.ExpiresAt, AvailableAt: l.AvailableAt})
	}
	return w
}

// Clip keeps a description within the entry column's 256 bytes.
func Clip(s string) string { return clip(s) }

// IsMobile: the channels the earning rules count as mobile (the app and the mini-program).
func IsMobile(channel string) bool { return isMobile(channel) }

// Moved tells the ledger's observer of an entry a batch committed; call it after the commit.
func (l *Ledger) Moved(kind pointentry.Kind, funding string, amount int64) {
	if l.obs != nil {
		l.obs.PointsMoved(kind, funding, amount)
	}
}

// PlusSet answers whether members are PLUS at given instants, from state loaded once.
type PlusSet func(memberID int, at time.Time) bool

// PlusLoader is a PlusChecker that can also load the terms of many members in one statement
// inside a transaction, for set-based ingestion.
type PlusLoader interface {
	LoadActive(ctx context.Context, tx *ent.Tx, memberIDs []int, from time.Time) (PlusSet, error)
}

// LoadPlus returns who of memberIDs is PLUS when, for instants from on: one statement when
// the ledger's checker is a PlusLoader, none when no member can be PLUS, otherwise one
// question per (member, instant) asked now, answered later from memory.
func (l *Ledger) LoadPlus(ctx context.Context, tx *ent.Tx, memberIDs []int, from time.Time, asks map[int][]time.Time) (PlusSet, error) {
	switch c := l.plus.(type) {
	case noPlus:
		return func(int, time.Time) bool { return false }, nil
	case PlusLoader:
		return c.LoadActive(ctx, tx, memberIDs, from)
	}
	type ask struct {
		member int
		at     time.Time
	}
	known := map[ask]bool{}
	for id, ats := range asks {
		for _, at := range ats {
			ok, err := l.plus.Active(ent.NewTxContext(ctx, tx), id, at)
			if err != nil {
				return nil, err
			}
			known[ask{id, at.UTC()}] = ok
		}
	}
	return func(id int, at time.Time) bool { return known[ask{id, at.UTC()}] }, nil
}

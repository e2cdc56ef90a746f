package points

import (
	"context"
	"fmt"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/pointaccount"
	"github.com/membergraph/membergraph/ent/pointallocation"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/ent/pointlot"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/rules"
)

// PlusChecker tells whether a member holds an active PLUS membership; the PLUS issue
// provides it. Until then no member is PLUS.
type PlusChecker interface {
	Active(ctx context.Context, memberID int, at time.Time) (bool, error)
}

type noPlus struct{}

func (noPlus) Active(context.Context, int, time.Time) (bool, error) { return false, nil }

// Ledger keeps the points ledger. Every change of a member's points runs in a transaction
// that first locks the member's account row, so changes of one member are serial and
// changes of different members never lock each other.
type Ledger struct {
	client  *ent.Client
	dialect string
	clock   clock.Clock
	plus    PlusChecker
	obs     Observer
	// beforeRefusal, when set (by tests), runs between a refusal's decision and its record:
	// where a request under the same key can win the key.
	beforeRefusal func()
	// spends queues one member's spends behind its running group (spendgroup.go).
	spends *spendGroups
}

// Observer hears of the entries each committed transaction wrote, for operations metrics:
// the entry's kind, its funder and its signed amount. It is called after the commit, never
// for a change rolled back, and must be quick; it must not call back into the ledger.
type Observer interface {
	PointsMoved(kind pointentry.Kind, funding string, amount int64)
}

// SetObserver makes o hear of every committed entry; call it before the ledger is used.
func (l *Ledger) SetObserver(o Observer) { l.obs = o }

// NewLedger returns a ledger; plus may be nil.
func NewLedger(client *ent.Client, dialectName string, c clock.Clock, plus PlusChecker) *Ledger {
	if plus == nil {
		plus = noPlus{}
	}
	return &Ledger{client: client, dialect: dialectName, clock: c, plus: plus, spends: &spendGroups{queues: map[groupKey]*spendQueue{}}}
}

// PlusActive reports whether the member is PLUS at t, by the ledger's checker: benefits
// outside a points transaction ask the same question the earning rules do.
func (l *Ledger) PlusActive(ctx context.Context, memberID int, t time.Time) (bool, error) {
	return l.plus.Active(ctx, memberID, t)
}

// Dialect is the database dialect the ledger writes to.
func (l *Ledger) Dialect() string { return l.dialect }

// Clock is the ledger's clock.
func (l *Ledger) Clock() clock.Clock { return l.clock }

// Book is one member's points inside a transaction holding the account lock.
type Book struct {
	Tx      *ent.Tx
	Account *ent.PointAccount
	Program *ent.Program
	Loc     *time.Location
	Now     time.Time
	plus    PlusChecker
	obs     Observer
	moved   []movement       // the entries written, told obs once the transaction commits
	told    []outbox.Message // the entries written, told the outbox just before the commit
	// spendable, when not nil, are the member's spendable lots as this transaction has left
	// them, soonest to expire first: a spend reads them once for its check, its taking and
	// the balance it answers (three reads under the member's lock before). Only a spend's
	// Take keeps them true as it consumes; every other write of lots drops them.
	spendable []*ent.PointLot
}

// PointsChange is the change of a points.changed outbox message: one ledger entry.
type PointsChange struct {
	Kind    pointentry.Kind `json:"kind"`
	Amount  int64           `json:"amount"`
	Funding string          `json:"funding"`
}

type movement struct {
	kind    pointentry.Kind
	funding string
	amount  int64
}

// note records an entry for the observer and the outbox; the first one arranges the
// report on commit, and the outbox's messages written in the transaction, in one statement,
// as it commits.
func (b *Book) note(kind pointentry.Kind, funding string, amount int64) {
	if b.told == nil {
		outbox.OnCommit(b.Tx, func() []outbox.Message { return b.told })
	}
	b.told = append(b.told, outbox.Message{ProgramID: b.Account.ProgramID, MemberID: b.Account.MemberID,
		Type: outbox.PointsChanged, Data: PointsChange{kind, amount, funding}, At: b.Now})
	if b.obs == nil {
		return
	}
	if b.moved == nil {
		b.Tx.OnCommit(func(next ent.Committer) ent.Committer {
			return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
				if err := next.Commit(ctx, tx); err != nil {
					return err
				}
				for _, m := range b.moved {
					b.obs.PointsMoved(m.kind, m.funding, m.amount)
				}
				return nil
			})
		})
	}
	b.moved = append(b.moved, movement{kind, funding, amount})
}

// Rules are the programme's rules.
func (b *Book) Rules() rules.Rules { return b.Program.Rules }

// PlusActive reports whether the member is PLUS at t.
func (b *Book) PlusActive(ctx context.Context, t time.Time) (bool, error) {
	// Through the book's transaction: another connection could wait behind this one.
	return b.plus.Active(ent.NewTxContext(ctx, b.Tx), b.Account.MemberID, t)
}

// Open locks the member's account and returns its book. prog is the member's programme,
// read by the caller once for many books. Every member gets its account at registration.
func (l *Ledger) Open(ctx context.Context, tx *ent.Tx, prog *ent.Program, memberID int) (*Book, error) {
	q := tx.PointAccount.Query().Where(pointaccount.MemberID(memberID))
	if l.dialect == dialect.MySQL {
		// SQLite has no row locks; its transactions take the database write lock up front.
		q.ForUpdate()
	}
	acct, err := q.Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("points account of member %d: %w", memberID, err)
	}
	loc, err := Location(prog.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("programme %s: %w", prog.Key, err)
	}
	return &Book{Tx: tx, Account: acct, Program: prog, Loc: loc, Now: l.clock.Now(), plus: l.plus, obs: l.obs}, nil
}

var zones sync.Map // name → *time.Location; loading parses the zone database each time

// Location returns the time zone name, loaded once.
func Location(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// ExpiresAt is when points earned at t lapse: the end of 31 December of year N+years in
// loc, i.e. the first instant of 1 January of year N+years+1 (docs/domain.md §3 "Expiry").
func ExpiresAt(t time.Time, loc *time.Location, years int) time.Time {
	return time.Date(t.In(loc).Year()+years+1, 1, 1, 0, 0, 0, 0, loc).UTC()
}

// Credit writes one earning, an entry and a lot from which any debt is paid first, and
// returns the entry. A credit that would take the ledger's sum beyond amount.MaxBalance is
// refused at input.points and writes nothing.
func (b *Book) Credit(ctx context.Context, g Grant, earnedAt time.Time, eventID *int) (*ent.PointEntry, error) {
	if err := checkBalance("input.points", b.Account.Total, g.Amount); err != nil {
		return nil, err
	}
	entry, lot, paid := b.earning(g, earnedAt, eventID, b.Account.Debt)
	b.spendable = nil
	e, err := entry.Save(ctx)
	if err != nil {
		return nil, err
	}
	if err := lot.Exec(ctx); err != nil {
		return nil, err
	}
	return e, b.move(ctx, g.Amount, -paid)
}

// earning builds the entry and the lot of one grant, the lot less what it pays of debt.
func (b *Book) earning(g Grant, earnedAt time.Time, eventID *int, debt int64) (*ent.PointEntryCreate, *ent.PointLotCreate, int64) {
	expires, available := earningDates(b.Rules(), b.Loc, b.Now, earnedAt, g)
	paid := min(debt, g.Amount)
	b.note(g.Kind, g.Funding, g.Amount)
	entry := b.Tx.PointEntry.Create().SetProgramID(b.Account.ProgramID).SetMemberID(b.Account.MemberID).
		SetAmount(g.Amount).SetKind(g.Kind).SetFunding(g.Funding).SetDescription(clip(g.Description)).
		SetNillableEventID(eventID).SetRequestKey(g.requestKey).SetOrderID(g.OrderID).SetSku(g.SKU).
		SetCreatedAt(b.Now).SetExpiresAt(expires).SetAvailableAt(available)
	lot := b.Tx.PointLot.Create().SetProgramID(b.Account.ProgramID).SetMemberID(b.Account.MemberID).
		SetOrderID(g.OrderID).SetSku(g.SKU).SetRemaining(g.Amount - paid).SetExpiresAt(expires).SetAvailableAt(available).
		SetFunding(g.Funding)
	return entry, lot, paid
}

// earningDates are when an earning of g at earnedAt, written at now, lapses and becomes
// spendable: an order's points wait out the pending period.
func earningDates(r rules.Rules, loc *time.Location, now, earnedAt time.Time, g Grant) (expires, available time.Time) {
	expires, available = ExpiresAt(earnedAt, loc, r.Expiry.YearsAfterEarning), now
	if g.FromOrder && r.Earning.PendingDays > 0 {
		available = now.AddDate(0, 0, r.Earning.PendingDays)
	}
	return expires, available
}

// Debit is a taking of points from the lots.
type Debit struct {
	Kind        pointentry.Kind
	Amount      int64 // positive: how many points to take
	Funding     string
	Description string
	EventID     *int
	RequestKey  string
	OrderID     string
	SKU         string
	// SpendableOnly takes only from lots available now (a spend); otherwise pending lots
	// count too and a shortfall becomes debt (a refund).
	SpendableOnly bool
	// FirstFrom names an order line whose lots are taken from before the others: a refund
	// takes back its own points first.
	FirstFrom *OrderLine
}

// Take writes a debit: an entry of -Amount, taken from the lots that expire first, with the
// allocations recorded. It returns the entry and the part that became debt.
func (b *Book) Take(ctx context.Context, d Debit) (*ent.PointEntry, int64, error) {
	var lots []*ent.PointLot
	if d.SpendableOnly {
		// The spendable lots themselves: consume keeps each one's remainder true.
		if _, err := b.Spendable(ctx); err != nil {
			return nil, 0, err
		}
		lots = b.spendable
	} else {
		b.spendable = nil
		var err error
		if lots, err = b.liveLots(ctx, false); err != nil {
			return nil, 0, err
		}
	}
	lots = firstFrom(lots, d.FirstFrom, func(l *ent.PointLot) OrderLine { return OrderLine{l.OrderID, l.Sku} })
	e, err := b.Tx.PointEntry.Create().SetProgramID(b.Account.ProgramID).SetMemberID(b.Account.MemberID).
		SetAmount(-d.Amount).SetKind(d.Kind).SetFunding(d.Funding).SetDescription(clip(d.Description)).
		SetNillableEventID(d.EventID).SetRequestKey(d.RequestKey).SetOrderID(d.OrderID).SetSku(d.SKU).
		SetCreatedAt(b.Now).Save(ctx)
	if err != nil {
		return nil, 0, err
	}
	b.note(d.Kind, d.Funding, -d.Amount)
	left := d.Amount
	for _, lot := range lots {
		if left == 0 {
			break
		}
		n := min(lot.Remaining, left)
		if err := b.consume(ctx, lot, e.ID, n); err != nil {
			return nil, 0, err
		}
		left -= n
	}
	if left > 0 && d.SpendableOnly {
		return nil, 0, fmt.Errorf("points: taking %d of %d spendable points", d.Amount, d.Amount-left) // callers check first
	}
	return e, left, b.move(ctx, -d.Amount, left)
}

func (b *Book) consume(ctx context.Context, lot *ent.PointLot, entryID int, n int64) error {
	if err := b.addRemaining(ctx, lot.ID, -n); err != nil {
		return err
	}
	lot.Remaining -= n
	return b.Tx.PointAllocation.Create().SetProgramID(b.Account.ProgramID).SetMemberID(b.Account.MemberID).
		SetEntryID(entryID).SetLotID(lot.ID).SetAmount(n).Exec(ctx)
}

// Restore gives back to their lots what entry took: the reversal of a spend.
func (b *Book) Restore(ctx context.Context, spend *ent.PointEntry, description, requestKey string) (*ent.PointEntry, error) {
	allocs, err := b.Tx.PointAllocation.Query().Where(pointallocation.EntryID(spend.ID)).All(ctx)
	if err != nil {
		return nil, err
	}
	e, err := b.Tx.PointEntry.Create().SetProgramID(b.Account.ProgramID).SetMemberID(b.Account.MemberID).
		SetAmount(-spend.Amount).SetKind(pointentry.KindSPEND_REVERSAL).SetFunding(spend.Funding).
		SetDescription(clip(description)).SetRequestKey(requestKey).SetOrderID(spend.OrderID).
		SetReversedEntryID(spend.ID).SetCreatedAt(b.Now).Save(ctx)
	if err != nil {
		return nil, err
	}
	b.note(pointentry.KindSPEND_REVERSAL, spend.Funding, -spend.Amount)
	b.spendable = nil
	for _, a := range allocs {
		if err := b.addRemaining(ctx, a.LotID, a.Amount); err != nil {
			return nil, err
		}
	}
	// Restored points that meet debt pay it, as any other incoming points do.
	return e, b.payDebtFrom(ctx, -spend.Amount)
}

// payDebtFrom lets incoming points that already sit in lots pay the debt, taking from the
// lots that expire first.
func (b *Book) payDebtFrom(ctx context.Context, incoming int64) error {
	pay := min(b.Account.Debt, incoming)
	if pay == 0 {
		return b.move(ctx, incoming, 0)
	}
	b.spendable = nil
	lots, err := b.liveLots(ctx, false)
	if err != nil {
		return err
	}
	left := pay
	for _, lot := range lots {
		n := min(lot.Remaining, left)
		if n == 0 {
			continue
		}
		if err := b.addRemaining(ctx, lot.ID, -n); err != nil {
			return err
		}
		left -= n
	}
	return b.move(ctx, incoming, -(pay - left))
}

// move applies a change of the ledger total and of the debt to the account row.
func (b *Book) move(ctx context.Context, total, debt int64) error {
	if total == 0 && debt == 0 {
		return nil
	}
	// An UPDATE by predicate, not UpdateOne: UpdateOne reads the row back, even through
	// Exec, a statement more in every transaction under the member's lock, and the lock
	// held since Open means nobody else has moved it.
	n, err := b.Tx.PointAccount.Update().Where(pointaccount.ID(b.Account.ID)).AddTotal(total).AddDebt(debt).Save(ctx)
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("points: account %d of member %d not updated", b.Account.ID, b.Account.MemberID)
	}
	b.Account.Total += total
	b.Account.Debt += debt
	return nil
}

// addRemaining adds n to a lot's remainder without reading the row back (UpdateOne would):
// the member's lock, held since Open, keeps the lot's row ours.
func (b *Book) addRemaining(ctx context.Context, lotID int, n int64) error {
	got, err := b.Tx.PointLot.Update().Where(pointlot.ID(lotID)).AddRemaining(n).Save(ctx)
	if err != nil {
		return err
	}
	if got != 1 {
		return fmt.Errorf("points: lot %d of member %d not updated", lotID, b.Account.MemberID)
	}
	return nil
}

// liveLots are the member's lots with points left that have not expired, the soonest to
// expire first.
func (b *Book) liveLots(ctx context.Context, spendableOnly bool) ([]*ent.PointLot, error) {
	q := b.Tx.PointLot.Query().Where(pointlot.MemberID(b.Account.MemberID), pointlot.RemainingGT(0), pointlot.ExpiresAtGT(b.Now))
	if spendableOnly {
		q.Where(pointlot.AvailableAtLTE(b.Now))
	}
	return q.Order(ent.Asc(pointlot.FieldExpiresAt), ent.Asc(pointlot.FieldID)).All(ctx)
}

// Spendable is what the member may spend now: available lots less debt.
func (b *Book) Spendable(ctx context.Context) (int64, error) {
	if b.spendable == nil {
		lots, err := b.liveLots(ctx, true)
		if err != nil {
			return 0, err
		}
		b.spendable = append(make([]*ent.PointLot, 0, len(lots)), lots...) // not nil: read
	}
	var n int64
	for _, l := range b.spendable {
		n += l.Remaining
	}
	return n - b.Account.Debt, nil
}

// OrderLine names one line of an order.
type OrderLine struct{ OrderID, SKU string }

// firstFrom moves the lots of line to the front, keeping the order otherwise; lineOf names
// a lot's order line (stored lots and a batch's live ones alike).
func firstFrom[L any](lots []L, line *OrderLine, lineOf func(L) OrderLine) []L {
	if line == nil {
		return lots
	}
	of := func(l L) bool { return lineOf(l) == *line }
	out := make([]L, 0, len(lots))
	for _, l := range lots {
		if of(l) {
			out = append(out, l)
		}
	}
	for _, l := range lots {
		if !of(l) {
			out = append(out, l)
		}
	}
	return out
}

// clip keeps a description within the column's 256 bytes without splitting a character.
func clip(s string) string {
	if len(s) <= 256 {
		return s
	}
	r := []rune(s)
	for len(string(r)) > 253 {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

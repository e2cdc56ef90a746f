package points

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/ent/pointlot"
	"github.com/membergraph/membergraph/ent/pointrequest"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Group commit of one member's spends (issue 14, the hot member). A member's changes are
// serial: each holds the account's row lock through its commit, so one member cannot pass
// about one change per lock-holding time. When spends of the same member meet in this
// process, they share one transaction: the first one (the leader) begins it and waits for
// the account's lock; once it holds it, it takes every spend of the member queued meanwhile
// (up to MaxSpendGroup, itself first) and carries them out together: the keys and lots read
// once, each spend decided in order in memory by the same rule as alone (decideSpend,
// PlanTake), the entries, allocations, lots, account, keys and outbox messages written with
// one statement each, one commit; each caller is answered after it. The spends that arrive
// after the leader took its group queue behind the next leader, which already waits for the
// lock: while earns or another process hold the member, its spends gather into one group
// instead of queueing on the lock one by one.
//
// A refused spend writes nothing of itself but its refusal under its key, in the same
// transaction: decided and recorded under the member's lock, so no other outcome of the key
// can come between. Other processes and every other change of the member (earns,
// adjustments, reversals) still meet the spends on the account's row lock, as before.
//
// A group that fails (a lock conflict WithTx could not clear, a key another member's request
// took meanwhile, a lost connection) falls back to its spends one by one through once,
// which reads each key first: a spend the group did commit is answered as its replay, none
// is applied twice.

// MaxSpendGroup bounds how many spends one group carries: the rows of its multi-row
// statements (one entry, one key and a few allocations each) stay small, and a caller
// waits behind at most one group of others once its leader holds the lock.
const MaxSpendGroup = 64

// allocationChunk bounds the rows of one allocations INSERT and one lots UPDATE: a spend
// over many small lots takes one allocation per lot, and every database bounds the
// placeholders of one statement. Below it (every spend in practice) a group's statements
// do not grow with its size.
const allocationChunk = 1000

// spendGroups holds, per member, the spends waiting for their member's next group.
type spendGroups struct {
	mu     sync.Mutex
	queues map[groupKey]*spendQueue // present while the member has a leader
	// beforeGroup, when set (by tests), runs when a leader holds the lock, before it takes
	// the waiting spends: the others can queue meanwhile.
	beforeGroup func()
	// beforeWrite, when set (by tests), runs between a group's decisions and its writes:
	// where a request outside the group can take one of its keys.
	beforeWrite func()
}

// groupKey: a group runs under one viewer (the privacy rules see it) on one member.
type groupKey struct {
	viewer auth.Viewer
	member int
}

// spendQueue is one member's waiting spends, its leader's first.
type spendQueue struct{ waiting []*spendOp }

// spendOp is one caller's spend on its way through a group.
type spendOp struct {
	ctx  context.Context
	req  SpendRequest
	hash string
	wake chan struct{} // made the leader, or answered: a signal each, never both
	// Under spendGroups.mu: leading (this caller runs the next group), taken (in a group).
	leading, taken bool
	res            Result
	err            error
}

// spendGrouped queues a spend for its member's next group, leading it when no one does,
// and returns the spend's own answer once its group committed.
func (l *Ledger) spendGrouped(ctx context.Context, memberID int, r SpendRequest, hash string) (Result, error) {
	v, _ := auth.FromContext(ctx)
	k := groupKey{v, memberID}
	op := &spendOp{ctx: ctx, req: r, hash: hash, wake: make(chan struct{}, 1)}
	g := l.spends
	g.mu.Lock()
	q, led := g.queues[k]
	if !led {
		q = &spendQueue{}
		g.queues[k] = q
		op.leading = true
	}
	q.waiting = append(q.waiting, op)
	g.mu.Unlock()
	if led {
		select {
		case <-op.wake:
		case <-ctx.Done():
			g.mu.Lock()
			if !op.leading && !op.taken {
				// Not yet in a group: it leaves the queue and nothing of it happens.
				q.waiting = slices.DeleteFunc(q.waiting, func(o *spendOp) bool { return o == op })
				g.mu.Unlock()
				return Result{}, ctx.Err()
			}
			g.mu.Unlock()
			<-op.wake // in a group already, or made the leader: its answer comes
		}
		g.mu.Lock()
		led = !op.leading || op.taken
		g.mu.Unlock()
	}
	if !led {
		l.leadSpends(k, q, op)
	}
	return op.res, op.err
}

// leadSpends runs one group of k's member, self first, and answers its spends.
func (l *Ledger) leadSpends(k groupKey, q *spendQueue, self *spendOp) {
	ctx, cancel := groupContext(self.ctx)
	defer cancel()
	var ops []*spendOp // taken once the lock is held, kept by the retries
	take := func() {
		if ops == nil {
			ops = l.takeGroup(k, q, self)
		}
	}
	defer func() {
		// A panic must not leave the others waiting, nor the member without a leader for good.
		if p := recover(); p != nil {
			take()
			for _, op := range ops {
				if op != self {
					op.res, op.err = Result{}, fmt.Errorf("points: the spend group of member %d failed: %v", k.member, p)
					op.wake <- struct{}{}
				}
			}
			panic(p)
		}
	}()
	prog, err := l.client.Program.Get(ctx, k.viewer.ProgramID)
	if err == nil {
		err = l.WithTx(ctx, func(tx *ent.Tx) error {
			b, err := l.Open(ctx, tx, prog, k.member)
			if err != nil {
				return err
			}
			if l.spends.beforeGroup != nil {
				l.spends.beforeGroup()
			}
			take()
			asks := make([]spendAsk, len(ops))
			for i, op := range ops {
				asks[i] = spendAsk{Req: op.req, Hash: op.hash}
			}
			answers, err := l.spendTx(ctx, b, asks)
			if err != nil {
				return err
			}
			for i, op := range ops {
				op.res, op.err = answers[i].Result, answers[i].Err
			}
			return nil
		})
	}
	take() // a leader that never held the lock still answers its group
	if err != nil {
		l.spendsFailed(k, ops, err)
	}
	for _, op := range ops {
		if op != self {
			op.wake <- struct{}{}
		}
	}
}

// takeGroup takes the member's waiting spends (self among them) as a group, answering
// those whose callers left, and passes the queue on: to the first spend left waiting, made
// the next leader, or else to the next spend to arrive.
func (l *Ledger) takeGroup(k groupKey, q *spendQueue, self *spendOp) []*spendOp {
	g := l.spends
	g.mu.Lock()
	n := min(len(q.waiting), MaxSpendGroup)
	group := slices.Clone(q.waiting[:n])
	q.waiting = slices.Clone(q.waiting[n:])
	for _, op := range group {
		op.taken = true
	}
	var next *spendOp
	if len(q.waiting) > 0 {
		next = q.waiting[0]
		next.leading = true
	} else {
		delete(g.queues, k)
	}
	g.mu.Unlock()
	if next != nil {
		next.wake <- struct{}{}
	}
	ops := make([]*spendOp, 0, len(group))
	for _, op := range group {
		if err := op.ctx.Err(); err != nil && op != self {
			op.err = err // its caller left before the group began: nothing of it happens
			op.wake <- struct{}{}
			continue
		}
		ops = append(ops, op)
	}
	return ops
}

// errGroupKeyTaken: a key of the group was stored by a request outside it meanwhile.
var errGroupKeyTaken = errors.New("points: a key of the spend group was taken meanwhile")

// spendsFailed answers the spends of a group that did not commit: a lone spend gets the
// fault; otherwise each spend whose caller still waits is carried out alone (once reads its
// key first, so one the group did commit after all is answered as a replay).
func (l *Ledger) spendsFailed(k groupKey, ops []*spendOp, err error) {
	if len(ops) == 1 && !errors.Is(err, errGroupKeyTaken) {
		ops[0].res, ops[0].err = Result{}, err
		return
	}
	for _, op := range ops {
		if op.ctx.Err() != nil {
			op.res, op.err = Result{}, err
			continue
		}
		op.res, op.err = l.spendOne(op.ctx, k.member, op.req, op.hash)
	}
}

// groupContext is the context a group's transaction runs in: the leader's values (its
// viewer) and deadline, not its cancellation: a leader's caller leaving must not undo the
// others' spends.
func groupContext(leader context.Context) (context.Context, context.CancelFunc) {
	ctx := context.WithoutCancel(leader)
	if dl, ok := leader.Deadline(); ok {
		return context.WithDeadline(ctx, dl)
	}
	return ctx, func() {}
}

// spendTx decides and writes a group inside the transaction of b, whose account is locked:
// load, decide (planSpends), write.
func (l *Ledger) spendTx(ctx context.Context, b *Book, asks []spendAsk) ([]spendAnswer, error) {
	tx, prog := b.Tx, b.Program
	keys := make([]string, 0, len(asks))
	for _, a := range asks {
		keys = append(keys, a.Req.IdempotencyKey)
	}
	prevs, err := tx.PointRequest.Query().Where(pointrequest.ProgramID(prog.ID), pointrequest.KeyIn(slices.Compact(slices.Sorted(slices.Values(keys)))...)).All(ctx)
	if err != nil {
		return nil, err
	}
	recorded := make(map[string]*ent.PointRequest, len(prevs))
	var entryIDs []int
	for _, p := range prevs {
		recorded[p.Key] = p
		if p.RefusalCode == "" && p.EntryID != 0 {
			entryIDs = append(entryIDs, p.EntryID)
		}
	}
	prevEntries := map[int]*ent.PointEntry{}
	if len(entryIDs) > 0 {
		es, err := tx.PointEntry.Query().Where(pointentry.IDIn(entryIDs...)).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			prevEntries[e.ID] = e
		}
	}
	if _, err := b.Spendable(ctx); err != nil {
		return nil, err
	}
	w := WalletOf(b.Account, b.spendable)
	plan := planSpends(b.Rules(), prog.PointsPerYuan, w, b.Now, asks, recorded)
	if l.spends.beforeWrite != nil {
		l.spends.beforeWrite()
	}
	entries, err := writeSpends(ctx, b, w, plan, asks)
	if err != nil {
		return nil, err
	}
	out := make([]spendAnswer, len(asks))
	for i, d := range plan.Decisions {
		a := &out[i]
		a.Err, a.Result.Balance, a.Result.Replayed = d.Err, d.Balance, d.Replayed
		switch {
		case d.Err != nil:
			a.Result = Result{}
		case d.Spend >= 0:
			a.Result.Entry = entries[d.Spend]
		default:
			if a.Result.Entry = prevEntries[d.PrevEntry]; a.Result.Entry == nil {
				return nil, errors.New("points: the entry of a replayed spend is missing")
			}
		}
	}
	return out, nil
}

// spendAsk is one spend of a group as the rules see it: the request and its body's hash.
type spendAsk struct {
	Req  SpendRequest
	Hash string
}

// spendAnswer is what one spend of a group answers once the group committed.
type spendAnswer struct {
	Result Result
	Err    error
}

// spendPlan is what a group decided: per ask, in order, and the spends it carries out.
type spendPlan struct {
	Decisions []spendDecision
	Spends    []plannedSpend
}

// spendDecision is the outcome of one ask.
type spendDecision struct {
	Err       error // a refusal (decided now or before) or a CONFLICT of its key
	Record    bool  // a new outcome of its key, to store: Spend's entry, or Err's refusal
	Spend     int   // the index in Spends of the spend it carries out (or replays), else -1
	PrevEntry int   // a replay of a spend stored before: its entry's id
	Replayed  bool
	Balance   int64 // spendable after it
}

// plannedSpend is a spend decided in memory: its entry and the lots it takes from.
type plannedSpend struct {
	Ask   int
	Kind  pointentry.Kind
	Desc  string
	Taken []Taken
}

// planSpends decides asks in order against the member's spendable lots in w (which it
// moves) and the keys' outcomes recorded before: the same answers as each spend alone, one
// after the other. A key seen earlier in the group is answered as a replay of that first
// outcome (or a CONFLICT for another body), as a key recorded before is.
func planSpends(r rules.Rules, pointsPerYuan int64, w *Wallet, now time.Time, asks []spendAsk, recorded map[string]*ent.PointRequest) spendPlan {
	var p spendPlan
	first := map[string]int{} // key → the first ask of the group that decided it
	for i, a := range asks {
		key := a.Req.IdempotencyKey
		d := spendDecision{Spend: -1}
		conflict := usererr.New(usererr.Conflict, "input.idempotencyKey", "idempotencyKey %q was used for a different request", key)
		if prev, ok := recorded[key]; ok {
			switch {
			case prev.BodyHash != a.Hash:
				d.Err = conflict
			case prev.RefusalCode != "":
				d.Err = usererr.New(usererr.Code(prev.RefusalCode), prev.RefusalField, "%s", prev.RefusalMessage)
			default:
				d.Replayed, d.PrevEntry = true, prev.EntryID
			}
		} else if j, ok := first[key]; ok {
			switch {
			case asks[j].Hash != a.Hash:
				d.Err = conflict
			case p.Decisions[j].Err != nil:
				d.Err = p.Decisions[j].Err
			default:
				d.Replayed, d.Spend = true, p.Decisions[j].Spend
			}
		} else {
			first[key] = i
			kind, desc, err := decideSpend(a.Req, r.Spending, pointsPerYuan, walletSpendable(w, now))
			if ue, ok := Decided(err); ok {
				ue.Message = clipTo(ue.Message, 1024) // as the replays will read it
				d.Err, d.Record = ue, true
			} else if err != nil {
				d.Err = err // not a decision (none today): answered, not kept
			} else {
				d.Record = true
				taken, _ := PlanTake(w, now, a.Req.Points, nil) // decideSpend checked the lots cover it
				d.Spend = len(p.Spends)
				p.Spends = append(p.Spends, plannedSpend{Ask: i, Kind: kind, Desc: desc, Taken: taken})
			}
		}
		d.Balance = walletSpendable(w, now)
		p.Decisions = append(p.Decisions, d)
	}
	return p
}

// walletSpendable is what w's lots (all spendable when loaded) hold now, less debt.
func walletSpendable(w *Wallet, now time.Time) int64 {
	var n int64
	for _, l := range w.Lots {
		if l.ExpiresAt.After(now) {
			n += l.Remaining
		}
	}
	return n - w.Debt
}

// writeSpends writes what plan carries out and keeps every new outcome under its key, each
// kind of row with one statement (allocations and lots per allocationChunk rows): the
// entries, the allocations, the lots' remainders, the account, the keys, and the outbox's
// points.changed messages as the transaction commits (Book.note). It returns the entries,
// in plan.Spends order.
func writeSpends(ctx context.Context, b *Book, w *Wallet, plan spendPlan, asks []spendAsk) ([]*ent.PointEntry, error) {
	tx, acct := b.Tx, b.Account
	var entries []*ent.PointEntry
	if len(plan.Spends) > 0 {
		creates := make([]*ent.PointEntryCreate, len(plan.Spends))
		var total int64
		for i, s := range plan.Spends {
			r := asks[s.Ask].Req
			creates[i] = tx.PointEntry.Create().SetProgramID(acct.ProgramID).SetMemberID(acct.MemberID).
				SetAmount(-r.Points).SetKind(s.Kind).SetFunding(FundPlatform).SetDescription(clip(s.Desc)).
				SetRequestKey(r.IdempotencyKey).SetOrderID(r.OrderID).SetSku("").SetCreatedAt(b.Now)
			total += r.Points
		}
		var err error
		if entries, err = tx.PointEntry.CreateBulk(creates...).Save(ctx); err != nil {
			return nil, err
		}
		var allocs []*ent.PointAllocationCreate
		for i, s := range plan.Spends {
			for _, t := range s.Taken {
				allocs = append(allocs, tx.PointAllocation.Create().SetProgramID(acct.ProgramID).SetMemberID(acct.MemberID).
					SetEntryID(entries[i].ID).SetLotID(t.Lot.ID).SetAmount(t.Amount))
			}
		}
		for part := range slices.Chunk(allocs, allocationChunk) {
			if err := tx.PointAllocation.CreateBulk(part...).Exec(ctx); err != nil {
				return nil, err
			}
		}
		var moved []*LiveLot
		for _, l := range w.Lots {
			if !l.Created && l.Remaining != l.Loaded {
				moved = append(moved, l)
			}
		}
		for part := range slices.Chunk(moved, allocationChunk) {
			if err := b.addRemainders(ctx, part); err != nil {
				return nil, err
			}
		}
		if err := b.move(ctx, -total, 0); err != nil {
			return nil, err
		}
		for i, s := range plan.Spends {
			b.note(s.Kind, FundPlatform, entries[i].Amount)
		}
	}
	var keys []*ent.PointRequestCreate
	for i, d := range plan.Decisions {
		if !d.Record {
			continue
		}
		c := tx.PointRequest.Create().SetProgramID(acct.ProgramID).SetMemberID(acct.MemberID).
			SetKey(asks[i].Req.IdempotencyKey).SetBodyHash(asks[i].Hash).SetCreatedAt(b.Now)
		if ue, ok := d.Err.(*usererr.Error); ok {
			c.SetRefusalCode(string(ue.Code)).SetRefusalField(strings.Join(ue.Field, ".")).SetRefusalMessage(ue.Message)
		} else {
			c.SetEntryID(entries[d.Spend].ID)
		}
		keys = append(keys, c)
	}
	if len(keys) > 0 {
		err := tx.PointRequest.CreateBulk(keys...).Exec(ctx)
		if ent.IsConstraintError(err) {
			return nil, errGroupKeyTaken
		}
		if err != nil {
			return nil, err
		}
	}
	return entries, nil
}

// addRemainders moves each of lots' remainders to what the plan left, in one UPDATE: the
// remainder plus its change (a CASE over the lot id), without reading the rows back; the
// member's lock, held since Open, keeps the lots ours.
func (b *Book) addRemainders(ctx context.Context, lots []*LiveLot) error {
	ids := make([]int, len(lots))
	for i, l := range lots {
		ids[i] = l.ID
	}
	n, err := b.Tx.PointLot.Update().Where(pointlot.IDIn(ids...)).Modify(func(u *sql.UpdateBuilder) {
		u.Set(pointlot.FieldRemaining, sql.ExprFunc(func(s *sql.Builder) {
			s.Ident(pointlot.FieldRemaining).WriteString(" + CASE ").Ident(pointlot.FieldID)
			for _, l := range lots {
				s.WriteString(" WHEN ").Arg(l.ID).WriteString(" THEN ").Arg(l.Remaining - l.Loaded)
			}
			s.WriteString(" END")
		}))
	}).Save(ctx)
	if err != nil {
		return err
	}
	if n != len(lots) {
		return fmt.Errorf("points: %d of %d lots of member %d updated", n, len(lots), b.Account.MemberID)
	}
	return nil
}

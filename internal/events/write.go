package events

import (
	"context"
	"encoding/json"
	"slices"

	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/pointaccount"
	"github.com/membergraph/membergraph/ent/pointlot"
	"github.com/membergraph/membergraph/internal/activity"
	"github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/points"
)

// write stores what decide decided, one multi-row statement per table (per chunk of rows):
// the events first, for the entries to name them; the entries and the new lots, for the
// allocations to name them; then the lots a refund took from, the accounts, the counters,
// the account facts and the medals.
func (st *state) write(ctx context.Context) error {
	tx, prog, chunk := st.tx, st.env.prog, st.svc.cfg.Chunk
	if err := saveChunks(ctx, st.events, chunk, func(part []*newEvent) error { return st.insertEvents(ctx, part) }); err != nil {
		return err
	}
	if err := saveChunks(ctx, st.entries, chunk, func(part []*newEntry) error { return st.insertEntries(ctx, part) }); err != nil {
		return err
	}
	var credits []*newEntry
	for _, e := range st.entries {
		if e.credit != nil {
			credits = append(credits, e)
		}
	}
	if err := saveChunks(ctx, credits, chunk, func(part []*newEntry) error { return st.insertLots(ctx, part) }); err != nil {
		return err
	}
	if err := saveChunks(ctx, st.takings, chunk, func(part []taking) error { return st.insertAllocations(ctx, part) }); err != nil {
		return err
	}
	if err := st.writeLotsAndAccounts(ctx); err != nil {
		return err
	}
	if err := activity.SaveMonths(ctx, tx, st.svc.ledger.Dialect(), prog.ID, st.months, chunk); err != nil {
		return err
	}
	if err := activity.SaveCategories(ctx, tx, st.svc.ledger.Dialect(), prog.ID, st.categories, chunk); err != nil {
		return err
	}
	if err := activity.SaveRisk(ctx, tx, prog.ID, st.risks); err != nil {
		return err
	}
	if len(st.verified) > 0 {
		if err := tx.Member.Update().Where(member.IDIn(st.verified...)).SetRealNameVerified(true).Exec(ctx); err != nil {
			return err
		}
	}
	if err := st.writeBound(ctx); err != nil {
		return err
	}
	if err := medal.SaveChanges(ctx, tx, st.svc.ledger.Dialect(), prog.ID, st.changes, st.env.benefits, st.now, chunk); err != nil {
		return err
	}
	return st.writeOutbox(ctx)
}

// writeOutbox tells the outbox of the slice's entries and medal levels, in the slice's
// transaction and one statement: what commits is told, what rolls back is not.
func (st *state) writeOutbox(ctx context.Context) error {
	prog := st.env.prog
	msgs := make([]outbox.Message, 0, len(st.entries)+len(st.changes))
	for _, e := range st.entries {
		msgs = append(msgs, outbox.Message{ProgramID: prog.ID, MemberID: e.event.job.memberID, Type: outbox.PointsChanged,
			Data: points.PointsChange{Kind: e.kind, Amount: e.amount, Funding: e.funding}, At: st.now})
	}
	msgs = append(msgs, medal.Messages(prog.ID, st.changes, st.now)...)
	return outbox.Write(ctx, st.tx, msgs)
}

// writeLotsAndAccounts sets the stored lots a refund took from and the accounts that moved
// to their values decided in memory, one statement each: the slice holds the accounts'
// locks, so nobody moved them since they were read.
func (st *state) writeLotsAndAccounts(ctx context.Context) error {
	var lotIDs []int
	var remaining []int64
	for _, w := range st.wallets {
		for _, l := range w.Lots {
			if !l.Created && l.Loaded != l.Remaining && !slices.Contains(lotIDs, l.ID) {
				lotIDs = append(lotIDs, l.ID)
				remaining = append(remaining, l.Remaining)
			}
		}
	}
	if err := st.setByKey(ctx, pointlot.Table, pointlot.FieldID, lotIDs, map[string][]any{pointlot.FieldRemaining: anys(remaining)}); err != nil {
		return err
	}
	var ids []int
	var totals, debts []any
	for _, m := range st.sl.members {
		w := st.wallets[m]
		if w != nil && (w.Total != w.LoadedTotal || w.Debt != w.LoadedDebt) {
			ids = append(ids, w.AccountID)
			totals, debts = append(totals, w.Total), append(debts, w.Debt)
		}
	}
	return st.setByKey(ctx, pointaccount.Table, pointaccount.FieldID, ids, map[string][]any{
		pointaccount.FieldTotal: totals, pointaccount.FieldDebt: debts})
}

// writeBound stores the bound accounts of the members an ACCOUNT_BOUND event bound.
func (st *state) writeBound(ctx context.Context) error {
	var ids []int
	var vals []any
	for _, m := range st.sl.members {
		if b, ok := st.bound[m]; ok {
			raw, err := json.Marshal(b)
			if err != nil {
				return err
			}
			ids, vals = append(ids, m), append(vals, string(raw))
		}
	}
	return st.setByKey(ctx, member.Table, member.FieldID, ids, map[string][]any{member.FieldBoundAccounts: vals})
}

// setByKey sets, in one UPDATE, each column of cols to its i-th value in the row whose key
// is keys[i] (a CASE over the key).
func (st *state) setByKey(ctx context.Context, table, key string, keys []int, cols map[string][]any) error {
	if len(keys) == 0 {
		return nil
	}
	u := sql.Dialect(st.svc.ledger.Dialect()).Update(table)
	names := make([]string, 0, len(cols))
	for c := range cols {
		names = append(names, c)
	}
	slices.Sort(names)
	for _, c := range names {
		vals := cols[c]
		u.Set(c, sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("CASE ").Ident(key)
			for i, k := range keys {
				b.WriteString(" WHEN ").Arg(k).WriteString(" THEN ").Arg(vals[i])
			}
			b.WriteString(" END")
		}))
	}
	u.Where(sql.InInts(key, keys...))
	query, args := u.Query()
	_, err := st.tx.ExecContext(ctx, query, args...)
	return err
}

// saveChunks calls save on consecutive parts of rows of at most chunk rows each.
func saveChunks[T any](ctx context.Context, rows []T, chunk int, save func([]T) error) error {
	for part := range slices.Chunk(rows, chunk) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := save(part); err != nil {
			return err
		}
	}
	return nil
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

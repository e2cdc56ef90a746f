package events

import (
	"context"
	"encoding/json"
	"fmt"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent/event"
	"github.com/membergraph/membergraph/ent/pointallocation"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/ent/pointlot"
	"github.com/membergraph/membergraph/internal/points"
)

// The batch's append-only rows (events, entries, lots, allocations) are written with plain
// multi-row INSERTs built here rather than with ent's bulk builders: a builder per row,
// its mutation, hooks and privacy check cost more CPU than the database spends storing the
// row (the CPU profile of BenchmarkIngestOrders, docs/benchmarks.md), and on a small machine
// that CPU is the database's too. What ent would check is checked before: every value comes
// from a validated event (validate.go) or a rule, descriptions are clipped (points.Clip), the
// programme is the viewer's, and MySQL's strict mode refuses what would not fit.

// insertRows writes rows (each one value per column) into table in one statement and
// returns the id of each row, in order. MySQL gives a multi-row INSERT consecutive ids from
// LastInsertId (InnoDB's consecutive auto-increment locking, as ent's bulk insert assumes);
// SQLite returns them.
func (st *state) insertRows(ctx context.Context, table string, cols []string, rows [][]any) ([]int, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	d := st.svc.ledger.Dialect()
	b := sql.Dialect(d).Insert(table).Columns(cols...)
	for _, r := range rows {
		b.Values(r...)
	}
	ids := make([]int, 0, len(rows))
	if d == dialect.MySQL {
		query, args := b.Query()
		res, err := st.tx.ExecContext(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		first, err := res.LastInsertId()
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(len(rows)) {
			return nil, fmt.Errorf("insert into %s: %d rows affected of %d (%v)", table, n, len(rows), err)
		}
		for i := range rows {
			ids = append(ids, int(first)+i)
		}
		return ids, nil
	}
	query, args := b.Returning("id").Query()
	res, err := st.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	for res.Next() {
		var id int
		if err := res.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := res.Err(); err != nil {
		return nil, err
	}
	if len(ids) != len(rows) {
		return nil, fmt.Errorf("insert into %s: %d ids returned for %d rows", table, len(ids), len(rows))
	}
	return ids, nil
}

var (
	eventColumns = []string{event.FieldProgramID, event.FieldMemberID, event.FieldIdempotencyKey, event.FieldKind,
		event.FieldChannel, event.FieldOccurredAt, event.FieldRecordedAt, event.FieldOrderID, event.FieldBodyHash,
		event.FieldBody, event.FieldOutcome}
	entryColumns = []string{pointentry.FieldProgramID, pointentry.FieldMemberID, pointentry.FieldAmount, pointentry.FieldKind,
		pointentry.FieldFunding, pointentry.FieldDescription, pointentry.FieldEventID, pointentry.FieldRequestKey,
		pointentry.FieldOrderID, pointentry.FieldSku, pointentry.FieldCreatedAt, pointentry.FieldExpiresAt,
		pointentry.FieldAvailableAt}
	lotColumns = []string{pointlot.FieldProgramID, pointlot.FieldMemberID, pointlot.FieldOrderID, pointlot.FieldSku,
		pointlot.FieldRemaining, pointlot.FieldExpiresAt, pointlot.FieldAvailableAt, pointlot.FieldFunding}
	allocationColumns = []string{pointallocation.FieldProgramID, pointallocation.FieldMemberID, pointallocation.FieldEntryID,
		pointallocation.FieldLotID, pointallocation.FieldAmount}
)

// insertEvents stores part of the accepted events and notes their ids.
func (st *state) insertEvents(ctx context.Context, part []*newEvent) error {
	rows := make([][]any, len(part))
	for i, e := range part {
		in := e.job.in
		body, err := json.Marshal(in.Body)
		if err != nil {
			return err
		}
		outcome, err := json.Marshal(e.outcome)
		if err != nil {
			return err
		}
		rows[i] = []any{st.env.prog.ID, e.job.memberID, in.IdempotencyKey, string(in.Kind), in.Channel,
			in.OccurredAt.UTC(), st.now, in.Body.OrderID, e.job.hash, body, outcome}
	}
	ids, err := st.insertRows(ctx, event.Table, eventColumns, rows)
	for i, id := range ids {
		part[i].id = id
	}
	return err
}

// insertEntries stores part of the ledger entries and notes their ids.
func (st *state) insertEntries(ctx context.Context, part []*newEntry) error {
	rows := make([][]any, len(part))
	for i, e := range part {
		var expires, available any // NULL for an entry that earns no lot
		if e.credit != nil {
			expires, available = e.credit.ExpiresAt, e.credit.AvailableAt
		}
		rows[i] = []any{st.env.prog.ID, e.event.job.memberID, e.amount, string(e.kind), e.funding, points.Clip(e.desc),
			e.event.id, "", e.orderID, e.sku, st.now, expires, available}
	}
	ids, err := st.insertRows(ctx, pointentry.Table, entryColumns, rows)
	for i, id := range ids {
		part[i].id = id
	}
	return err
}

// insertLots stores the lots part's earning entries opened and notes their ids.
func (st *state) insertLots(ctx context.Context, part []*newEntry) error {
	rows := make([][]any, len(part))
	for i, e := range part {
		l := e.credit.Lot
		rows[i] = []any{st.env.prog.ID, e.event.job.memberID, l.OrderID, l.SKU, l.Remaining, l.ExpiresAt, l.AvailableAt, e.funding}
	}
	ids, err := st.insertRows(ctx, pointlot.Table, lotColumns, rows)
	for i, id := range ids {
		part[i].credit.Lot.ID = id
	}
	return err
}

// insertAllocations stores what part's refund entries took from each lot.
func (st *state) insertAllocations(ctx context.Context, part []taking) error {
	rows := make([][]any, len(part))
	for i, t := range part {
		rows[i] = []any{st.env.prog.ID, t.entry.event.job.memberID, t.entry.id, t.taken.Lot.ID, t.taken.Amount}
	}
	_, err := st.insertRows(ctx, pointallocation.Table, allocationColumns, rows)
	return err
}

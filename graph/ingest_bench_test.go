package graph_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// benchBackend picks the database of the ingest benchmarks: MySQL when
// MEMBERGRAPH_TEST_MYSQL_DSN is set (the target is stated for it), SQLite otherwise.
func benchBackend(b *testing.B) storetest.Backend {
	bs := storetest.Backends()
	if os.Getenv(storetest.EnvMySQLDSN) == "" {
		b.Log("MEMBERGRAPH_TEST_MYSQL_DSN not set: measuring on SQLite")
	}
	return bs[len(bs)-1]
}

const benchMembers = 1000

// BenchmarkIngestOrders posts ORDER_COMPLETED events with 3 lines each, 100 to a
// recordEvents call, through the real HTTP handler, and reports events per second.
func BenchmarkIngestOrders(b *testing.B) {
	a, tok := ingestAPI(b)
	bs := bodies(b.N, a.now(), func(_, k int) string { return fmt.Sprintf("bm%04d", k%benchMembers) })
	b.ResetTimer()
	start := time.Now()
	for _, body := range bs {
		if err := postBatch(a, tok, body, 100); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "events/s")
}

// benchDB is a fresh database of the ingest benchmarks with benchMembers registered members:
// their ids and the programme's.
func benchDB(b *testing.B) (*store.DB, []int, int) {
	db := storetest.Open(b, benchBackend(b))
	a := newAPI(b, db)
	for i := range benchMembers {
		a.register(fmt.Sprintf("bm%04d", i), nil)
	}
	var memberIDs []int
	rows, err := db.SQL.Query("SELECT id FROM members ORDER BY id")
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id int
		_ = rows.Scan(&id)
		memberIDs = append(memberIDs, id)
	}
	rows.Close()
	var pid int
	_ = db.SQL.QueryRow("SELECT id FROM programs").Scan(&pid)
	return db, memberIDs, pid
}

const benchBody = `{"orderId":"X","orderType":"NORMAL","paymentMethod":"CASH","lines":[{"sku":"a","category":"PHONES","paidCents":129900,"productType":"PHYSICAL"},{"sku":"b","category":"BOOKS","paidCents":5800,"productType":"PHYSICAL"},{"sku":"c","category":"FOOD","paidCents":23000,"productType":"PHYSICAL"}]}`

// BenchmarkPlainInsert writes the rows one accepted order event produces (the event, three
// entries, three lots) with plain multi-row INSERTs of 100 events each: the floor any
// ingestion path pays on this database, the denominator of the ingest ratio.
func BenchmarkPlainInsert(b *testing.B) {
	db, memberIDs, pid := benchDB(b)
	now := time.Now().UTC()
	perBatch(b, func(seq int) {
		tx, err := db.SQL.Begin()
		if err != nil {
			b.Fatal(err)
		}
		var ev, en strings.Builder
		var evArgs, enArgs []any
		ev.WriteString("INSERT INTO events (program_id, member_id, idempotency_key, kind, channel, occurred_at, recorded_at, order_id, body_hash, body, outcome) VALUES ")
		for i := range 100 {
			seq++
			if i > 0 {
				ev.WriteString(",")
			}
			ev.WriteString("(?,?,?,?,?,?,?,?,?,?,?)")
			evArgs = append(evArgs, pid, memberIDs[seq%len(memberIDs)], fmt.Sprintf("p%d", seq), "ORDER_COMPLETED", "WEB", now, now,
				fmt.Sprintf("PO%d", seq), strings.Repeat("a", 64), benchBody, `{"points":129}`)
		}
		if _, err := tx.Exec(ev.String(), evArgs...); err != nil {
			_ = tx.Rollback() // an open transaction would block dropping the test database
			b.Fatal(err)
		}
		en.WriteString("INSERT INTO point_entries (program_id, member_id, amount, kind, funding, description, request_key, order_id, sku, created_at, expires_at, available_at) VALUES ")
		for i := range 300 {
			if i > 0 {
				en.WriteString(",")
			}
			en.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?)")
			enArgs = append(enArgs, pid, memberIDs[(seq-i/3)%len(memberIDs)], 100, "PURCHASE", "PLATFORM", "Order X, item a: ¥1299.00 paid", "", "X", "a", now, now, now)
		}
		if _, err := tx.Exec(en.String(), enArgs...); err != nil {
			_ = tx.Rollback()
			b.Fatal(err)
		}
		var lot strings.Builder
		var lotArgs []any
		lot.WriteString("INSERT INTO point_lots (program_id, member_id, order_id, sku, remaining, expires_at, available_at) VALUES ")
		for i := range 300 {
			if i > 0 {
				lot.WriteString(",")
			}
			lot.WriteString("(?,?,?,?,?,?,?)")
			lotArgs = append(lotArgs, pid, memberIDs[(seq-i/3)%len(memberIDs)], "X", "a", 100, now, now)
		}
		if _, err := tx.Exec(lot.String(), lotArgs...); err != nil {
			_ = tx.Rollback()
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	})
}

// perBatch times b.N batches of 100 events, batch writing the one whose events are numbered
// from seq, and reports events per second.
func perBatch(b *testing.B, batch func(seq int)) {
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		batch(i * 100)
	}
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "events/s")
}

// orderStatements are the statements an accepted 3-line order needs at the least under
// today's rules, for the members of ms (one member: one event's transaction; many: a batch
// in one transaction): lock the accounts, look for an earlier completion of the order, read
// the medal progress and levels, then write the event, its entries and lots, the account,
// the month and category counters and one medal level. Plain SQL, no GraphQL, no ent: what
// any implementation of the rules pays on this database.
func orderStatements(pid int, ms []int, seq int, now time.Time) []benchStatement {
	in := strings.TrimSuffix(strings.Repeat("?,", len(ms)), ",")
	each := func(tuple string, row func(i, m int) []any) (string, []any) {
		var sb strings.Builder
		var args []any
		for i, m := range ms {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString(tuple)
			args = append(args, row(i, m)...)
		}
		return sb.String(), args
	}
	ids := make([]any, len(ms))
	for i, m := range ms {
		ids[i] = m
	}
	var out []benchStatement
	add := func(query string, args ...any) { out = append(out, benchStatement{query, args}) }
	add("SELECT id, total, debt FROM point_accounts WHERE member_id IN ("+in+") ORDER BY member_id FOR UPDATE", ids...)
	orders := make([]any, len(ms))
	for i := range ms {
		orders[i] = fmt.Sprintf("FO%d", seq+i)
	}
	add("SELECT member_id, order_id FROM events WHERE member_id IN ("+in+") AND kind = 'ORDER_COMPLETED' AND order_id IN ("+in+")", append(slices.Clone(ids), orders...)...)
	add("SELECT member_id, category, SUM(spend_cents) FROM category_months WHERE member_id IN ("+in+") AND month BETWEEN 0 AND 999999 GROUP BY member_id, category", ids...)
	add("SELECT member_id, SUM(orders), SUM(reviews), SUM(photo_reviews), SUM(answers), SUM(check_ins) FROM activity_months WHERE member_id IN ("+in+") AND month BETWEEN 0 AND 999999 GROUP BY member_id", ids...)
	add("SELECT member_id, medal_key, level FROM member_medals WHERE member_id IN ("+in+")", ids...)
	q, a := each("(?,?,?,'ORDER_COMPLETED','WEB',?,?,?,?,?,'{}')", func(i, m int) []any {
		return []any{pid, m, fmt.Sprintf("f%d", seq+i), now, now, orders[i], strings.Repeat("a", 64), benchBody}
	})
	add("INSERT INTO events (program_id, member_id, idempotency_key, kind, channel, occurred_at, recorded_at, order_id, body_hash, body, outcome) VALUES "+q, a...)
	q, a = each("(?,?,129,'PURCHASE','PLATFORM','Order X, item a',?,'a',?,?,?),(?,?,5,'PURCHASE','PLATFORM','Order X, item b',?,'b',?,?,?),(?,?,23,'PURCHASE','PLATFORM','Order X, item c',?,'c',?,?,?)",
		func(i, m int) []any {
			return []any{pid, m, orders[i], now, now, now, pid, m, orders[i], now, now, now, pid, m, orders[i], now, now, now}
		})
	add("INSERT INTO point_entries (program_id, member_id, amount, kind, funding, description, order_id, sku, created_at, expires_at, available_at) VALUES "+q, a...)
	q, a = each("(?,?,?,'a',129,?,?),(?,?,?,'b',5,?,?),(?,?,?,'c',23,?,?)", func(i, m int) []any {
		return []any{pid, m, orders[i], now, now, pid, m, orders[i], now, now, pid, m, orders[i], now, now}
	})
	add("INSERT INTO point_lots (program_id, member_id, order_id, sku, remaining, expires_at, available_at) VALUES "+q, a...)
	if len(ms) == 1 {
		add("UPDATE point_accounts SET total = total + 157 WHERE member_id = ?", ms[0])
	} else {
		q, a = each("(?,?,157)", func(_, m int) []any { return []any{pid, m} })
		add("INSERT INTO point_accounts (program_id, member_id, total) VALUES "+q+" ON DUPLICATE KEY UPDATE total = total + VALUES(total)", a...)
	}
	q, a = each("(?,?,202611,158700,1,1)", func(_, m int) []any { return []any{pid, m} })
	add("INSERT INTO activity_months (program_id, member_id, month, spend_cents, orders, completed_orders) VALUES "+q+
		" ON DUPLICATE KEY UPDATE spend_cents = spend_cents + VALUES(spend_cents), orders = orders + 1, completed_orders = completed_orders + 1", a...)
	q, a = each("(?,?,202611,'PHONES',129900),(?,?,202611,'BOOKS',5800),(?,?,202611,'FOOD',23000)", func(_, m int) []any { return []any{pid, m, pid, m, pid, m} })
	add("INSERT INTO category_months (program_id, member_id, month, category, spend_cents) VALUES "+q+" ON DUPLICATE KEY UPDATE spend_cents = spend_cents + VALUES(spend_cents)", a...)
	q, a = each("(?,?,'ORDERS',1,?)", func(_, m int) []any { return []any{pid, m, now} })
	add("INSERT INTO member_medals (program_id, member_id, medal_key, level, updated_at) VALUES "+q+" ON DUPLICATE KEY UPDATE level = VALUES(level), updated_at = VALUES(updated_at)", a...)
	return out
}

type benchStatement struct {
	query string
	args  []any
}

// runTx runs the statements in one transaction, reading every row of every SELECT.
func runTx(db *store.DB, stmts []benchStatement) error {
	tx, err := db.SQL.Begin()
	if err != nil {
		return err
	}
	for _, s := range stmts {
		rows, err := tx.Query(s.query, s.args...)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Close()
		}
		if err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("%.60s: %w", s.query, err)
		}
	}
	return tx.Commit()
}

// floorDB is benchDB on MySQL: the floors are MySQL statements (locking reads, ON DUPLICATE
// KEY), and the target they are measured against is stated for it.
func floorDB(b *testing.B) (*store.DB, []int, int) {
	if os.Getenv(storetest.EnvMySQLDSN) == "" {
		b.Skip("the floors are MySQL statements: set MEMBERGRAPH_TEST_MYSQL_DSN")
	}
	return benchDB(b)
}

// BenchmarkMemberTxFloor runs orderStatements for 100 events a batch, one transaction per
// event (so per member) on 8 connections, as docs/architecture.md asks of a hot path: the most
// any implementation of today's rules can ingest on this database while no transaction
// locks two members.
func BenchmarkMemberTxFloor(b *testing.B) {
	db, memberIDs, pid := floorDB(b)
	now := time.Now().UTC()
	perBatch(b, func(seq int) {
		work := make(chan int, 100)
		for i := range 100 {
			work <- seq + i
		}
		close(work)
		var g errgroup.Group
		for range 8 {
			g.Go(func() error {
				for n := range work {
					if err := runTx(db, orderStatements(pid, []int{memberIDs[n%len(memberIDs)]}, n, now)); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkBatchTxFloor runs the same statements set-based: one transaction for the 100
// events of a batch, their 100 members locked in id order. Faster, and what the architecture
// rules out for hot paths (a transaction holding two members' locks).
func BenchmarkBatchTxFloor(b *testing.B) {
	db, memberIDs, pid := floorDB(b)
	now := time.Now().UTC()
	perBatch(b, func(seq int) {
		ms := make([]int, 100)
		for i := range ms {
			ms[i] = memberIDs[(seq+i)%len(memberIDs)]
		}
		if err := runTx(db, orderStatements(pid, ms, seq, now)); err != nil {
			b.Fatal(err)
		}
	})
}

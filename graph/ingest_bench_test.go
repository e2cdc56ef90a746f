package graph_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/membergraph/membergraph/internal/auth"
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
	db := storetest.Open(b, benchBackend(b))
	a := newAPI(b, db)
	for i := range benchMembers {
		a.register(fmt.Sprintf("bm%04d", i), nil)
	}
	tok := a.token(auth.RoleService, "bench")
	now := a.now()
	seq := 0
	batch := func() []map[string]any {
		evs := make([]map[string]any, 100)
		for i := range evs {
			seq++
			evs[i] = at(orderEvent(fmt.Sprintf("b%d", seq), fmt.Sprintf("bm%04d", seq%benchMembers), fmt.Sprintf("BO%d", seq), "WEB",
				ln("a", "PHONES", 129900), ln("b", "BOOKS", 5800), ln("c", "FOOD", 23000)), now)
		}
		return evs
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		evs := batch()
		r := a.do(tok, recordMutation, map[string]any{"events": evs})
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data["recordEvents"]), `"ACCEPTED"`) {
			b.Fatalf("%+v", r.Errors)
		}
	}
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkPlainInsert writes the rows one accepted order event produces (the event, three
// entries, three lots) with plain multi-row INSERTs of 100 events each: the floor any
// ingestion path pays on this database, the denominator of the ingest ratio.
func BenchmarkPlainInsert(b *testing.B) {
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
	now := time.Now().UTC()
	body := `{"orderId":"X","orderType":"NORMAL","paymentMethod":"CASH","lines":[{"sku":"a","category":"PHONES","paidCents":129900,"productType":"PHYSICAL"},{"sku":"b","category":"BOOKS","paidCents":5800,"productType":"PHYSICAL"},{"sku":"c","category":"FOOD","paidCents":23000,"productType":"PHYSICAL"}]}`
	seq := 0
	b.ResetTimer()
	start := time.Now()
	for range b.N {
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
				fmt.Sprintf("PO%d", seq), strings.Repeat("a", 64), body, `{"points":129}`)
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
	}
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "events/s")
}

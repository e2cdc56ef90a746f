package graph_test

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// TestDeadlineLockedMemberAnswersUnavailable holds a member's points account from another
// connection (MariaDB: SELECT … FOR UPDATE in an open transaction; SQLite: BEGIN IMMEDIATE,
// the write lock of the whole file) and spends through the real handler with a 2 s request
// deadline: the answer is UNAVAILABLE with retryAfterSeconds within the deadline and a
// margin (not after InnoDB's 50 s or SQLite's 10 s busy timeout), nothing is applied, and
// once the lock is released the same key spends once.
func TestDeadlineLockedMemberAnswersUnavailable(t *testing.T) {
	const deadline = 2 * time.Second
	type lockCase struct {
		name string
		// lockWait is innodb_lock_wait_timeout in the URL ("" for store.LockWait, which is
		// longer than the deadline: the request's deadline then ends the wait).
		lockWait string
	}
	for _, b := range storetest.Backends() {
		cases := []lockCase{{name: "busy"}}
		if b.Name == "mysql" {
			cases = []lockCase{{name: "lock-wait-1s", lockWait: "1"}, {name: "deadline-first"}}
		}
		for _, c := range cases {
			t.Run(b.Name+"/"+c.name, func(t *testing.T) {
				raw := b.URL(t)
				if c.lockWait != "" {
					raw = withParam(raw, "innodb_lock_wait_timeout", c.lockWait)
				}
				db := openMigrated(t, raw)
				a := newAPI(t, db, func(cfg *graph.ServerConfig) { cfg.RequestTimeout = deadline })
				a.register("alice", nil)
				if ch := a.adjust("alice", 5000, "adj-1"); codeOf(ch) != "" {
					t.Fatalf("adjust: %+v", ch.UserErrors)
				}
				release := holdAccount(t, db, "alice")
				spend := map[string]any{"externalId": "alice", "points": 1000, "purpose": "EXCHANGE", "idempotencyKey": "spend-1"}
				svc := a.token(auth.RoleService, "shop")

				began := time.Now()
				r := a.do(svc, spendMutation, map[string]any{"input": spend})
				took := time.Since(began)
				if r.code() != "UNAVAILABLE" {
					t.Fatalf("spend behind a held lock: %+v, want UNAVAILABLE", r.Errors)
				}
				if s, ok := r.Errors[0].Extensions["retryAfterSeconds"].(float64); !ok || s <= 0 {
					t.Errorf("UNAVAILABLE without retryAfterSeconds: %+v", r.Errors[0].Extensions)
				}
				if strings.Contains(r.Errors[0].Message, "1205") || strings.Contains(r.Errors[0].Message, "SQL") {
					t.Errorf("the answer leaks the database's text: %q", r.Errors[0].Message)
				}
				if took > deadline+1500*time.Millisecond {
					t.Errorf("answered after %s, want within the %s deadline and a margin", took, deadline)
				}
				t.Logf("UNAVAILABLE after %s", took.Round(time.Millisecond))
				release()

				if got := balance(t, a, "alice"); got != 5000 {
					t.Fatalf("balance after the refused spend: %d, want 5000 (nothing applied)", got)
				}
				first := a.change(auth.RoleService, spendMutation, "spendPoints", spend)
				if codeOf(first) != "" || first.Replayed || *first.Balance != 4000 {
					t.Fatalf("the same key after the lock is released: %+v, want a spend to 4000", first)
				}
				again := a.change(auth.RoleService, spendMutation, "spendPoints", spend)
				if codeOf(again) != "" || !again.Replayed || *again.Balance != 4000 {
					t.Fatalf("a replay: %+v, want replayed at 4000", again)
				}
				if got := balance(t, a, "alice"); got != 4000 {
					t.Errorf("balance: %d, want 4000 (5000 − one spend of 1000)", got)
				}
			})
		}
	}
}

func withParam(raw, key, value string) string {
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
	}
	return raw + sep + key + "=" + url.QueryEscape(value)
}

func openMigrated(t *testing.T, raw string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// holdAccount locks the member's points account from a connection of its own, as another
// server's long transaction would, and returns the release.
func holdAccount(t *testing.T, db *store.DB, externalID string) (release func()) {
	t.Helper()
	ctx := context.Background()
	mid, err := db.Client.Member.Query().Where(member.ExternalID(externalID)).OnlyID(auth.SystemContext(ctx, 0))
	if err != nil {
		t.Fatal(err)
	}
	if db.Dialect == dialect.SQLite {
		// SQLite has no row locks: a writer holds the whole file.
		other, err := sql.Open("sqlite", "file:"+db.File+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := other.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "UPDATE point_accounts SET id = id WHERE member_id = ?", mid); err != nil {
			t.Fatal(err)
		}
		return func() {
			_, _ = conn.ExecContext(ctx, "ROLLBACK")
			conn.Close()
			other.Close()
		}
	}
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var id int
	if err := tx.QueryRowContext(ctx, "SELECT id FROM point_accounts WHERE member_id = ? FOR UPDATE", mid).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return func() { _ = tx.Rollback() }
}

func balance(t *testing.T, a *api, externalID string) int {
	t.Helper()
	var out struct {
		Member struct{ Points struct{ Balance int } }
	}
	a.must(a.token(auth.RoleAdmin, "ops"), `query($m: String!) { member(externalId: $m) { points { balance } } }`,
		map[string]any{"m": externalID}, &out)
	return out.Member.Points.Balance
}

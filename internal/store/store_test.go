package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	atlas "ariga.io/atlas/sql/migrate"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"

	"github.com/membergraph/membergraph/ent/migrate"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url, wantErr, wantDialect, dsnHas, redacted string
	}{
		{url: "sqlite://data/membergraph.db", wantDialect: "sqlite3", dsnHas: "file:data/membergraph.db?", redacted: "sqlite://data/membergraph.db"},
		{url: "sqlite:///var/lib/mg.db", wantDialect: "sqlite3", dsnHas: "file:/var/lib/mg.db?"},
		{url: "mysql://app:s3cret@tcp(db:3306)/mg", wantDialect: "mysql", dsnHas: "parseTime=true", redacted: "mysql://app:xxxxx@tcp(db:3306)/mg"},
		{url: "postgres://x/y", wantErr: "unknown scheme"},
		{url: "data/membergraph.db", wantErr: "want sqlite://PATH"},
		{url: "sqlite://", wantErr: "want sqlite://PATH"},
		{url: "mysql://root@tcp(db:3306)/", wantErr: "names no database"},
		{url: "mysql://root@tcp(db:3306", wantErr: "bad database URL"},
	} {
		got, err := store.ParseURL(tc.url)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseURL(%q) error = %v, want %q", tc.url, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.url, err)
			continue
		}
		if got.Dialect != tc.wantDialect || !strings.Contains(got.DSN, tc.dsnHas) {
			t.Errorf("ParseURL(%q) = %+v, want dialect %s and DSN with %q", tc.url, got, tc.wantDialect, tc.dsnHas)
		}
		if tc.redacted != "" && !strings.HasPrefix(got.Redacted, tc.redacted) {
			t.Errorf("ParseURL(%q).Redacted = %q, want prefix %q", tc.url, got.Redacted, tc.redacted)
		}
		if strings.Contains(got.Redacted, "s3cret") {
			t.Errorf("Redacted leaks the password: %q", got.Redacted)
		}
	}
}

func TestOpenUnreachableIsOneLine(t *testing.T) {
	_, err := store.Open(context.Background(), "mysql://root@tcp(127.0.0.1:1)/nothing")
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "MEMBERGRAPH_DATABASE_URL") {
		t.Errorf("error should be one line naming what to fix, got %q", msg)
	}
}

// TestMigrationsMatchSchema proves the committed migrations build exactly the ent schema:
// after applying them, ent finds nothing left to change.
func TestMigrationsMatchSchema(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		dir := &atlas.MemDir{}
		err := migrate.NewSchema(entsql.OpenDB(db.Dialect, db.SQL)).NamedDiff(context.Background(), "drift",
			schema.WithDir(dir), schema.WithDropColumn(true), schema.WithDropIndex(true))
		if err != nil {
			t.Fatal(err)
		}
		files, err := dir.Files()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			t.Errorf("the migrations lack changes to match ent/schema (run make migration NAME=…):\n%s", f.Bytes())
		}
	})
}

func TestMigrateIsIdempotentAndConcurrent(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			url := b.URL(t)
			const workers = 4
			applied := make([][]string, workers)
			errs := make([]error, workers)
			var wg sync.WaitGroup
			for i := range workers {
				wg.Go(func() {
					db, err := store.Open(ctx, url)
					if err != nil {
						errs[i] = err
						return
					}
					defer db.Close()
					applied[i], errs[i] = db.Migrate(ctx)
				})
			}
			wg.Wait()
			total := 0
			for i := range workers {
				if errs[i] != nil {
					t.Fatalf("worker %d: %v", i, errs[i])
				}
				total += len(applied[i])
			}
			dir, err := store.Dir(storetest.Open(t, b).Dialect)
			if err != nil {
				t.Fatal(err)
			}
			files, _ := dir.Files()
			if total != len(files) {
				t.Errorf("%d workers applied %d migrations in all, want each of the %d once", workers, total, len(files))
			}
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			again, err := db.Migrate(ctx)
			if err != nil || len(again) != 0 {
				t.Errorf("second Migrate = %v, %v; want nothing applied", again, err)
			}
			if pending, err := db.Pending(ctx); err != nil || len(pending) != 0 {
				t.Errorf("Pending = %v, %v; want none", pending, err)
			}
		})
	}
}

// TestMySQLSessionsReadCommitted: the ledger relies on every MySQL session defaulting to
// READ COMMITTED (it no longer sets it per transaction).
func TestMySQLSessionsReadCommitted(t *testing.T) {
	for _, b := range storetest.Backends() {
		if b.Name != "mysql" {
			continue
		}
		db := storetest.Open(t, b)
		var version, level string
		if err := db.SQL.QueryRow("SELECT VERSION()").Scan(&version); err != nil {
			t.Fatal(err)
		}
		q := "SELECT @@transaction_isolation"
		if strings.Contains(version, "MariaDB") {
			q = "SELECT @@tx_isolation"
		}
		for range 3 { // several pooled connections
			if err := db.SQL.QueryRow(q).Scan(&level); err != nil || level != "READ-COMMITTED" {
				t.Errorf("session isolation %q, %v", level, err)
			}
		}
	}
}

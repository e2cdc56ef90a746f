// Package storetest gives store tests a fresh, migrated database of their own: always a
// SQLite file, and a new database on the MySQL/MariaDB server MEMBERGRAPH_TEST_MYSQL_DSN
// names when it is set.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/membergraph/membergraph/internal/store"
)

// EnvMySQLDSN names the MySQL server the store tests also run on, e.g.
// root@tcp(127.0.0.1:3306)/test (a mysql:// prefix is accepted).
const EnvMySQLDSN = "MEMBERGRAPH_TEST_MYSQL_DSN"

// Backend is a database server kind a test runs on.
type Backend struct {
	Name string // "sqlite" or "mysql"
	// URL returns a MEMBERGRAPH_DATABASE_URL for a new, empty database dropped when t ends.
	URL func(t testing.TB) string
}

// Backends lists SQLite, and MySQL when EnvMySQLDSN is set.
func Backends() []Backend {
	bs := []Backend{{Name: "sqlite", URL: sqliteURL}}
	if dsn := os.Getenv(EnvMySQLDSN); dsn != "" {
		bs = append(bs, Backend{Name: "mysql", URL: func(t testing.TB) string { return mysqlURL(t, dsn) }})
	}
	return bs
}

// Run runs fn once per backend as a subtest, each with a fresh migrated database.
func Run(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fn(t, Open(t, b))
		})
	}
}

// Open returns a fresh migrated database on b, closed when t ends.
func Open(t testing.TB, b Backend) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, b.URL(t))
	if err != nil {
		t.Fatalf("open %s: %v", b.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", b.Name, err)
	}
	return db
}

func sqliteURL(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "test.db")
}

func mysqlURL(t testing.TB, dsn string) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, "mysql://"))
	if err != nil {
		t.Fatalf("%s: %v", EnvMySQLDSN, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "mgtest_" + hex.EncodeToString(b)
	cfg.DBName = ""
	server, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("%s: %v", EnvMySQLDSN, err)
	}
	defer server.Close()
	if _, err := server.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("creating test database on %s: %v", cfg.Addr, err)
	}
	t.Cleanup(func() {
		s, err := sql.Open("mysql", cfg.FormatDSN())
		if err == nil {
			_, _ = s.Exec("DROP DATABASE IF EXISTS " + name)
			s.Close()
		}
	})
	cfg.DBName = name
	return "mysql://" + cfg.FormatDSN()
}

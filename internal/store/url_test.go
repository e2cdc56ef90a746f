package store_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/membergraph/membergraph/internal/store"
)

// TestURLsNeverShowPasswords: errors and help texts show a URL only with its password
// hidden, even one that does not parse.
func TestURLsNeverShowPasswords(t *testing.T) {
	const pw = "s3cret-pw"
	for _, raw := range []string{"postgres://u:" + pw + "@db/x", "mysql://u:" + pw + "@tcp(db:3306", "u:" + pw + "@db"} {
		if _, err := store.ParseURL(raw); err == nil || strings.Contains(err.Error(), pw) {
			t.Errorf("ParseURL(%q) error = %v", raw, err)
		}
		if r := store.Redact(raw); strings.Contains(r, pw) {
			t.Errorf("Redact(%q) = %q", raw, r)
		}
	}
	if r := store.Redact("mysql://app:" + pw + "@tcp(db:3306)/mg"); r != "mysql://app:xxxxx@tcp(db:3306)/mg" {
		t.Errorf("Redact(mysql) = %q", r)
	}
	if r := store.Redact("sqlite://data/mg.db"); r != "sqlite://data/mg.db" {
		t.Errorf("Redact(sqlite) = %q", r)
	}
}

// TestOpenSaysWhichFileAndWhetherNew: a relative SQLite path resolves against the working
// directory, and Open says whether it made the file.
func TestOpenSaysWhichFileAndWhetherNew(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for i, wantCreated := range []bool{true, false} {
		db, err := store.Open(context.Background(), "sqlite://data/mg.db")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL.Exec("CREATE TABLE IF NOT EXISTS t (x INT)"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if db.File != filepath.Join(dir, "data", "mg.db") || db.Created != wantCreated {
			t.Errorf("open %d: File %q, Created %v; want %q, %v", i, db.File, db.Created, filepath.Join(dir, "data", "mg.db"), wantCreated)
		}
	}
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"

	"github.com/membergraph/membergraph/ent/migrate/migrations"
)

// RevisionTable records which migration versions a database has.
const RevisionTable = "membergraph_migrations"

// ErrMigrationsTampered means the embedded migration files do not match their atlas.sum.
var ErrMigrationsTampered = errors.New("migration files do not match atlas.sum")

// Dir returns the migration directory of a dialect, checked against its atlas.sum.
func Dir(d string) (*migrate.MemDir, error) {
	name := "mysql"
	if d == dialect.SQLite {
		name = "sqlite"
	}
	sub, err := fs.Sub(migrations.FS, name)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(sub, ".")
	if err != nil {
		return nil, err
	}
	dir := &migrate.MemDir{}
	for _, e := range entries {
		b, err := fs.ReadFile(sub, e.Name())
		if err != nil {
			return nil, err
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, err
		}
	}
	if err := migrate.Validate(dir); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMigrationsTampered, err)
	}
	return dir, nil
}

// migrationFiles are the dialect's migrations in version order, checked against atlas.sum.
func migrationFiles(d string) ([]migrate.File, error) {
	dir, err := Dir(d)
	if err != nil {
		return nil, err
	}
	return dir.Files()
}

// Migrate applies the migrations the database lacks, in version order, and returns the
// versions it applied. Several processes may call it at once: MySQL serialises them on a
// named lock, SQLite on its write lock, and each version is applied once.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	files, err := migrationFiles(db.Dialect)
	if err != nil {
		return nil, err
	}
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if db.Dialect == dialect.MySQL {
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('membergraph_migrate', 120)").Scan(&got); err != nil || got.Int64 != 1 {
			return nil, fmt.Errorf("waiting for another migration to finish: lock not acquired (%v)", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK('membergraph_migrate')")
	}
	if _, err := conn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+RevisionTable+
		" (version VARCHAR(64) NOT NULL PRIMARY KEY, description VARCHAR(255) NOT NULL, applied_at VARCHAR(40) NOT NULL)"); err != nil {
		return nil, fmt.Errorf("creating %s: %w", RevisionTable, err)
	}
	rewrite, err := collationFor(ctx, conn, db.Dialect)
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, f := range files {
		done, err := db.applyFile(ctx, conn, f, rewrite)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, f.Version())
		}
	}
	return applied, nil
}

// IDCollation is the collation of id and key columns in the MySQL migrations: byte for byte
// and NO PAD, so "a-victim " is not "a-victim" (see ent/schema/types.go). MariaDB calls it
// utf8mb4_nopad_bin; MySQL 8 has no such name and calls its equivalent utf8mb4_0900_bin.
const (
	IDCollation      = "utf8mb4_nopad_bin"
	idCollationMySQL = "utf8mb4_0900_bin"
)

// collationFor returns what the migrations' statements need rewritten on this server: the
// id collation's MySQL 8 name on a MySQL that is not MariaDB, nothing elsewhere. The files
// stay as generated (their atlas.sum holds); only what is sent to the server differs.
func collationFor(ctx context.Context, conn *sql.Conn, d string) (*strings.Replacer, error) {
	if d != dialect.MySQL {
		return strings.NewReplacer(), nil
	}
	var version string
	if err := conn.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return nil, err
	}
	if strings.Contains(strings.ToLower(version), "mariadb") {
		return strings.NewReplacer(), nil
	}
	return strings.NewReplacer(IDCollation, idCollationMySQL), nil
}

// applyFile applies one file unless its version is recorded. On SQLite the file and its
// record commit together. MySQL commits DDL implicitly, so there a failure part-way leaves
// the earlier statements applied and the version unrecorded; the error names the statement.
func (db *DB) applyFile(ctx context.Context, conn *sql.Conn, f migrate.File, rewrite *strings.Replacer) (bool, error) {
	stmts, err := f.Stmts()
	if err != nil {
		return false, fmt.Errorf("migration %s: %w", f.Name(), err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+RevisionTable+" WHERE version = ?", f.Version()).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	for i, s := range stmts {
		if _, err := tx.ExecContext(ctx, rewrite.Replace(s)); err != nil {
			return false, fmt.Errorf("migration %s, statement %d: %w", f.Name(), i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+RevisionTable+" (version, description, applied_at) VALUES (?, ?, ?)",
		f.Version(), f.Desc(), time.Now().UTC().Format(time.RFC3339)); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// Pending returns the versions not yet applied, for readiness checks.
func (db *DB) Pending(ctx context.Context) ([]string, error) {
	all, err := db.Migrations(ctx)
	if err != nil {
		return nil, err
	}
	var pending []string
	for _, m := range all {
		if m.AppliedAt == "" {
			pending = append(pending, m.Version)
		}
	}
	return pending, nil
}

// Migration is one migration this binary carries and whether the database has it.
type Migration struct {
	Version string // the file's version, a timestamp: the order they apply in
	Name    string // what it does, from the file name (e.g. "add_medals")
	// AppliedAt is when it was applied (RFC 3339, UTC); empty while pending.
	AppliedAt string
}

// Migrations lists every migration of the binary in version order, for `migrate --status`.
// A database never migrated has them all pending.
func (db *DB) Migrations(ctx context.Context) ([]Migration, error) {
	files, err := migrationFiles(db.Dialect)
	if err != nil {
		return nil, err
	}
	applied := map[string]string{}
	rows, err := db.SQL.QueryContext(ctx, "SELECT version, applied_at FROM "+RevisionTable)
	if err == nil { // no revision table yet: nothing applied
		defer rows.Close()
		for rows.Next() {
			var v, at string
			if err := rows.Scan(&v, &at); err != nil {
				return nil, err
			}
			applied[v] = at
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]Migration, len(files))
	for i, f := range files {
		out[i] = Migration{Version: f.Version(), Name: f.Desc(), AppliedAt: applied[f.Version()]}
	}
	return out, nil
}

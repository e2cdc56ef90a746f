// Package store opens the database named by a MEMBERGRAPH_DATABASE_URL — the embedded SQLite
// file or a MySQL/MariaDB server, through one code path — and applies the versioned
// migrations.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite" // registers the pure-Go "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/membergraph/membergraph/ent"
	_ "github.com/membergraph/membergraph/ent/runtime" // privacy policies and hooks
)

// DefaultURL is where the embedded database lives unless configured otherwise.
const DefaultURL = "sqlite://data/membergraph.db"

// LockWait is how long a MySQL statement waits for a row lock (innodb_lock_wait_timeout)
// unless the URL sets innodb_lock_wait_timeout itself: half the default request deadline
// (graph.DefaultRequestTimeout), so a request meets the database's refusal first.
const LockWait = 5 * time.Second

const lockWaitParam = "innodb_lock_wait_timeout"

// ErrBadURL is returned for a database URL that names no usable database.
var ErrBadURL = errors.New("bad database URL")

// DB is an open database with its ent client.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string // dialect.SQLite or dialect.MySQL
	// Redacted is the URL with any password hidden, for logs.
	Redacted string
	// File is the absolute path of the SQLite file; empty for MySQL and in-memory databases.
	File string
	// Created: the SQLite file did not exist before Open, so this database starts empty.
	Created bool
}

// Close closes the client and its pool.
func (db *DB) Close() error { return db.Client.Close() }

// Target is a parsed database URL.
type Target struct {
	Dialect  string
	DSN      string // what the driver is opened with
	Redacted string
	// File is the SQLite file as an absolute path, a relative one resolved against the
	// working directory; empty for MySQL and in-memory databases.
	File string
	// LockWait is how long a MySQL statement waits for a row lock; 0 for SQLite.
	LockWait time.Duration
}

// ParseURL accepts sqlite://PATH (relative to the working directory or, with a third
// slash, absolute) and mysql://USER:PASS@tcp(HOST:PORT)/DB?PARAMS. Its errors never quote
// more of raw than a SQLite path or the scheme: the rest may hold a password.
func ParseURL(raw string) (Target, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || rest == "" {
		return Target{}, fmt.Errorf("%w: want sqlite://PATH or mysql://USER:PASS@tcp(HOST:PORT)/DB", ErrBadURL)
	}
	switch scheme {
	case "sqlite", "sqlite3", "file":
		path, query, _ := strings.Cut(rest, "?")
		if path == "" {
			return Target{}, fmt.Errorf("%w %q: sqlite:// needs a file path", ErrBadURL, raw)
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			return Target{}, fmt.Errorf("%w %q: %v", ErrBadURL, raw, err)
		}
		// WAL lets readers run beside the writer; immediate transactions take the write
		// lock up front, so two writers queue on busy_timeout instead of deadlocking. The
		// pragmas run in this order on every new connection: busy_timeout first, so that
		// switching a new file to WAL, which needs the file to itself, waits for another
		// process opening it at the same moment instead of failing with SQLITE_BUSY.
		for _, p := range []string{"busy_timeout(10000)", "foreign_keys(1)", "journal_mode(WAL)", "synchronous(NORMAL)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		q.Set("_time_format", "sqlite")
		t := Target{Dialect: dialect.SQLite, DSN: "file:" + path + "?" + q.Encode(), Redacted: "sqlite://" + path}
		if !strings.HasPrefix(path, ":memory:") && q.Get("mode") != "memory" {
			if t.File, err = filepath.Abs(path); err != nil {
				return Target{}, fmt.Errorf("%w %q: %v", ErrBadURL, "sqlite://"+path, err)
			}
		}
		return t, nil
	case "mysql":
		// The driver reads the database name from the last '/' and the credentials before
		// the last '@' ahead of it: without a '/' after the last '@' (no …/DB, or a password
		// holding a '/'), it would read part of the password as the network or the
		// database name and quote it in its error or the redacted URL.
		if at := strings.LastIndex(rest, "@"); at >= 0 && !strings.Contains(rest[at:], "/") {
			return Target{}, fmt.Errorf("%w: mysql URL names no database (…/DB after the host)", ErrBadURL)
		}
		cfg, err := mysql.ParseDSN(rest)
		if err != nil {
			return Target{}, fmt.Errorf("%w: %v (want mysql://USER:PASS@tcp(HOST:PORT)/DB)", ErrBadURL, err)
		}
		if cfg.DBName == "" {
			return Target{}, fmt.Errorf("%w: mysql URL names no database (…/DB at the end)", ErrBadURL)
		}
		cfg.ParseTime = true
		cfg.Loc = time.UTC
		// Without it the driver prepares, executes and closes a server-side statement for
		// every query with arguments: three round trips instead of one. Safe with utf8mb4.
		cfg.InterpolateParams = true
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Params["charset"] = "utf8mb4"
		cfg.Collation = "utf8mb4_unicode_ci"
		// Strict mode turns silent truncation into errors: a member's data is never
		// quietly cut.
		cfg.Params["sql_mode"] = "'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO'"
		cfg.Params["time_zone"] = "'+00:00'"
		// A statement waiting on a row lock gives up after LockWait unless the URL says
		// otherwise: well inside a request's deadline, so the database abandons the wait
		// (error 1205, answered UNAVAILABLE) before the client does, and no session lingers
		// on a lock for InnoDB's default 50 s after its request has gone.
		lockWait := LockWait
		if v, set := cfg.Params[lockWaitParam]; set {
			secs, err := strconv.Atoi(v)
			if err != nil || secs < 1 {
				return Target{}, fmt.Errorf("%w: %s=%q: want whole seconds, at least 1", ErrBadURL, lockWaitParam, v)
			}
			lockWait = time.Duration(secs) * time.Second
		}
		cfg.Params[lockWaitParam] = strconv.Itoa(int(lockWait / time.Second))
		user := cfg.User
		if cfg.Passwd != "" {
			user += ":xxxxx"
		}
		redacted := fmt.Sprintf("mysql://%s@%s(%s)/%s", user, cfg.Net, cfg.Addr, cfg.DBName)
		return Target{Dialect: dialect.MySQL, DSN: cfg.FormatDSN(), Redacted: redacted, LockWait: lockWait}, nil
	default:
		return Target{}, fmt.Errorf("%w: unknown scheme %q (want sqlite or mysql)", ErrBadURL, scheme)
	}
}

// Redact is raw as help texts and logs may show it: the password of a MySQL URL hidden, and
// nothing past the scheme of a URL that does not parse.
func Redact(raw string) string {
	if raw == "" {
		return ""
	}
	if t, err := ParseURL(raw); err == nil {
		return t.Redacted
	}
	if scheme, _, ok := strings.Cut(raw, "://"); ok {
		return scheme + "://(not shown)"
	}
	return "(not shown)"
}

// Open connects to the database raw names and checks that it answers.
func Open(ctx context.Context, raw string) (*DB, error) {
	t, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	driver, created := "mysql", false
	if t.Dialect == dialect.SQLite {
		driver = "sqlite"
		if t.File != "" {
			if err := os.MkdirAll(filepath.Dir(t.File), 0o750); err != nil {
				return nil, fmt.Errorf("cannot create the directory of %s: %w", t.Redacted, err)
			}
			_, err := os.Stat(t.File)
			created = errors.Is(err, fs.ErrNotExist)
		}
	}
	sqldb, err := sql.Open(driver, t.DSN)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", t.Redacted, err)
	}
	configurePool(sqldb, t.Dialect)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := ping(pctx, sqldb); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("cannot reach the database %s: %v (check MEMBERGRAPH_DATABASE_URL and that the server is up)", t.Redacted, err)
	}
	if t.Dialect == dialect.MySQL {
		if sqldb, err = readCommitted(pctx, sqldb, t.DSN); err != nil {
			return nil, fmt.Errorf("configuring %s: %w", t.Redacted, err)
		}
	}
	drv := entsql.OpenDB(t.Dialect, sqldb)
	return &DB{Client: ent.NewClient(ent.Driver(drv)), SQL: sqldb, Dialect: t.Dialect, Redacted: t.Redacted,
		File: t.File, Created: created}, nil
}

// readCommitted reopens a MySQL pool whose sessions default to READ COMMITTED: a transaction
// that waited for a row lock must then see what the lock's previous holder committed, and
// setting it per transaction would cost a round trip each time. MariaDB and MySQL 8 name the
// variable differently.
func readCommitted(ctx context.Context, db *sql.DB, dsn string) (*sql.DB, error) {
	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		db.Close()
		return nil, err
	}
	db.Close()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	name := "transaction_isolation"
	if strings.Contains(version, "MariaDB") {
		name = "tx_isolation"
	}
	cfg.Params[name] = "'READ-COMMITTED'"
	db, err = sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, err
	}
	configurePool(db, dialect.MySQL)
	return db, db.PingContext(ctx)
}

func configurePool(db *sql.DB, d string) {
	if d == dialect.SQLite {
		// One file, one writer at a time: a few connections serve concurrent reads under
		// WAL without piling up writers waiting on the lock.
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
		return
	}
	db.SetMaxOpenConns(64)
	db.SetMaxIdleConns(32)
	db.SetConnMaxLifetime(30 * time.Minute)
	db.SetConnMaxIdleTime(5 * time.Minute)
}

// ping checks that the database answers. A new SQLite file that several processes open at
// once answers SQLITE_BUSY to all but one while that one switches it to WAL (a change that
// needs the file to itself and that SQLite's busy handler does not wait for): such a ping
// is tried again until ctx ends.
func ping(ctx context.Context, db *sql.DB) error {
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

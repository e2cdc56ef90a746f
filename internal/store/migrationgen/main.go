// Command migrationgen writes a new versioned migration for each dialect: the difference
// between the ent schema and what the existing migration files build. It replays the files
// on a scratch database (a temporary SQLite file; a temporary MySQL database on the server
// -mysql names), so run it after changing ent/schema:
//
//	make migration NAME=add_points_ledger
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	atlas "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite"

	"github.com/membergraph/membergraph/ent/migrate"
)

func main() {
	name := flag.String("name", "", "migration name, e.g. add_points_ledger")
	dirRoot := flag.String("dir", "ent/migrate/migrations", "root of the per-dialect migration directories")
	mysqlDSN := flag.String("mysql", "root@tcp(127.0.0.1:3306)/", "MySQL server (no database) to replay MySQL migrations on")
	flag.Parse()
	if *name == "" {
		log.Fatal("migrationgen: -name is required")
	}
	ctx := context.Background()

	tmp, err := os.MkdirTemp("", "migrationgen")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	lite, err := sql.Open("sqlite", "file:"+filepath.Join(tmp, "dev.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		log.Fatal(err)
	}
	if err := diff(ctx, lite, dialect.SQLite, filepath.Join(*dirRoot, "sqlite"), *name); err != nil {
		log.Fatalf("sqlite: %v", err)
	}

	server, err := sql.Open("mysql", *mysqlDSN)
	if err != nil {
		log.Fatal(err)
	}
	scratch := fmt.Sprintf("mg_migrationgen_%d", time.Now().UnixNano())
	if _, err := server.ExecContext(ctx, "CREATE DATABASE "+scratch); err != nil {
		log.Fatalf("mysql: creating scratch database on %s: %v", *mysqlDSN, err)
	}
	defer server.ExecContext(ctx, "DROP DATABASE "+scratch)
	my, err := sql.Open("mysql", strings.TrimSuffix(*mysqlDSN, "/")+"/"+scratch+"?parseTime=true")
	if err != nil {
		log.Fatal(err)
	}
	if err := diff(ctx, my, dialect.MySQL, filepath.Join(*dirRoot, "mysql"), *name); err != nil {
		log.Printf("mysql: %v", err)
		os.Exit(1)
	}
}

func diff(ctx context.Context, db *sql.DB, d, path, name string) error {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return err
	}
	dir, err := atlas.NewLocalDir(path)
	if err != nil {
		return err
	}
	return migrate.NewSchema(entsql.OpenDB(d, db)).NamedDiff(ctx, name,
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(d),
		schema.WithFormatter(atlas.DefaultFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
}

package store

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/membergraph/membergraph/ent/migrate/migrations"
)

// TestMySQLMigrationsNameOnlyPortableCollations: the MySQL migrations name utf8mb4_bin
// (MySQL 8 and MariaDB alike) and IDCollation, the one name collationFor rewrites for
// MySQL 8, so no column reaches a server with a collation that server lacks.
func TestMySQLMigrationsNameOnlyPortableCollations(t *testing.T) {
	re := regexp.MustCompile(`(?i)COLLATE[ =]+([a-z0-9_]+)`)
	files, err := fs.Glob(migrations.FS, "mysql/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no MySQL migrations: %v", err)
	}
	ids := 0
	for _, f := range files {
		b, _ := fs.ReadFile(migrations.FS, f)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			switch m[1] {
			case "utf8mb4_bin":
			case IDCollation:
				ids++
			default:
				t.Errorf("%s names collation %s", f, m[1])
			}
		}
	}
	if ids == 0 {
		t.Error("no id column has IDCollation")
	}
	r := strings.NewReplacer(IDCollation, idCollationMySQL)
	if got := r.Replace("`external_id` varchar(64) COLLATE " + IDCollation); !strings.HasSuffix(got, "utf8mb4_0900_bin") {
		t.Errorf("MySQL 8 rewrite: %s", got)
	}
}

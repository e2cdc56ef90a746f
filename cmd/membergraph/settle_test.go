package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/membergraph/membergraph/ent/auditentry"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
)

// TestSettleCommandRunsAndResettles: `settle` on a programme already settled this month is
// a new run (settling whoever has no score yet), `settle --resettle` recomputes everyone and
// is audited as the operating-system user, and a resettle of another month is refused.
func TestSettleCommandRunsAndResettles(t *testing.T) {
	bin := buildBinary(t)
	url := "sqlite://" + filepath.Join(t.TempDir(), "mg.db")
	env := []string{"MEMBERGRAPH_DATABASE_URL=" + url}
	if code, out := runBin(t, bin, env, "migrate"); code != 0 {
		t.Fatalf("migrate: exit %d\n%s", code, out)
	}
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := program.NewService(db.Client).EnsurePreset(context.Background(), program.JDPreset()); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"run 1 (settlement): DONE, 0 members settled", "run 2 (settlement): DONE, 0 members settled"} {
		if code, out := runBin(t, bin, env, "settle"); code != 0 || !strings.Contains(out, want) {
			t.Fatalf("settle #%d: exit %d, want %q in\n%s", i+1, code, want, out)
		}
	}
	if code, out := runBin(t, bin, env, "settle", "--resettle"); code != 0 || !strings.Contains(out, "run 3 (resettle): DONE") {
		t.Fatalf("settle --resettle: exit %d\n%s", code, out)
	}
	if code, out := runBin(t, bin, env, "settle", "--resettle", "--period", "2020-01"); code == 0 || !strings.Contains(out, "only the latest period") {
		t.Fatalf("settle --resettle of 2020-01: exit %d\n%s", code, out)
	}
	entries, err := db.Client.AuditEntry.Query().Where(auditentry.Action("resettle")).All(auth.SystemContext(context.Background(), 0))
	if err != nil || len(entries) != 1 || !strings.HasPrefix(entries[0].Actor, "ADMIN:cli:") {
		t.Fatalf("resettle audit entries: %+v %v", entries, err)
	}
}

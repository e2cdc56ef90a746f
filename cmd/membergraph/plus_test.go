package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	entmember "github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
)

// TestPlusExpireCommand: `membergraph plus expire` records a term whose end has passed,
// once: a second run finds nothing.
func TestPlusExpireCommand(t *testing.T) {
	bin := buildBinary(t)
	url := "sqlite://" + filepath.Join(t.TempDir(), "mg.db")
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	progs := program.NewService(db.Client)
	if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
		t.Fatal(err)
	}
	pid, _ := progs.IDByKey(ctx, program.PresetKey)
	// A trial started 40 days ago ended 10 days ago.
	clk := clock.NewManual(time.Now().Add(-40 * 24 * time.Hour))
	svc := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleService, Subject: "t", ProgramID: pid})
	m, err := member.NewService(db.Client, clk).Register(svc, member.Registration{ExternalID: "ex", Channel: entmember.RegistrationChannelAPP})
	if err != nil {
		t.Fatal(err)
	}
	ledger := points.NewLedger(db.Client, db.Dialect, clk, plus.NewChecker(db.Client))
	if _, err := plus.NewService(db.Client, ledger).Grant(svc, plus.GrantRequest{MemberID: m.ID, Plan: "TRIAL", Source: plus.SourceTrial, IdempotencyKey: "trial"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	env := []string{"MEMBERGRAPH_DATABASE_URL=" + url}
	for _, want := range []string{"recorded the end of 1 PLUS terms", "recorded the end of 0 PLUS terms"} {
		code, out := runBin(t, bin, env, "plus", "expire")
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("plus expire: exit %d, %q; want %q", code, out, want)
		}
	}
	if code, out := runBin(t, bin, env, "plus", "expire", "-h"); code != 0 || !strings.Contains(out, "-database-url") {
		t.Errorf("plus expire -h: exit %d\n%s", code, out)
	}
	if code, out := runBin(t, bin, env, "plus"); code == 0 || !strings.Contains(out, "plus expire") || !strings.Contains(out, "plus codes") {
		t.Errorf("plus without a command: exit %d\n%s", code, out)
	}
}

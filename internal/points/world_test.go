package points_test

import (
	"context"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
)

// world is where most ledger tests start: the JD preset programme, a manual clock at
// 2026-03-01 04:00 UTC, SERVICE and ADMIN contexts in the programme (subject "t"), and the
// members named, registered through the APP channel.
type world struct {
	pid        int
	clk        *clock.Manual
	svc, admin context.Context
}

func newWorld(t testing.TB, db *store.DB, members ...string) world {
	t.Helper()
	ctx := context.Background()
	progs := program.NewService(db.Client)
	if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
		t.Fatal(err)
	}
	pid, _ := progs.IDByKey(ctx, program.PresetKey)
	w := world{pid: pid, clk: clock.NewManual(time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)),
		svc:   auth.NewContext(ctx, auth.Viewer{Role: auth.RoleService, Subject: "t", ProgramID: pid}),
		admin: auth.NewContext(ctx, auth.Viewer{Role: auth.RoleAdmin, Subject: "t", ProgramID: pid})}
	for _, ext := range members {
		if _, err := memberpkg.NewService(db.Client, w.clk).Register(w.svc, memberpkg.Registration{ExternalID: ext, Channel: member.RegistrationChannelAPP}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

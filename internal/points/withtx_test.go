package points_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/pointaccount"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// TestRetriesStopBeforeTheDeadline: with a 1 s lock wait (innodb_lock_wait_timeout in the
// URL) and a 2.5 s deadline, a transaction blocked by another connection's row lock is tried
// twice (at 0 s and at about 1 s) and not a third time, since a third wait of 1 s would not
// end before the deadline: WithTx returns the database's lock wait timeout (answered
// UNAVAILABLE) at about 2 s, not the deadline's cut-off at 2.5 s nor five waits (5 s).
func TestRetriesStopBeforeTheDeadline(t *testing.T) {
	var b *storetest.Backend
	for _, c := range storetest.Backends() {
		if c.Name == "mysql" {
			b = &c
		}
	}
	if b == nil {
		t.Skip("row lock waits are MySQL's; set " + storetest.EnvMySQLDSN)
	}
	ctx := context.Background()
	raw := b.URL(t)
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
	}
	db, err := store.Open(ctx, raw+sep+"innodb_lock_wait_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	progs := program.NewService(db.Client)
	if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
		t.Fatal(err)
	}
	pid, _ := progs.IDByKey(ctx, program.PresetKey)
	clk := clock.NewManual(time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC))
	svc := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleService, Subject: "t", ProgramID: pid})
	m, err := memberpkg.NewService(db.Client, clk).Register(svc, memberpkg.Registration{ExternalID: "a", Channel: member.RegistrationChannelAPP})
	if err != nil {
		t.Fatal(err)
	}
	holder, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	var id int
	if err := holder.QueryRowContext(ctx, "SELECT id FROM point_accounts WHERE member_id = ? FOR UPDATE", m.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}

	ledger := points.NewLedger(db.Client, db.Dialect, clk, nil)
	dctx, cancel := context.WithTimeout(svc, 2500*time.Millisecond)
	defer cancel()
	attempts := 0
	began := time.Now()
	err = ledger.WithTx(dctx, func(tx *ent.Tx) error {
		attempts++
		_, err := tx.PointAccount.Query().Where(pointaccount.MemberID(m.ID)).ForUpdate().Only(dctx)
		return err
	})
	took := time.Since(began)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1205 {
		t.Fatalf("WithTx behind a held lock: %v, want the lock wait timeout (1205)", err)
	}
	if attempts != 2 {
		t.Errorf("%d attempts, want 2 (the third would outlast the deadline)", attempts)
	}
	if took >= 2500*time.Millisecond {
		t.Errorf("returned after %s, not before the 2.5 s deadline", took)
	}
	t.Logf("%d attempts, %s", attempts, took.Round(time.Millisecond))
}

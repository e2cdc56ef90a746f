package graph_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/partnergrant"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/partner"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/plugins/host"
)

// newTamperedPartnerAPI is newPartnerAPI's server with videovip's executable changed after
// it was trusted: videovip is FAILED ("not the trusted build"), the other partners run.
func newTamperedPartnerAPI(t *testing.T, db *store.DB) (*api, *host.Manager, *partner.Service) {
	t.Helper()
	dir := builtPlugins(t)
	f, err := os.OpenFile(filepath.Join(dir, "videovip"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("tampered"))
	f.Close()
	return newPartnerAPIIn(t, db, dir)
}

// internalText is what UNAVAILABLE told a MEMBER before: the host's reasons and errors.
var internalText = []string{"trusted", "RESTARTING", "FAILED", "exited", "dial", "circuit", "rpc error", "connection", "plugins"}

// TestClaimsAfterRestart: kill -9 of a partner's plugin while claims keep coming; those made
// while it restarts are UNAVAILABLE with a message naming nothing of the server's insides,
// and from the moment the partner's status reads RUNNING again every claim is granted (the
// circuit the failed calls opened does not refuse them for its cooldown).
func TestClaimsAfterRestart(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, mgr, _ := newPartnerAPI(t, db)
		a.register("alice", nil)
		alice := a.token(auth.RoleMember, "alice")
		pid := mgr.PID("slowpoke")
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		killed, n, unavailable := time.Now(), 0, 0
		for {
			var ps struct {
				Partners []struct{ Key, Status string }
			}
			a.must(alice, `{ partners { key status } }`, nil, &ps)
			running := false
			for _, p := range ps.Partners {
				running = running || (p.Key == "slowpoke" && p.Status == "RUNNING" && mgr.PID("slowpoke") != pid && mgr.PID("slowpoke") != 0)
			}
			if running {
				break
			}
			n++
			g, _, ue := a.claim(alice, "alice", "slowpoke", "FAST", fmt.Sprintf("during-%d", n), nil)
			if ue.Code == "UNAVAILABLE" {
				unavailable++
				for _, w := range internalText {
					if strings.Contains(ue.Message, w) {
						t.Errorf("a MEMBER reads %q in %q", w, ue.Message)
					}
				}
				if !strings.Contains(ue.Message, "retry") {
					t.Errorf("no retry hint in %q", ue.Message)
				}
			} else if ue.Code != "" || g.Status != "GRANTED" {
				t.Fatalf("claim while restarting: %+v %+v", g, ue)
			}
			if time.Since(killed) > 5*time.Second {
				t.Fatal("slowpoke not RUNNING again within 5 s")
			}
		}
		for i := range 20 {
			if g, _, ue := a.claim(alice, "alice", "slowpoke", "FAST", fmt.Sprintf("after-%d", i), nil); ue.Code != "" || g.Status != "GRANTED" {
				info, _ := mgr.Info("slowpoke")
				t.Fatalf("claim %d once RUNNING: %+v %+v (calls %v)", i, g, ue, info.Calls)
			}
		}
		t.Logf("%d claims while restarting, %d UNAVAILABLE; 20 of 20 granted once RUNNING", n, unavailable)
	})
}

// TestClaimOfFailedPartner: a partner that is FAILED (its executable is not the trusted
// build) answers a MEMBER's claim UNAVAILABLE with a generic message and an ADMIN's with the
// reason; the claim stays PENDING while the partner is down and EXPIRES once a day has
// passed (partner.PendingExpiry), answered EXPIRED on every retry of its key. A claim of a
// running partner left PENDING is finished by the reconciler even behind 500 PENDING
// grants of the failed one.
func TestClaimOfFailedPartner(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, mgr, svc := newTamperedPartnerAPI(t, db)
		if info, _ := mgr.Info("videovip"); info.Status != host.Failed {
			t.Fatalf("the tampered videovip: %+v", info)
		}
		a.register("alice", nil)
		alice, admin := a.token(auth.RoleMember, "alice"), a.token(auth.RoleAdmin, "ops")
		_, _, ue := a.claim(alice, "alice", "videovip", "VIP_YEAR", "vip-1", nil)
		if ue.Code != "UNAVAILABLE" || !strings.Contains(ue.Message, "retry with the same idempotencyKey") {
			t.Fatalf("MEMBER's claim of a FAILED partner: %+v", ue)
		}
		for _, w := range internalText {
			if strings.Contains(ue.Message, w) {
				t.Errorf("a MEMBER reads %q in %q", w, ue.Message)
			}
		}
		if _, _, ue := a.claim(admin, "alice", "videovip", "VIP_YEAR", "vip-1", nil); ue.Code != "UNAVAILABLE" || !strings.Contains(ue.Message, "not the trusted build") {
			t.Fatalf("ADMIN's retry of the claim: %+v, want the reason", ue)
		}

		sys := auth.SystemContext(context.Background(), 1)
		m, err := db.Client.Member.Query().Only(sys)
		if err != nil {
			t.Fatal(err)
		}
		now := a.clock.Now()
		rows := make([]*ent.PartnerGrantCreate, 500)
		for i := range rows {
			rows[i] = db.Client.PartnerGrant.Create().SetProgramID(m.ProgramID).SetMemberID(m.ID).SetPartnerKey("videovip").SetBenefitKey("VIP_YEAR").
				SetIdempotencyKey(fmt.Sprintf("stuck-%d", i)).SetBodyHash("x").SetStatus(partnergrant.StatusPENDING).SetCreatedAt(now).SetUpdatedAt(now)
		}
		if err := db.Client.PartnerGrant.CreateBulk(rows...).Exec(sys); err != nil {
			t.Fatal(err)
		}
		// As a crash between the record and the plugin's answer leaves a claim.
		left, err := db.Client.PartnerGrant.Create().SetProgramID(m.ProgramID).SetMemberID(m.ID).SetPartnerKey("slowpoke").SetBenefitKey("FAST").
			SetIdempotencyKey("left-pending").SetBodyHash("x").SetStatus(partnergrant.StatusPENDING).SetCreatedAt(now).SetUpdatedAt(now).Save(sys)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := svc.Reconcile(context.Background(), 0); err != nil || n != 1 {
			t.Fatalf("reconcile: %d finished, %v; want 1 (slowpoke's)", n, err)
		}
		if g := db.Client.PartnerGrant.GetX(sys, left.ID); g.Status != partnergrant.StatusGRANTED {
			t.Fatalf("slowpoke's PENDING grant behind 500 of videovip: %s", g.Status)
		}

		// Just under a day: still PENDING, still retried. Past it: EXPIRED, all 501.
		a.clock.Advance(partner.PendingExpiry - time.Minute)
		if n, err := svc.Reconcile(context.Background(), 0); err != nil || n != 0 {
			t.Fatalf("reconcile before the expiry: %d, %v", n, err)
		}
		a.clock.Advance(2 * time.Minute)
		if n, err := svc.Reconcile(context.Background(), 0); err != nil || n != 501 {
			t.Fatalf("reconcile after the expiry: %d, %v; want 501", n, err)
		}
		for _, tok := range []string{alice, admin} {
			g, _, ue := a.claim(tok, "alice", "videovip", "VIP_YEAR", "vip-1", nil)
			if ue.Code != "EXPIRED" || g.Status != "EXPIRED" {
				t.Fatalf("the expired claim's key again: %+v %+v", g, ue)
			}
		}
		pending, err := db.Client.PartnerGrant.Query().Where(partnergrant.StatusEQ(partnergrant.StatusPENDING)).Count(sys)
		if err != nil || pending != 0 {
			t.Fatalf("%d grants still PENDING, %v", pending, err)
		}
	})
}

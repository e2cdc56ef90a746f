package member_test

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
	"github.com/membergraph/membergraph/internal/storetest"
)

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678":    "138****5678",
		"+8613812345678": "+861******5678",
		"12345":          "*****",
	} {
		if got := memberpkg.MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPrivacyBelowTheAPI reads members straight through the data layer: the rules hold
// without any resolver in the way.
func TestPrivacyBelowTheAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		programs := program.NewService(db.Client)
		if _, err := programs.EnsurePreset(ctx, program.JDPreset()); err != nil {
			t.Fatal(err)
		}
		pid, err := programs.IDByKey(ctx, program.PresetKey)
		if err != nil {
			t.Fatal(err)
		}
		svc := memberpkg.NewService(db.Client, clock.NewManual(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)))
		admin := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleAdmin, ProgramID: pid})
		for _, id := range []string{"alice", "bob"} {
			if _, err := svc.Register(admin, memberpkg.Registration{ExternalID: id, Channel: member.RegistrationChannelAPP}); err != nil {
				t.Fatal(err)
			}
		}
		count := func(v *auth.Viewer) (int, error) {
			c := ctx
			if v != nil {
				c = auth.NewContext(ctx, *v)
			}
			return db.Client.Member.Query().Count(c)
		}
		for name, tc := range map[string]struct {
			v    *auth.Viewer
			want int
			err  bool
		}{
			"no viewer":           {nil, 0, true},
			"admin":               {&auth.Viewer{Role: auth.RoleAdmin, ProgramID: pid}, 2, false},
			"admin of another":    {&auth.Viewer{Role: auth.RoleAdmin, ProgramID: pid + 1}, 0, false},
			"member self":         {&auth.Viewer{Role: auth.RoleMember, Subject: "alice", ProgramID: pid}, 1, false},
			"member unregistered": {&auth.Viewer{Role: auth.RoleMember, Subject: "carol", ProgramID: pid}, 0, false},
			"store":               {&auth.Viewer{Role: auth.RoleStore, Subject: "s1", ProgramID: pid}, 0, false},
			"partner":             {&auth.Viewer{Role: auth.RolePartner, Subject: "p1", ProgramID: pid}, 0, false},
		} {
			n, err := count(tc.v)
			if (err != nil) != tc.err || n != tc.want {
				t.Errorf("%s: count = %d, %v; want %d (error %v)", name, n, err, tc.want, tc.err)
			}
		}
		// Writes: a member cannot touch another member, nor anyone create members.
		alice := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleMember, Subject: "alice", ProgramID: pid})
		if n, err := db.Client.Member.Update().Where(member.ExternalID("bob")).SetNickname("x").Save(alice); err == nil && n > 0 {
			t.Errorf("alice updated bob (%d rows)", n)
		}
		tierID, _ := db.Client.Tier.Query().FirstID(admin)
		if _, err := db.Client.Member.Create().SetProgramID(pid).SetExternalID("mallory").SetRegistrationChannel(member.RegistrationChannelWEB).
			SetRegisteredAt(time.Now()).SetUpdatedAt(time.Now()).SetTierID(tierID).Save(alice); err == nil {
			t.Error("a MEMBER created a member")
		}
		otherAdmin := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleAdmin, ProgramID: pid + 1})
		if _, err := db.Client.Member.Create().SetProgramID(pid).SetExternalID("x2").SetRegistrationChannel(member.RegistrationChannelWEB).
			SetRegisteredAt(time.Now()).SetUpdatedAt(time.Now()).SetTierID(tierID).Save(otherAdmin); err == nil {
			t.Error("an ADMIN of another programme created a member here")
		}
		if _, err := db.Client.Tier.Update().SetName("x").Save(auth.NewContext(ctx, auth.Viewer{Role: auth.RoleService, ProgramID: pid})); err == nil {
			t.Error("SERVICE changed the tier table")
		}
	})
}

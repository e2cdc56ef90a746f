package rule_test

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/schema/rule"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// TestRulesSQLMatchPolicies: MemberSQL and MemberDataSQL let each viewer read exactly the
// rows ent's privacy policies let it read — the members, and a member-owned table's rows —
// for every role, with and without a viewer, in and out of the programme.
func TestRulesSQLMatchPolicies(t *testing.T) {
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
		sys := auth.SystemContext(ctx, pid)
		for i, id := range []string{"alice", "bob"} {
			m, err := svc.Register(sys, memberpkg.Registration{ExternalID: id, Channel: member.RegistrationChannelAPP})
			if err != nil {
				t.Fatal(err)
			}
			for month := 202601; month <= 202601+i; month++ {
				if _, err := db.Client.ActivityMonth.Create().SetProgramID(pid).SetMemberID(m.ID).SetMonth(month).Save(sys); err != nil {
					t.Fatal(err)
				}
			}
		}
		ids := func(c context.Context, table string, cond string, args []any) []int {
			rows, err := db.Client.QueryContext(c, "SELECT `t`.`id` FROM `"+table+"` AS `t` WHERE "+cond, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []int
			for rows.Next() {
				var id int
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				out = append(out, id)
			}
			sort.Ints(out)
			return out
		}
		same := func(a, b []int) bool {
			sort.Ints(a)
			return slices.Equal(a, b)
		}
		viewers := map[string]*auth.Viewer{
			"no viewer":           nil,
			"admin":               {Role: auth.RoleAdmin, ProgramID: pid},
			"admin of another":    {Role: auth.RoleAdmin, ProgramID: pid + 1},
			"service":             {Role: auth.RoleService, ProgramID: pid},
			"member self":         {Role: auth.RoleMember, Subject: "alice", ProgramID: pid},
			"member of another":   {Role: auth.RoleMember, Subject: "alice", ProgramID: pid + 1},
			"member unregistered": {Role: auth.RoleMember, Subject: "carol", ProgramID: pid},
			"store":               {Role: auth.RoleStore, Subject: "s1", ProgramID: pid},
			"partner":             {Role: auth.RolePartner, Subject: "p1", ProgramID: pid},
		}
		for name, v := range viewers {
			c := ctx
			if v != nil {
				c = auth.NewContext(ctx, *v)
			}
			wantMembers, entErr := db.Client.Member.Query().IDs(c)
			cond, args, err := rule.MemberSQL(c, "t")
			if (err != nil) != (entErr != nil) {
				t.Errorf("%s: members: MemberSQL error %v, ent's %v", name, err, entErr)
			} else if err == nil {
				if got := ids(c, "members", cond, args); !same(wantMembers, got) {
					t.Errorf("%s: members: MemberSQL reads %v, the policy %v", name, got, wantMembers)
				}
			}
			wantMonths, entErr := db.Client.ActivityMonth.Query().IDs(c)
			cond, args, err = rule.MemberDataSQL(c, "t")
			if (err != nil) != (entErr != nil) {
				t.Errorf("%s: activity months: MemberDataSQL error %v, ent's %v", name, err, entErr)
			} else if err == nil {
				if got := ids(c, "activity_months", cond, args); !same(wantMonths, got) {
					t.Errorf("%s: activity months: MemberDataSQL reads %v, the policy %v", name, got, wantMonths)
				}
			}
			if name == "member self" && (len(wantMembers) != 1 || len(wantMonths) != 1) {
				t.Errorf("alice reads %d members and %d months, want 1 and 1", len(wantMembers), len(wantMonths))
			}
		}
		if got := ids(sys, "activity_months", "1 = 1", nil); len(got) != 3 {
			t.Errorf("%d months, want 3", len(got))
		}
	})
}

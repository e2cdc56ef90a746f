package segment_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/segment"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/tag"
	"github.com/membergraph/membergraph/internal/tag/cond"
)

// TestJoinedAgreesWithExists: the segment statements join each tag (cond.Joined); they must
// select exactly the members of the general EXISTS predicate (cond.Compile). Eight members
// m1–m8: tag a on m1–m4, tag b on m3–m6, women m2, m4, m6, m8, real name verified m5, m8.
// Worked by hand:
//   - a AND NOT b = {1, 2}; FEMALE AND NOT verified = {2, 4, 6}; a AND b AND MALE = {3};
//     their OR = {1, 2, 3, 4, 6} (tag a appears twice: one join serves both leaves);
//   - NOT of that OR = {5, 7, 8};
//   - NOT a AND NOT b = {7, 8}; NOT (a OR b) is the same {7, 8};
//   - b OR verified = {3, 4, 5, 6, 8}.
func TestJoinedAgreesWithExists(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		progs := program.NewService(db.Client)
		if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
			t.Fatal(err)
		}
		pid, err := progs.IDByKey(ctx, program.PresetKey)
		if err != nil {
			t.Fatal(err)
		}
		admin := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleAdmin, Subject: "ops", ProgramID: pid})
		clk := clock.NewManual(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
		tags := tag.NewService(db.Client, clk, db.Dialect, tag.Config{})
		ids := map[int]int{} // member number → id
		for i := 1; i <= 8; i++ {
			g := member.GenderMALE
			if i%2 == 0 {
				g = member.GenderFEMALE
			}
			verified := i == 5 || i == 8
			ext := fmt.Sprintf("m%d", i)
			m, err := memberpkg.NewService(db.Client, clk).Register(admin, memberpkg.Registration{ExternalID: ext,
				Channel: member.RegistrationChannelAPP, Profile: memberpkg.Profile{Gender: &g, RealNameVerified: &verified}})
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = m.ID
			if i <= 4 {
				if _, err := tags.TagMember(admin, ext, "a", "A", "test"); err != nil {
					t.Fatal(err)
				}
			}
			if i >= 3 && i <= 6 {
				if _, err := tags.TagMember(admin, ext, "b", "B", "test"); err != nil {
					t.Fatal(err)
				}
			}
		}
		yes, no := true, false
		a, b := cond.Node{Tag: "a"}, cond.Node{Tag: "b"}
		female, male := cond.Node{Field: cond.Gender, Values: []string{"FEMALE"}}, cond.Node{Field: cond.Gender, Values: []string{"MALE"}}
		union := cond.Node{Or: []cond.Node{
			{And: []cond.Node{a, {Not: &b}}},
			{And: []cond.Node{female, {Field: cond.RealName, Flag: &no}}},
			{And: []cond.Node{a, b, male}},
		}}
		cases := []struct {
			name   string
			filter cond.Node
			want   []int
		}{
			{"or of ands", union, []int{1, 2, 3, 4, 6}},
			{"not of it", cond.Node{Not: &union}, []int{5, 7, 8}},
			{"neither tag", cond.Node{And: []cond.Node{{Not: &a}, {Not: &b}}}, []int{7, 8}},
			{"not either tag", cond.Node{Not: &cond.Node{Or: []cond.Node{a, b}}}, []int{7, 8}},
			{"b or verified", cond.Node{Or: []cond.Node{b, {Field: cond.RealName, Flag: &yes}}}, []int{3, 4, 5, 6, 8}},
		}
		env, _, err := tag.Env(ctx, db.Client, pid, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		svc := segment.NewService(db.Client, clk)
		sys := auth.SystemContext(ctx, pid)
		for _, c := range cases {
			var want []int
			for _, i := range c.want {
				want = append(want, ids[i])
			}
			// The general predicate, as tag rules and the segments before Joined used it.
			where, args := cond.Compile(c.filter, env)
			general := queryIDs(t, db, "SELECT m.`id` FROM `members` m WHERE m.`program_id` = ? AND "+where+" ORDER BY m.`id`", append([]any{pid}, args...)...)
			if !slices.Equal(general, want) {
				t.Errorf("%s: the EXISTS predicate selects %v, want %v", c.name, general, want)
			}
			seg, err := svc.Create(admin, segment.Input{Key: fmt.Sprintf("s%d", len(c.name)*100+len(c.want)), Name: c.name, Filter: c.filter})
			if err != nil {
				t.Fatal(err)
			}
			got, err := svc.MemberIDs(sys, seg.ID, 0, 100)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("%s: members %v (%v), want %v", c.name, got, err, want)
			}
			if n, err := svc.Count(sys, seg.ID); err != nil || n != len(want) {
				t.Errorf("%s: count %d (%v), want %d", c.name, n, err, len(want))
			}
			if n, err := svc.Preview(admin, c.filter); err != nil || n != len(want) {
				t.Errorf("%s: preview %d (%v), want %d", c.name, n, err, len(want))
			}
		}
	})
}

func queryIDs(t *testing.T, db *store.DB, q string, args ...any) []int {
	t.Helper()
	rows, err := db.Client.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

package segment_test

import (
	"context"
	"errors"
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
	"github.com/membergraph/membergraph/internal/tag/cond"
	"github.com/membergraph/membergraph/internal/usererr"
)

// TestCountAndMemberIDs: of seven members, the 1st, 3rd, 4th and 7th registered are
// female; "female and not real-name verified" leaves out the 4th (verified) → the 1st, 3rd
// and 7th. Count says 3; MemberIDs pages them two at a time in ascending id order from any
// id; the preview of the same filter counts 3 too.
func TestCountAndMemberIDs(t *testing.T) {
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
		var ids []int
		for i := 1; i <= 7; i++ {
			g := member.GenderMALE
			if i == 1 || i == 3 || i == 4 || i == 7 {
				g = member.GenderFEMALE
			}
			verified := i == 4
			m, err := memberpkg.NewService(db.Client, clk).Register(admin, memberpkg.Registration{ExternalID: fmt.Sprintf("m%d", i),
				Channel: member.RegistrationChannelAPP, Profile: memberpkg.Profile{Gender: &g, RealNameVerified: &verified}})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		no := false
		filter := cond.Node{And: []cond.Node{{Field: cond.Gender, Values: []string{"FEMALE"}}, {Field: cond.RealName, Flag: &no}}}
		svc := segment.NewService(db.Client, clk)
		seg, err := svc.Create(admin, segment.Input{Key: "f", Name: "Unverified women", Filter: filter})
		if err != nil {
			t.Fatal(err)
		}
		want := []int{ids[0], ids[2], ids[6]}
		// A campaign runner reads segments as the platform.
		sys := auth.SystemContext(ctx, pid)
		if n, err := svc.Count(sys, seg.ID); err != nil || n != 3 {
			t.Errorf("count %d (%v), want 3", n, err)
		}
		if n, err := svc.Preview(admin, filter); err != nil || n != 3 {
			t.Errorf("preview %d (%v), want 3", n, err)
		}
		var got []int
		for after := 0; ; {
			page, err := svc.MemberIDs(sys, seg.ID, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1]
		}
		if !slices.Equal(got, want) {
			t.Errorf("members %v, want %v", got, want)
		}
		if page, err := svc.MemberIDs(sys, seg.ID, ids[2], 10); err != nil || !slices.Equal(page, want[2:]) {
			t.Errorf("after the 3rd: %v (%v), want %v", page, err, want[2:])
		}
		if _, err := svc.MemberIDs(sys, seg.ID, 0, segment.MaxMembersPage+1); err == nil {
			t.Error("a page above the limit was served")
		}
		if _, err := svc.Count(sys, seg.ID+1000); !errors.Is(err, segment.ErrNotFound) {
			t.Errorf("an unknown segment: %v", err)
		}
		if _, err := svc.Create(admin, segment.Input{Key: "f", Name: "again", Filter: filter}); err == nil {
			t.Error("a second segment of one key was saved")
		} else if l, ok := usererr.From(err); !ok || l[0].Code != usererr.AlreadyExists {
			t.Errorf("a second segment of one key: %v", err)
		}
	})
}

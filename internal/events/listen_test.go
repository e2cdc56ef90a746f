package events_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/membergraph/membergraph/ent/event"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// TestCommitListener: a listener hears, once the slice committed, the members whose events
// were accepted — m1 and m3 of a batch for m3, m1 and an unknown member, in ascending id
// order; it already sees their events stored (it runs after the commit); a replay of the
// batch tells it nothing, since nothing new was applied.
func TestCommitListener(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newCounter(t, db)
		for _, ext := range []string{"m1", "m2", "m3"} {
			c.register(t, ext)
		}
		var mu sync.Mutex
		var heard [][]int
		var stored []int
		c.svc.AddCommitListener(func(ctx context.Context, programID int, ids []int) {
			n, err := db.Client.Event.Query().Where(event.ProgramID(programID)).Count(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			heard = append(heard, ids)
			stored = append(stored, n)
		})
		now := c.clk.Now()
		in := []events.Input{threeLines("k3", "m3", "O3", now), threeLines("k1", "m1", "O1", now), threeLines("kx", "nobody", "OX", now)}
		if _, err := c.svc.Record(c.ctx, in); err != nil {
			t.Fatal(err)
		}
		want, err := db.Client.Member.Query().Where(member.ExternalIDIn("m1", "m3")).Order(member.ByID()).IDs(c.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(heard) != 1 || !slices.Equal(heard[0], want) || stored[0] != 2 {
			t.Fatalf("heard %v with %v events stored, want [%v] with 2", heard, stored, want)
		}
		if _, err := c.svc.Record(c.ctx, in); err != nil {
			t.Fatal(err)
		}
		if len(heard) != 1 {
			t.Errorf("a replay was told: %v", heard)
		}
	})
}

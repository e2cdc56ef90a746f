package plus_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent"
	entmember "github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// listener records what it heard.
type listener struct {
	mu    sync.Mutex
	heard []string
}

func (l *listener) TermStarted(_ context.Context, t *ent.PlusTerm) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.heard = append(l.heard, fmt.Sprintf("start %s", t.IdempotencyKey))
}

func (l *listener) TermEnded(_ context.Context, t *ent.PlusTerm, why string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.heard = append(l.heard, fmt.Sprintf("end %s %s", t.IdempotencyKey, why))
}

func (l *listener) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.heard
	l.heard = nil
	return h
}

type world struct {
	svc   *plus.Service
	clock *clock.Manual
	ctx   context.Context // a SERVICE viewer
	ids   map[string]int
}

func newWorld(t *testing.T, db *store.DB, members ...string) *world {
	t.Helper()
	ctx := context.Background()
	progs := program.NewService(db.Client)
	if _, err := progs.EnsurePreset(ctx, program.JDPreset()); err != nil {
		t.Fatal(err)
	}
	pid, _ := progs.IDByKey(ctx, program.PresetKey)
	clk := clock.NewManual(time.Date(2027, 5, 1, 4, 0, 0, 0, time.UTC))
	ledger := points.NewLedger(db.Client, db.Dialect, clk, plus.NewChecker(db.Client))
	w := &world{svc: plus.NewService(db.Client, ledger), clock: clk, ids: map[string]int{},
		ctx: auth.NewContext(ctx, auth.Viewer{Role: auth.RoleService, Subject: "shop", ProgramID: pid})}
	for _, m := range members {
		mm, err := member.NewService(db.Client, clk).Register(w.ctx, member.Registration{ExternalID: m, Channel: entmember.RegistrationChannelAPP})
		if err != nil {
			t.Fatal(err)
		}
		w.ids[m] = mm.ID
	}
	return w
}

func (w *world) buy(m, key string) (*plus.GrantResult, error) {
	return w.svc.Grant(w.ctx, plus.GrantRequest{MemberID: w.ids[m], Plan: "ANNUAL", Source: plus.SourcePurchase,
		PaidCents: 14900, PaymentRef: "pay-" + key, IdempotencyKey: key})
}

// TestListenersAndEnds: listeners hear a term start once (not on a replay), a cancellation
// at once, and an expiry when the job records it, once however often it runs.
func TestListenersAndEnds(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, "a", "b")
		l := &listener{}
		w.svc.AddListener(l)
		first, err := w.buy("a", "a-1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.buy("a", "a-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.buy("b", "b-1"); err != nil {
			t.Fatal(err)
		}
		if got := l.take(); !slices.Equal(got, []string{"start a-1", "start b-1"}) {
			t.Errorf("heard %v", got)
		}
		if _, err := w.svc.Cancel(w.ctx, plus.CancelRequest{MemberID: w.ids["b"], Refund: true, Reason: "asked", IdempotencyKey: "b-cancel"}); err != nil {
			t.Fatal(err)
		}
		if got := l.take(); !slices.Equal(got, []string{"end b-1 REFUNDED"}) {
			t.Errorf("heard %v on cancel", got)
		}
		if n, err := w.svc.RecordEnds(w.ctx); err != nil || n != 0 {
			t.Errorf("before a's end: recorded %d, %v", n, err)
		}
		w.clock.Set(first.Term.EndAt)
		for range 2 {
			if _, err := w.svc.RecordEnds(w.ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := l.take(); !slices.Equal(got, []string{"end a-1 EXPIRED"}) {
			t.Errorf("heard %v at a's end", got)
		}
	})
}

// TestConcurrentGrants: 12 goroutines buy for one member at once, two by two under the
// same key: six terms, chained end to start without a gap or an overlap.
func TestConcurrentGrants(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, "c")
		var wg sync.WaitGroup
		errs := make(chan error, 12)
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := w.buy("c", fmt.Sprintf("c-%d", i/2)); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		terms, err := w.svc.Terms(w.ctx, w.ids["c"])
		if err != nil {
			t.Fatal(err)
		}
		if len(terms) != 6 {
			t.Fatalf("%d terms, want 6", len(terms))
		}
		slices.Reverse(terms) // oldest first
		if !terms[0].StartAt.Equal(w.clock.Now()) {
			t.Errorf("the chain starts %v, want now %v", terms[0].StartAt, w.clock.Now())
		}
		for i := 1; i < len(terms); i++ {
			if !terms[i].StartAt.Equal(terms[i-1].EndAt) {
				t.Errorf("term %d starts %v, the one before ends %v", i, terms[i].StartAt, terms[i-1].EndAt)
			}
		}
		// Six annual terms from 1 May 2027 12:00 in Asia/Shanghai end on 1 May 2033 12:00.
		if want := time.Date(2033, 5, 1, 4, 0, 0, 0, time.UTC); !terms[5].EndAt.Equal(want) {
			t.Errorf("the chain ends %v, want %v", terms[5].EndAt, want)
		}
	})
}

// TestPurchaseAfterCancelStartsNow: a cancel ends the running term now and cancels the one
// stacked after it, so a purchase after the cancel starts at once, not where the cancelled
// stacked term would have begun a year later.
func TestPurchaseAfterCancelStartsNow(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, "d")
		for _, k := range []string{"d-1", "d-2"} {
			if _, err := w.buy("d", k); err != nil {
				t.Fatal(err)
			}
		}
		w.clock.Advance(24 * time.Hour)
		if _, err := w.svc.Cancel(w.ctx, plus.CancelRequest{MemberID: w.ids["d"], Reason: "moved abroad", IdempotencyKey: "d-cancel"}); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Hour)
		got, err := w.buy("d", "d-3")
		if err != nil {
			t.Fatal(err)
		}
		if now := w.clock.Now(); !got.Term.StartAt.Equal(now) {
			t.Errorf("the purchase after the cancel starts %v, want now %v", got.Term.StartAt, now)
		}
		// One year from 2 May 2027 13:00 in Asia/Shanghai.
		if want := time.Date(2028, 5, 2, 5, 0, 0, 0, time.UTC); !got.Term.EndAt.Equal(want) {
			t.Errorf("it ends %v, want %v", got.Term.EndAt, want)
		}
	})
}

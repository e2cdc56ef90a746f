package events

import (
	"context"
	"sync"

	"github.com/membergraph/membergraph/internal/auth"
)

// A hot member — many callers reporting events of one member at the same moment, each in a
// batch of its own — would queue one transaction per call on the member's account lock, each
// paying its own commit. So the one-member slices of concurrent batches join, as the
// ledger's spends do (points/spendgroup.go): the first to come leads and runs its slice; the
// slices of the same member that arrive meanwhile wait, and when the leader has committed the
// first of them leads them all as one slice — decided one after another in memory, in the
// order they came, each event with its own key, result and field, written and committed
// once. A fault fails the whole group, which every caller answers as a fault of its own call
// (a retry answers DUPLICATE for what committed, as for any slice). A slice of several
// members never joins: its transaction already holds many, and joining two would make one
// transaction of two batches' locks.

// MaxJoined bounds how many slices one joined transaction takes (at most MaxJoined×MaxBatch
// events); the rest wait for the next.
const MaxJoined = 64

// joinKey: a joined transaction runs under its leader's viewer (the privacy rules see it),
// so only slices of the same viewer, hence programme, join.
type joinKey struct {
	viewer   auth.Viewer
	memberID int
}

// joiner is a one-member slice of one call waiting for its transaction.
type joiner struct {
	env  *batchEnv
	sl   slice
	out  []Result
	done chan error     // the group's outcome, when another led it
	lead chan []*joiner // the group to lead, this joiner first
}

type joins struct {
	mu     sync.Mutex
	queues map[joinKey][]*joiner // present while the member has a leader
	// beforeGroup, when set (by tests), runs when a leader is about to run its group.
	beforeGroup func()
}

// applyJoined is apply for a slice of one member, joined with the same member's slices of
// concurrent calls.
func (s *Service) applyJoined(ctx context.Context, env *batchEnv, sl slice, out []Result) error {
	v, _ := auth.FromContext(ctx)
	k := joinKey{v, sl.members[0]}
	me := &joiner{env: env, sl: sl, out: out, done: make(chan error, 1), lead: make(chan []*joiner, 1)}
	j := &s.joins
	j.mu.Lock()
	if j.queues == nil {
		j.queues = map[joinKey][]*joiner{}
	}
	group := []*joiner{me}
	if q, led := j.queues[k]; led {
		j.queues[k] = append(q, me)
		j.mu.Unlock()
		// No ctx here: once queued, the slice is the group's, and its leader answers it.
		select {
		case err := <-me.done:
			return err
		case group = <-me.lead:
		}
	} else {
		j.queues[k] = nil
		j.mu.Unlock()
	}
	err := s.applyGroup(ctx, group)
	for _, w := range group[1:] {
		w.done <- err
	}
	// Hand the member to the first waiting slice with those behind it, or let it go.
	j.mu.Lock()
	if q := j.queues[k]; len(q) > 0 {
		next := q[:min(len(q), MaxJoined)]
		j.queues[k] = q[len(next):]
		next[0].lead <- next
	} else {
		delete(j.queues, k)
	}
	j.mu.Unlock()
	return err
}

// applyGroup applies the slices of group, one member's, as one slice: their jobs in group
// order, renumbered into one result list and the results handed back to each call's out.
// It runs within the leader's deadline but not its cancellation: the others' calls wait on
// it.
func (s *Service) applyGroup(ctx context.Context, group []*joiner) error {
	if s.joins.beforeGroup != nil {
		s.joins.beforeGroup()
	}
	if len(group) == 1 {
		return s.apply(ctx, group[0].env, group[0].sl, group[0].out)
	}
	gctx := context.WithoutCancel(ctx)
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		gctx, cancel = context.WithDeadline(gctx, dl)
		defer cancel()
	}
	type origin struct {
		w     *joiner
		index int
	}
	var back []origin
	merged := slice{members: group[0].sl.members}
	for _, w := range group {
		for _, jb := range w.sl.jobs {
			back = append(back, origin{w, jb.index})
			jb.index = len(back) - 1
			merged.jobs = append(merged.jobs, jb)
		}
	}
	out := make([]Result, len(back))
	if err := s.apply(gctx, group[0].env, merged, out); err != nil {
		return err
	}
	for i, o := range back {
		o.w.out[o.index] = out[i]
	}
	return nil
}

package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	entcampaign "github.com/membergraph/membergraph/ent/campaign"
	"github.com/membergraph/membergraph/ent/campaigncursor"
	"github.com/membergraph/membergraph/ent/event"
	"github.com/membergraph/membergraph/ent/privacy"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/score"
)

// Event triggers are evaluated from committed rows, never from a callback after the commit:
// the events table (an accepted event's kind, for the event kinds) and the outbox (tier
// changes, medal levels, PLUS terms), both written in the transaction of the change. A
// consumer reads each source after a position kept in campaign_cursors, under a lease so
// that one replica reads at a time, and runs the matching campaigns for each row's member
// with a run key made of the row (its kind and id), so that reading a row again after a
// crash, or on a second replica, finds the run done: each (campaign, run, member) happens
// once whichever process gets there.

// The trigger sources, the names of their cursor rows.
const (
	SourceEvents = "events"
	SourceOutbox = "outbox"
)

// Sources are the trigger sources in the order a step reads them.
var Sources = []string{SourceEvents, SourceOutbox}

// sourceOf is where the rows of an EVENT campaign's trigger are read.
func sourceOf(kind string) string {
	switch kind {
	case EventPlusStart, EventPlusEnd, EventTierChange, EventMedalLevel:
		return SourceOutbox
	}
	return SourceEvents
}

// TriggerConfig tunes the event triggers' consumer; zero fields take the defaults. Its
// durations are of the wall clock, not the programme's injected one: they time processes
// and transactions in flight (how long a dead replica holds a source, how long an id may
// stay uncommitted), which a clock started elsewhere (--clock-start) must not stretch.
type TriggerConfig struct {
	// Owner names this process in the lease (default host, process id and a random suffix).
	Owner string
	// Poll is how long the consumer sleeps when it found nothing to read (default 1 s): about
	// the most an event's campaigns lag its commit.
	Poll time.Duration
	// Lease is how long a consumer holds a source after its last step (default 30 s): another
	// replica reads on once it ran out, which is how a dead replica's work is taken over.
	Lease time.Duration
	// Batch is how many rows of a source one step reads (default 500).
	Batch int
	// GapWait is how long a missing id is waited for (default 60 s). Ids are taken when a
	// transaction writes, not when it commits (MySQL), so a row may commit after one with a
	// higher id; past GapWait the id is taken for a transaction that rolled back.
	GapWait time.Duration
}

func (c *TriggerConfig) withDefaults() {
	if c.Owner == "" {
		c.Owner = outbox.ReaderName()
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 500
	}
	if c.GapWait <= 0 {
		c.GapWait = time.Minute
	}
}

// maxGap bounds the ids one read may find missing and wait for: beyond, the jump is not
// transactions in flight (no batch writes that many rows) but ids never used.
const maxGap = 50_000

// reader is what this process knows of a source beyond its stored position: next, the
// highest id read, and the ids below it not read yet (in flight or rolled back) since when.
type reader struct {
	next int
	gaps map[int]time.Time
}

func (r *reader) position() int {
	low := r.next
	for id := range r.gaps {
		low = min(low, id-1)
	}
	return low
}

// TriggerStats counts what a consumer step did.
type TriggerStats struct {
	Read int    // rows read of the sources
	Runs int    // runs that hit a member (the member in the segment, the campaign matching)
	Held string // a source another process held the lease of: its owner
	// Deferred counts sources stopped at a row that triggers a NOTIFY campaign, which only a
	// process with the partner plugins (serve) sends.
	Deferred int
}

// row is a source's row as the triggers see it.
type row struct {
	id, programID, memberID int
	kind                    string // the event kind, or the outbox message's type
	data                    json.RawMessage
}

type triggerState struct {
	mu      sync.Mutex // one step at a time in this process
	readers map[string]*reader
	// draining: a DrainTriggers step, which stops at a NOTIFY campaign's row it cannot send
	// (for serve to read on from); serve's own consumer without plugins skips such campaigns.
	draining bool
}

// RunTriggers evaluates the event triggers until ctx ends, stepping at once while there is
// more to read and every Poll otherwise; on the way out it lets its leases go, so another
// replica reads on at once.
func (s *Service) RunTriggers(ctx context.Context, logger *slog.Logger) {
	defer s.releaseTriggers()
	for ctx.Err() == nil {
		st, more, err := s.StepTriggers(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("campaign event triggers", "err", err)
		case st.Runs > 0:
			logger.Info("campaign event triggers ran", "read", st.Read, "runs", st.Runs)
		}
		if more && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(s.cfg.Trigger.Poll):
		}
	}
}

// DrainTriggers reads the sources to their end, one after the other, letting each lease go
// once done (`membergraph campaigns run`, tests): two drains at once take turns rather than
// each holding one source and waiting for the other. A source whose lease another process
// holds is waited for up to wait (its lease runs out when that process died); if it is
// still held then, Held names the holder.
func (s *Service) DrainTriggers(ctx context.Context, wait time.Duration) (TriggerStats, error) {
	var total TriggerStats
	deadline := time.Now().Add(wait)
	sys := auth.SystemContext(context.WithoutCancel(ctx), 0)
	for _, src := range Sources {
		for {
			var st TriggerStats
			s.trig.mu.Lock()
			s.trig.draining = true
			more, err := s.stepSource(sys, src, &st)
			s.trig.draining = false
			s.trig.mu.Unlock()
			total.Read, total.Runs, total.Deferred = total.Read+st.Read, total.Runs+st.Runs, total.Deferred+st.Deferred
			if err != nil {
				s.releaseTriggers()
				return total, fmt.Errorf("%s: %w", src, err)
			}
			if st.Held != "" && time.Now().Before(deadline) {
				time.Sleep(min(100*time.Millisecond, time.Until(deadline)))
				continue
			}
			if st.Held != "" {
				total.Held = st.Held
			}
			if !more {
				break
			}
		}
		s.releaseTriggers()
	}
	return total, nil
}

// StepTriggers reads each source once: the rows after its position (and those still
// missing below it), each row's matching campaigns run for its member. more reports that a
// source had more rows than one step reads.
func (s *Service) StepTriggers(ctx context.Context) (st TriggerStats, more bool, err error) {
	s.trig.mu.Lock()
	defer s.trig.mu.Unlock()
	sys := auth.SystemContext(context.WithoutCancel(ctx), 0)
	for _, src := range Sources {
		m, err := s.stepSource(sys, src, &st)
		if err != nil {
			return st, more, fmt.Errorf("%s: %w", src, err)
		}
		more = more || m
	}
	return st, more, nil
}

func (s *Service) stepSource(ctx context.Context, src string, st *TriggerStats) (more bool, err error) {
	cfg := s.cfg.Trigger
	cur, err := s.lease(ctx, src)
	if err != nil || cur == nil {
		if cur == nil && err == nil {
			holder, _ := s.client.CampaignCursor.Query().Where(campaigncursor.Source(src)).Only(ctx)
			if holder != nil {
				st.Held = holder.LeaseOwner
			}
		}
		return false, err
	}
	r := s.trig.readers[src]
	if r == nil || r.position() < cur.Position {
		// First step, or another replica read on while this one did not hold the lease.
		r = &reader{next: cur.Position, gaps: map[int]time.Time{}}
		s.trig.readers[src] = r
	}
	// The newest row is read before the campaigns: a campaign created after this read starts
	// after a row at least as new, so skipping to it below loses none of its rows.
	newest, err := s.newest(ctx, src)
	if err != nil {
		return false, err
	}
	cs, err := s.client.Campaign.Query().Where(entcampaign.StatusEQ(entcampaign.StatusACTIVE),
		entcampaign.TriggerKindEQ(entcampaign.TriggerKindEVENT)).Order(ent.Asc(entcampaign.FieldID)).All(ctx)
	if err != nil {
		return false, err
	}
	cs = slices.DeleteFunc(cs, func(c *ent.Campaign) bool { return sourceOf(c.EventKind) != src })
	if len(cs) == 0 {
		// Nothing listens: the rows up to the newest trigger nothing, now or later.
		r.next, r.gaps = max(r.next, newest), map[int]time.Time{}
		return false, s.savePosition(ctx, src, r.position())
	}
	now := time.Now()
	// The ids missing before: those committed since are read now; those waited for long
	// enough are taken for rolled back.
	var missing []int
	for id, since := range r.gaps {
		if now.Sub(since) >= cfg.GapWait {
			delete(r.gaps, id)
		} else {
			missing = append(missing, id)
		}
	}
	slices.Sort(missing)
	for _, span := range spans(missing, 20) {
		rows, err := s.read(ctx, src, span[0]-1, span[1], cfg.Batch)
		if err != nil {
			return false, err
		}
		for _, rw := range rows {
			if _, ok := r.gaps[rw.id]; !ok {
				continue
			}
			if err := s.evaluate(ctx, src, cs, rw, st); err != nil {
				return false, s.stop(ctx, src, r, st, err)
			}
			delete(r.gaps, rw.id)
			st.Read++
		}
	}
	rows, err := s.read(ctx, src, r.next, 0, cfg.Batch)
	if err != nil {
		return false, err
	}
	for _, rw := range rows {
		// ent gives each table its own range of 2^32 ids, the first written at the range's
		// start (MySQL) or one above (SQLite): a source read from before its first row
		// expects that row there, and waits for the ids below a later one too.
		if base := rw.id &^ (1<<32 - 1); r.next < base {
			r.next = base - 1
			if s.ledger.Dialect() == dialect.SQLite {
				r.next = base
			}
		}
		if jump := rw.id - r.next - 1; jump > 0 && jump <= maxGap {
			for id := r.next + 1; id < rw.id; id++ {
				r.gaps[id] = now
			}
		}
		if err := s.evaluate(ctx, src, cs, rw, st); err != nil {
			return false, s.stop(ctx, src, r, st, err)
		}
		r.next = rw.id
		st.Read++
	}
	return len(rows) == cfg.Batch, s.savePosition(ctx, src, r.position())
}

// stop ends a step at a row that failed (a database error: it is read again next step) or
// was deferred, keeping the position of the rows before it.
func (s *Service) stop(ctx context.Context, src string, r *reader, st *TriggerStats, err error) error {
	if errors.Is(err, errDeferred) {
		st.Deferred++
		err = nil
	}
	// This process's reader forgets what it read past the position: it reads it again.
	s.trig.readers[src] = nil
	if e := s.savePosition(ctx, src, r.position()); err == nil {
		err = e
	}
	return err
}

// spans are the runs of consecutive ids in sorted ids, at most n (the rest wait a step).
func spans(ids []int, n int) [][2]int {
	var out [][2]int
	for _, id := range ids {
		if k := len(out); k > 0 && out[k-1][1] == id-1 {
			out[k-1][1] = id
			continue
		}
		if len(out) == n {
			break
		}
		out = append(out, [2]int{id, id})
	}
	return out
}

// lease takes or renews the lease of src's cursor, creating the cursor at the source's
// newest row the first time; nil when another process holds it.
func (s *Service) lease(ctx context.Context, src string) (*ent.CampaignCursor, error) {
	if err := s.ensureCursor(ctx, src); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	n, err := s.client.CampaignCursor.Update().Where(campaigncursor.Source(src), campaigncursor.Or(
		campaigncursor.LeaseOwner(s.cfg.Trigger.Owner), campaigncursor.LeaseUntilIsNil(), campaigncursor.LeaseUntilLT(now))).
		SetLeaseOwner(s.cfg.Trigger.Owner).SetLeaseUntil(now.Add(s.cfg.Trigger.Lease)).Save(ctx)
	if err != nil || n == 0 {
		return nil, err
	}
	return s.client.CampaignCursor.Query().Where(campaigncursor.Source(src)).Only(ctx)
}

// ensureCursor creates src's cursor at the source's newest row if there is none: triggers
// start with their first campaign (Create calls it) or consumer, not with history.
func (s *Service) ensureCursor(ctx context.Context, src string) error {
	ctx = auth.SystemContext(ctx, 0)
	if ok, err := s.client.CampaignCursor.Query().Where(campaigncursor.Source(src)).Exist(ctx); err != nil || ok {
		return err
	}
	newest, err := s.newest(ctx, src)
	if err != nil {
		return err
	}
	return s.client.CampaignCursor.Create().SetSource(src).SetPosition(newest).
		OnConflict(sql.ConflictColumns(campaigncursor.FieldSource), sql.DoNothing()).Exec(ctx)
}

// savePosition stores pos while this process holds the lease, only forward.
func (s *Service) savePosition(ctx context.Context, src string, pos int) error {
	return s.client.CampaignCursor.Update().Where(campaigncursor.Source(src), campaigncursor.LeaseOwner(s.cfg.Trigger.Owner),
		campaigncursor.PositionLT(pos)).SetPosition(pos).Exec(ctx)
}

// releaseTriggers lets this process's leases go.
func (s *Service) releaseTriggers() {
	ctx := auth.SystemContext(context.Background(), 0)
	if err := s.client.CampaignCursor.Update().Where(campaigncursor.LeaseOwner(s.cfg.Trigger.Owner)).
		SetLeaseOwner("").ClearLeaseUntil().Exec(ctx); err != nil {
		slog.Warn("campaign event triggers: releasing the lease", "err", err)
	}
}

// newest is the id of src's newest row, 0 for none.
func (s *Service) newest(ctx context.Context, src string) (int, error) {
	if src == SourceOutbox {
		return outbox.Newest(ctx, s.client)
	}
	ids, err := s.client.Event.Query().Order(ent.Desc(event.FieldID)).Limit(1).IDs(privacy.DecisionContext(ctx, privacy.Allow))
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ids[0], nil
}

// read is up to limit rows of src with an id above after (and at most upTo, when not 0),
// in id order.
func (s *Service) read(ctx context.Context, src string, after, upTo, limit int) ([]row, error) {
	if src == SourceOutbox {
		msgs, err := outbox.Between(ctx, s.client, after, upTo, limit)
		if err != nil {
			return nil, err
		}
		out := make([]row, 0, len(msgs))
		for _, m := range msgs {
			out = append(out, row{id: m.ID, programID: m.ProgramID, memberID: m.MemberID, kind: m.Type, data: m.Data})
		}
		return out, nil
	}
	q := s.client.Event.Query().Where(event.IDGT(after))
	if upTo > 0 {
		q.Where(event.IDLTE(upTo))
	}
	evs, err := q.Order(ent.Asc(event.FieldID)).Limit(limit).
		Select(event.FieldID, event.FieldProgramID, event.FieldMemberID, event.FieldKind).All(privacy.DecisionContext(ctx, privacy.Allow))
	if err != nil {
		return nil, err
	}
	out := make([]row, len(evs))
	for i, e := range evs {
		out[i] = row{id: e.ID, programID: e.ProgramID, memberID: e.MemberID, kind: string(e.Kind)}
	}
	return out, nil
}

// firing is what a source row triggers: the trigger kind it is (an event kind,
// TIER_CHANGE, MEDAL_LEVEL, PLUS_START, PLUS_END) and the run key of the runs it makes;
// matches reports whether it triggers the campaign c of that kind.
type firing struct {
	kind, runKey string
	matches      func(c *ent.Campaign) bool
}

// fire decides what rw triggers, reading an outbox message with the type its writer wrote
// (plus.TermChange, score.TierChange, medal.LevelChange); ok false for a row that triggers
// nothing (a points change, a campaign's own result).
func fire(src string, rw row) (f firing, ok bool, err error) {
	all := func(*ent.Campaign) bool { return true }
	if src == SourceEvents {
		return firing{rw.kind, fmt.Sprintf("%s:%d", rw.kind, rw.id), all}, true, nil
	}
	seq := outbox.Sequence(rw.id)
	switch rw.kind {
	case outbox.PlusStarted, outbox.PlusEnded:
		var t plus.TermChange
		if err := json.Unmarshal(rw.data, &t); err != nil {
			return f, false, err
		}
		kind := EventPlusStart
		if rw.kind == outbox.PlusEnded {
			kind = EventPlusEnd
		}
		// Keyed by the term, as the runs of a term always were: a term starts and ends once.
		return firing{kind, fmt.Sprintf("%s:%d", kind, t.Term), all}, true, nil
	case outbox.TierChanged:
		var t score.TierChange
		if err := json.Unmarshal(rw.data, &t); err != nil {
			return f, false, err
		}
		return firing{EventTierChange, fmt.Sprintf("%s:%d", EventTierChange, seq), func(c *ent.Campaign) bool {
			return c.EventTier == "" || c.EventTier == t.To
		}}, true, nil
	case outbox.MedalLevel:
		var m medal.LevelChange
		if err := json.Unmarshal(rw.data, &m); err != nil {
			return f, false, err
		}
		return firing{EventMedalLevel, fmt.Sprintf("%s:%d", EventMedalLevel, seq), func(c *ent.Campaign) bool {
			// Reached: the level lies in the rise; a fall (a refund) reaches nothing.
			return c.EventMedal == m.Medal && m.From < c.EventLevel && c.EventLevel <= m.To
		}}, true, nil
	}
	return f, false, nil
}

// evaluate runs, for rw's member, each campaign of cs that rw triggers, created before rw,
// whose segment holds the member: one run per campaign and row, keyed by the row.
func (s *Service) evaluate(ctx context.Context, src string, cs []*ent.Campaign, rw row, st *TriggerStats) error {
	f, ok, err := fire(src, rw)
	if err != nil {
		// A body that does not decode cannot trigger anything, now or on a later read.
		slog.Warn("campaign event triggers: an unreadable row", "kind", rw.kind, "id", rw.id, "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	sys := auth.SystemContext(ctx, rw.programID)
	deferred := false
	for _, c := range cs {
		if c.ProgramID != rw.programID || c.EventKind != f.kind || rw.id <= c.EventAfter || !f.matches(c) {
			continue
		}
		// The segment holds the member when its first member above memberID-1 is memberID.
		ids, err := s.audience.MemberIDs(sys, c.SegmentID, rw.memberID-1, 1)
		if err != nil {
			return fmt.Errorf("campaign %s, segment %d: %w", c.Key, c.SegmentID, err)
		}
		if len(ids) == 0 || ids[0] != rw.memberID {
			continue
		}
		if c.Action == entcampaign.ActionNOTIFY && s.notifier == nil {
			if s.trig.draining {
				// `membergraph campaigns run` runs no plugins: the row is left for serve,
				// which reads on from here and sends.
				deferred = true
			} else {
				// A serve without plugins must not hold every other campaign up behind one
				// it can never send.
				slog.Warn("campaign event triggers: a NOTIFY campaign, and no partner plugins here to send it", "campaign", c.Key, "run", f.runKey)
			}
			continue
		}
		if err := s.runEvent(sys, c, f.runKey, rw.memberID); err != nil {
			if errors.Is(err, ErrPaused) {
				continue // paused since it was read: nothing runs while paused
			}
			return fmt.Errorf("campaign %s run %s: %w", c.Key, f.runKey, err)
		}
		st.Runs++
	}
	if deferred {
		return errDeferred
	}
	return nil
}

// errDeferred stops a source at a row this process cannot evaluate whole.
var errDeferred = errors.New("deferred to a process with the partner plugins")

// isEventKind reports whether k is an event kind recordEvents accepts (the events source).
func isEventKind(k string) bool { return slices.Contains(payload.KindValues(), k) }

// errPausedTx rolls an event run's transaction back when the campaign was paused meanwhile.
var errPausedTx = errors.New("paused")

// runEvent is an event's run of c for its member, in one transaction: the run, the
// member's result with the action's effect, and the run finished commit together (one
// commit an event rather than a run's three), so a run that exists is done. The run key
// taken already — a replica, a re-read — makes the insert fail: then runFor, which returns
// a finished run as it is and finishes one a crash of an older process left open. NOTIFY
// runs, whose partner is called after their commit, take runFor's way.
func (s *Service) runEvent(ctx context.Context, c *ent.Campaign, runKey string, memberID int) error {
	if c.Action == entcampaign.ActionNOTIFY {
		_, err := s.runFor(ctx, c, runKey, []int{memberID})
		return err
	}
	prog, err := s.client.Program.Get(ctx, c.ProgramID)
	if err != nil {
		return err
	}
	err = s.ledger.WithTx(ctx, func(tx *ent.Tx) error {
		now := s.ledger.Clock().Now()
		run, err := tx.CampaignRun.Create().SetProgramID(c.ProgramID).SetCampaignID(c.ID).SetRunKey(runKey).
			SetOnlyMemberID(memberID).SetStartedAt(now).Save(ctx)
		if err != nil {
			return err
		}
		paused, err := s.chunkTx(ctx, tx, prog, c.ID, run.ID, runKey, []int{memberID})
		if err != nil {
			return err
		}
		if paused {
			return errPausedTx
		}
		return tx.CampaignRun.UpdateOneID(run.ID).SetFinishedAt(now).Exec(ctx)
	})
	switch {
	case errors.Is(err, errPausedTx):
		return ErrPaused
	case ent.IsConstraintError(err):
		_, err = s.runFor(ctx, c, runKey, []int{memberID})
		return err
	}
	return err
}

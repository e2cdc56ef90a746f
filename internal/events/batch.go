package events

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/sqlgraph"
	"github.com/go-sql-driver/mysql"
	"golang.org/x/sync/errgroup"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/benefit"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/usererr"
)

// A batch is applied set-based (docs/architecture.md, "Beyond one machine"): its accepted
// events are grouped by member range, and each slice of a range is one transaction that
// locks its members' accounts in ascending id order with one statement, reads what the rules
// need with a fixed number of set-based statements (load.go), decides every effect in memory
// with the domain packages' pure rules (decide.go), and writes with multi-row statements
// (write.go). So a batch costs about as many statements as one event does.

// Config tunes how a batch is applied. The zero value of a field picks its default.
type Config struct {
	// Workers is how many slices of one batch run at once. Default: 8 on MySQL; 1 on SQLite,
	// where writers queue on one file lock anyway.
	Workers int
	// RangeWidth is how many consecutive member ids form a member range: no transaction spans
	// two ranges, so a deployment sharded by member id range splits a batch by shard. It
	// should divide the shard width. Default 1<<20.
	RangeWidth int
	// SliceMembers is the most members one slice locks; a range with more members in a batch
	// is cut into slices of consecutive ids. Default 100.
	SliceMembers int
	// Attempts is how often a slice is tried when it meets a fault a retry can clear
	// (deadlock, lock wait timeout, lost connection, a key stored meanwhile). Default 5.
	Attempts int
	// Chunk is the most rows one multi-row statement writes, within every database's limit
	// on placeholders. Default 1,000.
	Chunk int
	// CatalogueTTL is how long a programme's rules, medals and benefit ids read by this
	// process serve its batches while nothing changed them through this process's client
	// (catalogue.go). Default program.CatalogueTTL (5 s).
	CatalogueTTL time.Duration
}

func (c Config) withDefaults(dialectName string) Config {
	if c.Workers <= 0 {
		c.Workers = 8
		if dialectName != dialect.MySQL {
			c.Workers = 1
		}
	}
	if c.RangeWidth <= 0 {
		c.RangeWidth = 1 << 20
	}
	if c.SliceMembers <= 0 {
		c.SliceMembers = 100
	}
	if c.Attempts <= 0 {
		c.Attempts = 5
	}
	if c.Chunk <= 0 {
		c.Chunk = 1000
	}
	if c.CatalogueTTL <= 0 {
		c.CatalogueTTL = program.CatalogueTTL
	}
	return c
}

// NewServiceWith returns a Service writing through ledger, tuned by cfg.
func NewServiceWith(client *ent.Client, ledger *points.Ledger, cfg Config) *Service {
	return &Service{client: client, ledger: ledger, cfg: cfg.withDefaults(ledger.Dialect()), catalogues: newCatalogues(client)}
}

// job is an event that passed the checks made outside a transaction, waiting for its slice.
type job struct {
	index    int
	memberID int
	hash     string
	field    string
	in       Input
}

// slice is the events of some members of one member range, in input order; members ascend.
type slice struct {
	members []int
	jobs    []job
}

// Record validates and applies a batch. Each event stands alone: one bad event never spoils
// the rest, and an accepted event is committed before Record returns. Events of one member
// are applied in input order. An error is returned only for a fault; slices committed before
// it stay committed, so the caller retries the whole batch and gets DUPLICATE for those.
// A key given twice in one batch answers the second as a replay of the first: DUPLICATE for
// the same event of an accepted first, CONFLICT for a different one.
func (s *Service) Record(ctx context.Context, in []Input) ([]Result, error) {
	if len(in) == 0 || len(in) > MaxBatch {
		return nil, usererr.New(usererr.InvalidArgument, "input.events", "a batch holds 1–%d events, got %d", MaxBatch, len(in))
	}
	v, _ := auth.FromContext(ctx)
	env, err := s.env(ctx, v.ProgramID)
	if err != nil {
		return nil, err
	}
	prog := env.prog
	ids, err := s.memberIDs(ctx, in)
	if err != nil {
		return nil, err
	}
	seen, err := s.seenKeys(ctx, prog.ID, in)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(in))
	now := s.ledger.Clock().Now()
	owner := map[string]int{} // key → the first event of the batch that took it
	var jobs []job
	for i, ev := range in {
		field := fmt.Sprintf("input.events.%d", i)
		out[i] = Result{IdempotencyKey: ev.IdempotencyKey}
		reject := func(err error) {
			if ue, ok := usererr.From(err); ok {
				out[i].Status, out[i].Err = Rejected, ue[0]
			}
		}
		if err := validate(prog, ev, now, field); err != nil {
			reject(err)
			continue
		}
		memberID := ids[ev.ExternalID]
		if memberID == 0 {
			reject(usererr.New(usererr.NotFound, field+".externalId", "no member with externalId %q", ev.ExternalID))
			continue
		}
		hash := eventHash(ev)
		if prev := seen[ev.IdempotencyKey]; prev != nil {
			if err := replay(prev, hash, field, &out[i]); err != nil {
				reject(err)
			}
			continue
		}
		// The same key for another member is another event: its slice may be another
		// transaction, so it is answered here. The same member's repeat is its slice's.
		if j, ok := owner[ev.IdempotencyKey]; ok && in[j].ExternalID != ev.ExternalID {
			reject(usererr.New(usererr.Conflict, field+".idempotencyKey", "idempotencyKey %q was used for a different event", ev.IdempotencyKey))
			continue
		} else if !ok {
			owner[ev.IdempotencyKey] = i
		}
		jobs = append(jobs, job{index: i, memberID: memberID, hash: hash, field: field, in: ev})
	}
	applied := make([]bool, len(in))
	if len(jobs) > 0 {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(s.cfg.Workers)
		for _, sl := range s.slices(jobs) {
			g.Go(func() error {
				apply := s.apply
				if len(sl.members) == 1 {
					apply = s.applyJoined
				}
				if err := apply(gctx, env, sl, out); err != nil {
					return err
				}
				for _, j := range sl.jobs {
					applied[j.index] = true
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
	}
	if s.obs != nil {
		for i, res := range out {
			if !applied[i] { // a slice's events were told when it committed
				s.obs.EventRecorded(in[i].Kind, res.Status)
			}
		}
	}
	return out, nil
}

// eventHash is what tells a replay from a different event under the same key.
func eventHash(in Input) string {
	return points.Hash(struct {
		ExternalID string
		Kind       payload.Kind
		OccurredAt string
		Channel    string
		Body       payload.Body
	}{in.ExternalID, in.Kind, in.OccurredAt.UTC().Format(time.RFC3339Nano), in.Channel, in.Body})
}

// benefitIDs looks up, in one query, the ids of the benefits the medal levels grant.
func (s *Service) benefitIDs(ctx context.Context, cat medal.Catalogue) (map[string]int, error) {
	keys := cat.BenefitKeys()
	ids := map[string]int{}
	if len(keys) == 0 {
		return ids, nil
	}
	rows, err := s.client.Benefit.Query().Where(benefit.KeyIn(keys...)).Select(benefit.FieldID, benefit.FieldKey).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range rows {
		ids[b.Key] = b.ID
	}
	return ids, nil
}

// slices groups jobs by member range and cuts each range into slices of at most
// SliceMembers members of consecutive ids; every member's jobs stay in one slice, in input
// order.
func (s *Service) slices(jobs []job) []slice {
	byMember := map[int][]job{}
	var members []int
	for _, j := range jobs {
		if _, ok := byMember[j.memberID]; !ok {
			members = append(members, j.memberID)
		}
		byMember[j.memberID] = append(byMember[j.memberID], j)
	}
	slices.Sort(members)
	var out []slice
	for i, m := range members {
		if i == 0 || m/s.cfg.RangeWidth != members[i-1]/s.cfg.RangeWidth || len(out[len(out)-1].members) == s.cfg.SliceMembers {
			out = append(out, slice{})
		}
		out[len(out)-1].members = append(out[len(out)-1].members, m)
	}
	for k := range out {
		for _, m := range out[k].members {
			out[k].jobs = append(out[k].jobs, byMember[m]...)
		}
		slices.SortFunc(out[k].jobs, func(a, b job) int { return a.index - b.index })
	}
	return out
}

// apply runs one slice in a transaction, again after a fault a retry can clear, and fills
// in its events' results once it committed.
func (s *Service) apply(ctx context.Context, env *batchEnv, sl slice, out []Result) error {
	for attempt := 1; ; attempt++ {
		var st *state
		err := store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
			var err error
			st, err = s.load(ctx, tx, env, sl)
			if err != nil {
				return err
			}
			st.decide()
			return st.write(ctx)
		})
		if err == nil {
			for _, j := range sl.jobs {
				out[j.index] = st.results[j.index]
				if s.obs != nil {
					s.obs.EventRecorded(j.in.Kind, out[j.index].Status)
				}
			}
			for _, e := range st.entries {
				s.ledger.Moved(e.kind, e.funding, e.amount)
			}
			s.committed(ctx, env.prog.ID, sl, out)
			return nil
		}
		if attempt == s.cfg.Attempts || !retryable(err) {
			return err
		}
		// Jitter, growing with the attempt, so that slices that met each other part.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt*attempt) * time.Millisecond * time.Duration(1+rand.IntN(8))):
		}
	}
}

// committed tells the commit listeners which of the slice's members had an event accepted;
// sl.members ascend, so the list does too.
func (s *Service) committed(ctx context.Context, programID int, sl slice, out []Result) {
	if len(s.commit) == 0 {
		return
	}
	touched := map[int]bool{}
	for _, j := range sl.jobs {
		if out[j.index].Status == Accepted {
			touched[j.memberID] = true
		}
	}
	var ids []int
	for _, m := range sl.members {
		if touched[m] {
			ids = append(ids, m)
		}
	}
	if len(ids) == 0 {
		return
	}
	for _, l := range s.commit {
		l(ctx, programID, ids)
	}
}

// retryable: faults a second try can clear — MySQL's deadlock (1213) and lock wait timeout
// (1205), a connection lost, and an idempotency key another batch stored since the slice
// read the keys (the retry finds it and answers a replay): the plain INSERTs of insert.go
// give the driver's duplicate-key error, which sqlgraph recognises as ent does its own.
func retryable(err error) bool {
	return store.LockConflict(err) || ent.IsConstraintError(err) || sqlgraph.IsUniqueConstraintError(err) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn)
}

// Package events takes in what members did, as the commerce side reports it (docs/domain.md §2):
// it validates each event, stores the accepted ones exactly once per idempotency key, and
// applies their effects in the same transaction: points, the activity counters the score
// reads, and medal levels. A batch is applied set-based, a member range at a time (batch.go).
package events

import (
	"context"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/event"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Limits of a batch and of an event.
const (
	MaxBatch  = 500
	MaxLines  = 200
	ClockSkew = 5 * time.Minute
)

// Status is what became of one event of a batch.
type Status string

// The statuses.
const (
	Accepted  Status = "ACCEPTED"  // stored and applied now
	Duplicate Status = "DUPLICATE" // stored before under this key with the same body; nothing changed
	Rejected  Status = "REJECTED"  // not stored; Err says why
)

// Input is one event as reported.
type Input struct {
	IdempotencyKey string
	ExternalID     string
	Kind           payload.Kind
	OccurredAt     time.Time
	Channel        string
	Body           payload.Body
}

// Result is the answer for one event.
type Result struct {
	IdempotencyKey string
	Status         Status
	Err            *usererr.Error // for REJECTED
	Outcome        payload.Outcome
}

// Service records events.
type Service struct {
	client *ent.Client
	ledger *points.Ledger
	cfg    Config
	obs    Observer
	// catalogues keeps each programme's rules, medals and benefit ids between batches.
	catalogues *catalogues
	// commit is who hears of each committed slice's members (tags, campaigns' event
	// triggers); set before use, read-only afterwards, so slices read it without a lock.
	commit []CommitListener
	// joins holds the one-member slices of concurrent calls waiting to share a transaction
	// (join.go).
	joins joins
}

// CommitListener hears, after a slice of a batch committed, the programme and the members
// (ascending, each once) whose accepted events it applied; replays and rejections are not
// told. It runs on the slice's goroutine after the commit, outside every transaction, so
// it must be quick and must not fail the batch: a listener with real work (re-evaluating
// tags, firing campaigns) hands the ids to its own bounded queue and returns. ctx is the
// request's and ends with it: work that outlives the call detaches with
// context.WithoutCancel. It must be safe for concurrent use: slices commit side by side.
type CommitListener func(ctx context.Context, programID int, memberIDs []int)

// AddCommitListener makes l hear every committed slice; call it before the service is used.
// Several listeners may register; each hears every slice, in the order added.
func (s *Service) AddCommitListener(l CommitListener) { s.commit = append(s.commit, l) }

// Observer hears what became of each event Record answered for, for operations metrics.
// An ACCEPTED event is committed before it is told. It must be quick and safe for
// concurrent use: a batch's slices are applied side by side.
type Observer interface {
	EventRecorded(kind payload.Kind, status Status)
}

// SetObserver makes o hear of every event recorded; call it before the service is used.
func (s *Service) SetObserver(o Observer) { s.obs = o }

// NewService returns a Service writing through ledger. workers is how many slices of one
// batch apply at once (Config.Workers; 0 picks its default).
func NewService(client *ent.Client, ledger *points.Ledger, workers int) *Service {
	return NewServiceWith(client, ledger, Config{Workers: workers})
}

// seenKeys finds the batch's idempotency keys stored before, in one query, so replays are
// answered without a transaction. A key stored meanwhile is caught by the unique index.
func (s *Service) seenKeys(ctx context.Context, programID int, in []Input) (map[string]*ent.Event, error) {
	keys := make([]string, len(in))
	for i, ev := range in {
		keys[i] = ev.IdempotencyKey
	}
	prev, err := s.client.Event.Query().Where(event.ProgramID(programID), event.IdempotencyKeyIn(keys...)).
		Select(event.FieldIdempotencyKey, event.FieldBodyHash, event.FieldOutcome).All(ctx)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]*ent.Event, len(prev))
	for _, e := range prev {
		seen[e.IdempotencyKey] = e
	}
	return seen, nil
}

// memberIDs resolves the batch's externalIds in one query; unknown ones are absent.
func (s *Service) memberIDs(ctx context.Context, in []Input) (map[string]int, error) {
	seen := map[string]bool{}
	var ext []string
	for _, ev := range in {
		if !seen[ev.ExternalID] {
			seen[ev.ExternalID] = true
			ext = append(ext, ev.ExternalID)
		}
	}
	rows, err := s.client.Member.Query().Where(member.ExternalIDIn(ext...)).Select(member.FieldID, member.FieldExternalID).All(ctx)
	if err != nil {
		return nil, err
	}
	ids := make(map[string]int, len(rows))
	for _, m := range rows {
		ids[m.ExternalID] = m.ID
	}
	return ids, nil
}

// replay answers a key seen before: the first outcome for the same body, CONFLICT otherwise.
func replay(prev *ent.Event, hash, field string, res *Result) error {
	if prev.BodyHash != hash {
		return usererr.New(usererr.Conflict, field+".idempotencyKey", "idempotencyKey %q was used for a different event", prev.IdempotencyKey)
	}
	res.Status, res.Outcome = Duplicate, prev.Outcome
	return nil
}

// day returns the programme-local calendar day around t, as UTC instants.
func day(t time.Time, loc *time.Location) (time.Time, time.Time) {
	l := t.In(loc)
	start := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	return start.UTC(), start.AddDate(0, 0, 1).UTC()
}

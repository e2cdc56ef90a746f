// Package events takes in what members did, as the commerce side reports it (docs/domain.md §2):
// it validates each event, stores the accepted ones exactly once per idempotency key, and
// applies its effects in the same transaction: points, the activity counters the score
// reads, and medal levels.
package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect"
	"golang.org/x/sync/errgroup"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/event"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/internal/activity"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Limits of a batch and of an event.
const (
	MaxBatch     = 500
	MaxLines     = 200
	MaxPaidCents = 100_000_000_00 // ¥100M per line: beyond it the commerce side has a bug
	ClockSkew    = 5 * time.Minute
	maxIDLen     = 64
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
	client  *ent.Client
	ledger  *points.Ledger
	workers int
	obs     Observer
}

// Observer hears what became of each event Record answered for, for operations metrics.
// An ACCEPTED event is committed before it is told. It must be quick and safe for
// concurrent use: a batch's members are applied side by side.
type Observer interface {
	EventRecorded(kind payload.Kind, status Status)
}

// SetObserver makes o hear of every event recorded; call it before the service is used.
func (s *Service) SetObserver(o Observer) { s.obs = o }

// NewService returns a Service writing through ledger. workers is how many members' events
// one batch applies at once; 0 picks 8 on MySQL and 1 on SQLite, where writers queue on one
// file lock anyway.
func NewService(client *ent.Client, ledger *points.Ledger, workers int) *Service {
	if workers <= 0 {
		workers = 8
		if ledger.Dialect() != dialect.MySQL {
			workers = 1
		}
	}
	return &Service{client: client, ledger: ledger, workers: workers}
}

// Record validates and applies a batch. Each event stands alone: one bad event never spoils
// the rest, and an accepted event is committed before Record returns. Events of one member
// are applied in input order; different members' events run side by side, each in its own
// transaction, so no transaction holds two members' locks. An error is returned only for a
// fault; events applied before it are committed, so the caller retries the whole batch and
// gets DUPLICATE for those.
func (s *Service) Record(ctx context.Context, in []Input) ([]Result, error) {
	if len(in) == 0 || len(in) > MaxBatch {
		return nil, usererr.New(usererr.InvalidArgument, "input.events", "a batch holds 1–%d events, got %d", MaxBatch, len(in))
	}
	v, _ := auth.FromContext(ctx)
	prog, err := s.client.Program.Get(ctx, v.ProgramID)
	if err != nil {
		return nil, err
	}
	ids, err := s.memberIDs(ctx, in)
	if err != nil {
		return nil, err
	}
	seen, err := s.seenKeys(ctx, prog.ID, in)
	if err != nil {
		return nil, err
	}
	medals, err := medal.Load(ctx, s.client)
	if err != nil {
		return nil, err
	}
	// One queue of event indexes per member, in input order.
	var queues [][]int
	queueOf := map[string]int{}
	for i, ev := range in {
		q, ok := queueOf[ev.ExternalID]
		if !ok {
			q = len(queues)
			queueOf[ev.ExternalID] = q
			queues = append(queues, nil)
		}
		queues[q] = append(queues[q], i)
	}
	out := make([]Result, len(in))
	work := make(chan []int)
	g, gctx := errgroup.WithContext(ctx)
	for range min(s.workers, len(queues)) {
		g.Go(func() error {
			for queue := range work {
				for _, i := range queue {
					res, err := s.record(gctx, prog, medals, ids[in[i].ExternalID], seen[in[i].IdempotencyKey], in[i], fmt.Sprintf("input.events.%d", i))
					if err != nil {
						return err
					}
					out[i] = res
					if s.obs != nil {
						s.obs.EventRecorded(in[i].Kind, res.Status)
					}
				}
			}
			return nil
		})
	}
	func() {
		defer close(work)
		for _, q := range queues {
			select {
			case work <- q:
			case <-gctx.Done():
				return
			}
		}
	}()
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
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

func (s *Service) record(ctx context.Context, prog *ent.Program, medals medal.Catalogue, memberID int, prev *ent.Event, in Input, field string) (Result, error) {
	res := Result{IdempotencyKey: in.IdempotencyKey}
	reject := func(err error) (Result, error) {
		if ue, ok := usererr.From(err); ok {
			res.Status, res.Err = Rejected, ue[0]
			return res, nil
		}
		return res, err
	}
	if err := validate(prog, in, s.ledger.Clock().Now(), field); err != nil {
		return reject(err)
	}
	if memberID == 0 {
		return reject(usererr.New(usererr.NotFound, field+".externalId", "no member with externalId %q", in.ExternalID))
	}
	hash := points.Hash(struct {
		ExternalID string
		Kind       payload.Kind
		OccurredAt string
		Channel    string
		Body       payload.Body
	}{in.ExternalID, in.Kind, in.OccurredAt.UTC().Format(time.RFC3339Nano), in.Channel, in.Body})
	if prev != nil {
		if err := replay(prev, hash, field, &res); err != nil {
			return reject(err)
		}
		return res, nil
	}

	err := s.ledger.WithTx(ctx, func(tx *ent.Tx) error {
		res = Result{IdempotencyKey: in.IdempotencyKey}
		b, err := s.ledger.Open(ctx, tx, prog, memberID)
		if err != nil {
			return err
		}
		// A key stored since the batch was checked (a concurrent replay) fails the unique
		// index; the row that holds it decides between DUPLICATE and CONFLICT.
		replayed := func() error {
			prev, err := tx.Event.Query().Where(event.ProgramID(prog.ID), event.IdempotencyKey(in.IdempotencyKey)).Only(ctx)
			if err != nil {
				return err
			}
			return replay(prev, hash, field, &res)
		}
		insert := func(outcome payload.Outcome) (*ent.Event, error) {
			ev, err := tx.Event.Create().SetProgramID(prog.ID).SetMemberID(memberID).SetIdempotencyKey(in.IdempotencyKey).
				SetKind(event.Kind(in.Kind)).SetChannel(event.Channel(in.Channel)).SetOccurredAt(in.OccurredAt.UTC()).
				SetRecordedAt(b.Now).SetOrderID(in.Body.OrderID).SetBodyHash(hash).SetBody(in.Body).
				SetOutcome(outcome).Save(ctx)
			if ent.IsConstraintError(err) {
				return nil, errKeyTaken
			}
			return ev, err
		}
		if in.Kind == payload.OrderRefunded {
			ev, err := insert(payload.Outcome{})
			if errors.Is(err, errKeyTaken) {
				return replayed()
			}
			if err != nil {
				return err
			}
			if res.Outcome, err = refund(ctx, b, medals, ev, in, field); err != nil {
				return err
			}
			res.Status = Accepted
			return tx.Event.UpdateOne(ev).SetOutcome(res.Outcome).Exec(ctx)
		}
		grants, facts, err := earnings(ctx, b, memberID, in, field)
		var done orderDone
		if errors.As(err, &done) {
			if done.event.IdempotencyKey == in.IdempotencyKey {
				return replay(done.event, hash, field, &res)
			}
			return usererr.New(usererr.AlreadyExists, field+".orderId", "order %q was completed already", in.Body.OrderID)
		}
		if err != nil {
			return err
		}
		for _, g := range grants {
			res.Outcome.Points += g.Amount
			if g.FromOrder && b.Rules().Earning.PendingDays > 0 {
				res.Outcome.PendingPoints += g.Amount
			}
		}
		ev, err := insert(res.Outcome)
		if errors.Is(err, errKeyTaken) {
			return replayed()
		}
		if err != nil {
			return err
		}
		res.Status = Accepted
		if err := b.CreditAll(ctx, grants, in.OccurredAt, &ev.ID); err != nil {
			return err
		}
		err = activity.Count(ctx, tx, b.Loc, activity.Event{ProgramID: prog.ID, MemberID: memberID, Kind: in.Kind,
			OccurredAt: in.OccurredAt, Body: in.Body, Repeat: facts.AlreadyRewarded})
		if err != nil {
			return err
		}
		_, err = medal.Evaluate(ctx, tx, medals, prog.ID, memberID, b.Now, b.Loc, medal.Affected(in.Kind, in.Body.Lines))
		return err
	})
	if err != nil {
		return reject(err)
	}
	return res, nil
}

// errKeyTaken: the event's idempotency key is stored already.
var errKeyTaken = errors.New("idempotency key stored already")

// orderDone reports that the order of an ORDER_COMPLETED event was completed before, by event.
type orderDone struct{ event *ent.Event }

func (orderDone) Error() string { return "order completed already" }

// replay answers a key seen before: the first outcome for the same body, CONFLICT otherwise.
func replay(prev *ent.Event, hash, field string, res *Result) error {
	if prev.BodyHash != hash {
		return usererr.New(usererr.Conflict, field+".idempotencyKey", "idempotencyKey %q was used for a different event", prev.IdempotencyKey)
	}
	res.Status, res.Outcome = Duplicate, prev.Outcome
	return nil
}

// earnings looks up what the earning rules need to know about the member and returns what
// the event earns, with those facts. It runs before the event is stored, so the event itself
// is not yet among the member's events it looks at.
func earnings(ctx context.Context, b *points.Book, memberID int, in Input, field string) ([]points.Grant, points.Facts, error) {
	facts := points.Facts{}
	var err error
	switch in.Kind {
	case payload.OrderCompleted:
		done, err := b.Tx.Event.Query().Where(event.MemberID(memberID), event.KindEQ(event.KindORDER_COMPLETED),
			event.OrderID(in.Body.OrderID)).First(ctx)
		if err == nil {
			return nil, facts, orderDone{done}
		}
		if !ent.IsNotFound(err) {
			return nil, facts, err
		}
		if facts.PlusActive, err = b.PlusActive(ctx, in.OccurredAt); err != nil {
			return nil, facts, err
		}
		if in.Channel == "APP" || in.Channel == "MINI_PROGRAM" {
			start, end := day(in.OccurredAt, b.Loc)
			facts.AlreadyRewarded, err = b.Tx.Event.Query().Where(event.MemberID(memberID), event.KindEQ(event.KindORDER_COMPLETED),
				event.ChannelIn(event.ChannelAPP, event.ChannelMINI_PROGRAM), event.OccurredAtGTE(start), event.OccurredAtLT(end)).Exist(ctx)
		}
	case payload.ReviewPosted, payload.PhotoReviewPosted:
		if _, err := orderLine(ctx, b, memberID, in.Body.OrderID, in.Body.SKUs[0], field); err != nil {
			return nil, facts, err
		}
		kind := pointentry.KindREVIEW
		if in.Kind == payload.PhotoReviewPosted {
			kind = pointentry.KindPHOTO_REVIEW
		}
		facts.AlreadyRewarded, err = b.Tx.PointEntry.Query().Where(pointentry.MemberID(memberID), pointentry.KindEQ(kind),
			pointentry.OrderID(in.Body.OrderID), pointentry.Sku(in.Body.SKUs[0])).Exist(ctx)
	case payload.CheckIn:
		start, end := day(in.OccurredAt, b.Loc)
		facts.AlreadyRewarded, err = b.Tx.Event.Query().Where(event.MemberID(memberID), event.KindEQ(event.KindCHECK_IN),
			event.OccurredAtGTE(start), event.OccurredAtLT(end)).Exist(ctx)
	}
	if err != nil {
		return nil, facts, err
	}
	return points.Earn(b.Rules(), points.Activity{Kind: in.Kind, Channel: in.Channel, Body: in.Body}, facts), facts, nil
}

// refund takes back what the refunded lines earned (purchase points and PLUS bonus). Points
// already spent become a debt, whose cash value the commerce side may withhold.
func refund(ctx context.Context, b *points.Book, medals medal.Catalogue, ev *ent.Event, in Input, field string) (payload.Outcome, error) {
	var out payload.Outcome
	order, err := orderEvent(ctx, b, ev.MemberID, in.Body.OrderID, field)
	if err != nil {
		return out, err
	}
	earlier, err := b.Tx.Event.Query().Where(event.MemberID(ev.MemberID), event.KindEQ(event.KindORDER_REFUNDED),
		event.OrderID(in.Body.OrderID), event.IDNEQ(ev.ID)).All(ctx)
	if err != nil {
		return out, err
	}
	var refundedBefore []string
	for _, e := range earlier {
		refundedBefore = append(refundedBefore, e.Body.SKUs...)
	}
	for i, sku := range in.Body.SKUs {
		f := fmt.Sprintf("%s.skus.%d", field, i)
		if !slices.ContainsFunc(order.Body.Lines, func(l payload.Line) bool { return l.SKU == sku }) {
			return out, usererr.New(usererr.NotFound, f, "order %q has no line %q", in.Body.OrderID, sku)
		}
		for _, e := range earlier {
			if slices.Contains(e.Body.SKUs, sku) {
				return out, usererr.New(usererr.FailedPrecondition, f, "line %q of order %q was refunded already", sku, in.Body.OrderID)
			}
		}
		earned, err := b.Tx.PointEntry.Query().Where(pointentry.MemberID(ev.MemberID), pointentry.OrderID(in.Body.OrderID),
			pointentry.Sku(sku), pointentry.KindIn(pointentry.KindPURCHASE, pointentry.KindPLUS_BONUS)).All(ctx)
		if err != nil {
			return out, err
		}
		// One taking per funder, so the PLUS bonus goes back to PLUS and the base to the
		// platform: the ledger's funders, the metrics and a PLUS refund's "bonus received"
		// all read the entries by funding.
		byFunder := map[string]int64{}
		var funders []string
		for _, e := range earned {
			if _, ok := byFunder[e.Funding]; !ok {
				funders = append(funders, e.Funding)
			}
			byFunder[e.Funding] += e.Amount
		}
		slices.Sort(funders) // PLATFORM before PLUS: a stable order of entries
		for _, funder := range funders {
			total := byFunder[funder]
			if total == 0 {
				continue
			}
			what := "Refund"
			if funder == points.FundPlus {
				what = "PLUS bonus refund"
			}
			_, debt, err := b.Take(ctx, points.Debit{Kind: pointentry.KindREFUND, Amount: total, Funding: funder,
				Description: fmt.Sprintf("%s of order %s, item %s", what, in.Body.OrderID, sku), EventID: &ev.ID,
				OrderID: in.Body.OrderID, SKU: sku, FirstFrom: &points.OrderLine{OrderID: in.Body.OrderID, SKU: sku}})
			if err != nil {
				return out, err
			}
			out.Points -= total
			out.DebtPoints += debt
		}
	}
	if err := activity.Refund(ctx, b.Tx, b.Loc, order, in.Body.SKUs, refundedBefore); err != nil {
		return out, err
	}
	var lines []payload.Line
	for _, l := range order.Body.Lines {
		if slices.Contains(in.Body.SKUs, l.SKU) {
			lines = append(lines, l)
		}
	}
	if _, err := medal.Evaluate(ctx, b.Tx, medals, ev.ProgramID, ev.MemberID, b.Now, b.Loc, medal.Affected(payload.OrderRefunded, lines)); err != nil {
		return out, err
	}
	ppy := b.Program.PointsPerYuan
	out.WithholdCents = (out.DebtPoints*100 + ppy - 1) / ppy // round up: never withhold too little
	return out, nil
}

func orderEvent(ctx context.Context, b *points.Book, memberID int, orderID, field string) (*ent.Event, error) {
	o, err := b.Tx.Event.Query().Where(event.MemberID(memberID), event.KindEQ(event.KindORDER_COMPLETED), event.OrderID(orderID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, usererr.New(usererr.NotFound, field+".orderId", "no completed order %q for this member", orderID)
	}
	return o, err
}

func orderLine(ctx context.Context, b *points.Book, memberID int, orderID, sku, field string) (payload.Line, error) {
	o, err := orderEvent(ctx, b, memberID, orderID, field)
	if err != nil {
		return payload.Line{}, err
	}
	for _, l := range o.Body.Lines {
		if l.SKU == sku {
			return l, nil
		}
	}
	return payload.Line{}, usererr.New(usererr.NotFound, field+".skus.0", "order %q has no line %q", orderID, sku)
}

// day returns the programme-local calendar day around t, as UTC instants.
func day(t time.Time, loc *time.Location) (time.Time, time.Time) {
	l := t.In(loc)
	start := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	return start.UTC(), start.AddDate(0, 0, 1).UTC()
}

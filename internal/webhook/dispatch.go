package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/outboxmessage"
	"github.com/membergraph/membergraph/ent/webhookdelivery"
	"github.com/membergraph/membergraph/ent/webhookendpoint"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/store"
)

// Config tunes a Dispatcher. Zero fields take the defaults of withDefaults; serve's
// --webhook-* flags set them.
type Config struct {
	// Owner names this replica in the leases it takes (default host name, process id and a
	// random suffix): two replicas must never share one.
	Owner string
	// Poll is how long the dispatcher sleeps when it found nothing to do (default 1 s): a
	// message waits at most about this long for its first attempt.
	Poll time.Duration
	// Batch is how many messages one round fans out and how many deliveries it takes
	// (default 100).
	Batch int
	// Workers is how many deliveries one replica sends at once (default 8).
	Workers int
	// Timeout bounds one HTTP attempt (default 10 s).
	Timeout time.Duration
	// Lease is how long a replica holds a delivery it took (default 60 s). It must exceed
	// Timeout: a delivery is taken again only once its lease is over, which is how several
	// replicas never send one message at the same time, and how a delivery whose replica died
	// mid-attempt is sent again.
	Lease time.Duration
	// Backoff is the wait after the first failed attempt (default 5 s); each further failure
	// doubles it, up to MaxBackoff (default 1 h).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// RetryFor is how long a message is retried before its delivery is FAILED (default
	// 72 h; at least 24 h in production, which serve's flag checks).
	RetryFor time.Duration
	// DisableAfter is the run of failed attempts in a row after which an endpoint is
	// DISABLED (default 100: at MaxBackoff that is days of an endpoint that never answers).
	DisableAfter int
}

// Defaults of Config that serve's flags show.
const (
	DefaultRetryFor     = 72 * time.Hour
	DefaultDisableAfter = 100
	DefaultBackoff      = 5 * time.Second
	DefaultMaxBackoff   = time.Hour
	DefaultLease        = 60 * time.Second
)

func (c *Config) withDefaults() {
	if c.Owner == "" {
		c.Owner = outbox.ReaderName()
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.Lease <= c.Timeout {
		c.Timeout = c.Lease / 2
	}
	if c.Backoff <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.RetryFor <= 0 {
		c.RetryFor = DefaultRetryFor
	}
	if c.DisableAfter <= 0 {
		c.DisableAfter = DefaultDisableAfter
	}
}

// Dispatcher delivers the outbox: it fans each message out into one delivery per endpoint
// subscribed to its type, then sends the deliveries due, at least once each, in sequence per
// member and endpoint (a member's next message waits until the one before was delivered or
// given up), with exponential backoff between attempts.
type Dispatcher struct {
	client *ent.Client
	clock  clock.Clock
	cfg    Config
	http   *http.Client
	log    *slog.Logger
	round  int
}

// NewDispatcher returns a dispatcher; Run starts it.
func NewDispatcher(client *ent.Client, c clock.Clock, cfg Config, logger *slog.Logger) *Dispatcher {
	cfg.withDefaults()
	if logger == nil {
		logger = slog.Default()
	}
	return &Dispatcher{client: client, clock: c, cfg: cfg, log: logger,
		http: &http.Client{Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			// A redirect would send the signed body elsewhere than the operator said.
			return http.ErrUseLastResponse
		}}}
}

// Run delivers until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	ctx = auth.SystemContext(ctx, 0)
	for ctx.Err() == nil {
		busy, err := d.Step(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.Warn("webhook dispatch", "err", err)
		}
		if busy && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(d.cfg.Poll):
		}
	}
}

// Step runs one round: fan out, take what is due, send it. busy reports whether it found
// work, so that Run goes on at once.
func (d *Dispatcher) Step(ctx context.Context) (busy bool, err error) {
	ctx = auth.SystemContext(ctx, 0)
	fanned, err := d.fanOut(ctx)
	if err != nil {
		return false, err
	}
	taken, err := d.take(ctx)
	if err != nil {
		return fanned > 0, err
	}
	d.send(ctx, taken)
	return fanned > 0 || len(taken) > 0, nil
}

// fanOut turns messages not yet fanned out into deliveries, one per active endpoint of their
// programme subscribed to their type, and marks them fanned out, in one transaction. Two
// replicas may fan out one message at the same time: the unique (message, endpoint) keeps
// one delivery.
func (d *Dispatcher) fanOut(ctx context.Context) (int, error) {
	msgs, err := d.client.OutboxMessage.Query().Where(outboxmessage.FannedOut(false)).
		Order(ent.Asc(outboxmessage.FieldID)).Limit(d.cfg.Batch).All(ctx)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	var progs, ids []int
	for _, m := range msgs {
		ids = append(ids, m.ID)
		if !slices.Contains(progs, m.ProgramID) {
			progs = append(progs, m.ProgramID)
		}
	}
	eps, err := d.client.WebhookEndpoint.Query().Where(webhookendpoint.ProgramIDIn(progs...),
		webhookendpoint.StatusEQ(webhookendpoint.StatusACTIVE)).All(ctx)
	if err != nil {
		return 0, err
	}
	now := d.clock.Now()
	return len(msgs), store.WithTx(ctx, d.client, func(tx *ent.Tx) error {
		var bulk []*ent.WebhookDeliveryCreate
		for _, m := range msgs {
			for _, e := range eps {
				if e.ProgramID == m.ProgramID && slices.Contains(e.EventTypes, m.EventType) {
					bulk = append(bulk, tx.WebhookDelivery.Create().SetProgramID(m.ProgramID).SetEndpointID(e.ID).
						SetMessageID(m.ID).SetMemberID(m.MemberID).SetEventType(m.EventType).
						SetNextAttemptAt(now).SetCreatedAt(now))
				}
			}
		}
		for part := range slices.Chunk(bulk, 500) {
			err := tx.WebhookDelivery.CreateBulk(part...).
				OnConflict(sql.ConflictColumns(webhookdelivery.FieldMessageID, webhookdelivery.FieldEndpointID), sql.DoNothing()).
				Exec(ctx)
			if err != nil {
				return err
			}
		}
		return tx.OutboxMessage.Update().Where(outboxmessage.IDIn(ids...)).SetFannedOut(true).Exec(ctx)
	})
}

// take leases the deliveries due that head their member's queue at their endpoint: pending,
// due, not leased (or the lease run out), the endpoint active, and no earlier message of the
// member still pending there. The UPDATE's WHERE repeats the lease test, so of replicas that
// pick the same delivery only one takes it.
func (d *Dispatcher) take(ctx context.Context) ([]*ent.WebhookDelivery, error) {
	now := d.clock.Now()
	heads, err := d.client.WebhookDelivery.Query().
		Where(webhookdelivery.StatusEQ(webhookdelivery.StatusPENDING), webhookdelivery.NextAttemptAtLTE(now),
			webhookdelivery.Or(webhookdelivery.LeaseUntilIsNil(), webhookdelivery.LeaseUntilLT(now))).
		Modify(func(s *sql.Selector) {
			ep := sql.Table(webhookendpoint.Table).As("ep")
			s.Where(sql.Exists(sql.Select(ep.C(webhookendpoint.FieldID)).From(ep).Where(sql.And(
				sql.ColumnsEQ(ep.C(webhookendpoint.FieldID), s.C(webhookdelivery.FieldEndpointID)),
				sql.EQ(ep.C(webhookendpoint.FieldStatus), webhookendpoint.StatusACTIVE.String())))))
			prev := sql.Table(webhookdelivery.Table).As("prev")
			s.Where(sql.Not(sql.Exists(sql.Select(prev.C(webhookdelivery.FieldID)).From(prev).Where(sql.And(
				sql.ColumnsEQ(prev.C(webhookdelivery.FieldEndpointID), s.C(webhookdelivery.FieldEndpointID)),
				sql.ColumnsEQ(prev.C(webhookdelivery.FieldMemberID), s.C(webhookdelivery.FieldMemberID)),
				sql.ColumnsLT(prev.C(webhookdelivery.FieldMessageID), s.C(webhookdelivery.FieldMessageID)),
				sql.EQ(prev.C(webhookdelivery.FieldStatus), webhookdelivery.StatusPENDING.String()))))))
		}).
		Order(ent.Asc(webhookdelivery.FieldMessageID), ent.Asc(webhookdelivery.FieldID)).Limit(d.cfg.Batch).IDs(ctx)
	if err != nil || len(heads) == 0 {
		return nil, err
	}
	d.round++
	token := fmt.Sprintf("%.50s/%d", d.cfg.Owner, d.round)
	err = d.client.WebhookDelivery.Update().
		Where(webhookdelivery.IDIn(heads...), webhookdelivery.StatusEQ(webhookdelivery.StatusPENDING),
			webhookdelivery.Or(webhookdelivery.LeaseUntilIsNil(), webhookdelivery.LeaseUntilLT(now))).
		SetLeaseOwner(token).SetLeaseUntil(now.Add(d.cfg.Lease)).Exec(ctx)
	if err != nil {
		return nil, err
	}
	return d.client.WebhookDelivery.Query().Where(webhookdelivery.IDIn(heads...), webhookdelivery.LeaseOwner(token)).
		Order(ent.Asc(webhookdelivery.FieldMessageID)).All(ctx)
}

// send attempts each taken delivery, Workers at a time, and records the outcome.
func (d *Dispatcher) send(ctx context.Context, taken []*ent.WebhookDelivery) {
	if len(taken) == 0 {
		return
	}
	msgIDs, epIDs := make([]int, 0, len(taken)), []int{}
	for _, t := range taken {
		msgIDs = append(msgIDs, t.MessageID)
		if !slices.Contains(epIDs, t.EndpointID) {
			epIDs = append(epIDs, t.EndpointID)
		}
	}
	msgs, err := d.client.OutboxMessage.Query().Where(outboxmessage.IDIn(msgIDs...)).All(ctx)
	if err != nil {
		d.log.Warn("webhook: reading messages", "err", err)
		return
	}
	byID := map[int]*ent.OutboxMessage{}
	var memberIDs []int
	for _, m := range msgs {
		byID[m.ID] = m
		memberIDs = append(memberIDs, m.MemberID)
	}
	members, err := d.client.Member.Query().Where(member.IDIn(memberIDs...)).Select(member.FieldID, member.FieldExternalID).All(ctx)
	if err != nil {
		d.log.Warn("webhook: reading members", "err", err)
		return
	}
	external := map[int]string{}
	for _, m := range members {
		external[m.ID] = m.ExternalID
	}
	eps, err := d.client.WebhookEndpoint.Query().Where(webhookendpoint.IDIn(epIDs...)).All(ctx)
	if err != nil {
		d.log.Warn("webhook: reading endpoints", "err", err)
		return
	}
	epByID := map[int]*ent.WebhookEndpoint{}
	for _, e := range eps {
		epByID[e.ID] = e
	}
	sem := make(chan struct{}, d.cfg.Workers)
	var wg sync.WaitGroup
	for _, t := range taken {
		m, e := byID[t.MessageID], epByID[t.EndpointID]
		if m == nil || e == nil {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			attemptErr := d.attempt(ctx, e, m, external[m.MemberID])
			if err := d.record(ctx, t, attemptErr); err != nil {
				d.log.Warn("webhook: recording an attempt", "delivery", t.ID, "err", err)
			}
		}()
	}
	wg.Wait()
}

// Body is the JSON body of every delivery, the Standard Webhooks payload structure: the
// message's type, when the change happened, and its data.
type Body struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      BodyData  `json:"data"`
}

// BodyData names the member and the message's place in the outbox, then the change.
type BodyData struct {
	Sequence   int             `json:"sequence"` // outbox.Sequence: a member's messages come in its order
	ExternalID string          `json:"externalId"`
	Change     json.RawMessage `json:"change"`
}

// MessageID is a message's webhook-id: the same for every attempt, as the spec asks, so a
// receiver can drop a repeat.
func MessageID(outboxID int) string { return "msg_" + strconv.Itoa(outbox.Sequence(outboxID)) }

// attempt POSTs the message to the endpoint once; nil when it answered 2xx.
func (d *Dispatcher) attempt(ctx context.Context, e *ent.WebhookEndpoint, m *ent.OutboxMessage, externalID string) error {
	body, err := json.Marshal(Body{Type: m.EventType, Timestamp: m.CreatedAt.UTC(),
		Data: BodyData{Sequence: outbox.Sequence(m.ID), ExternalID: externalID, Change: m.Payload}})
	if err != nil {
		return err
	}
	id, ts := MessageID(m.ID), time.Now()
	sig, err := Sign(e.Secret, id, ts, body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "membergraph-webhooks")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// record writes an attempt's outcome on the delivery (while this round's lease holds it) and
// on its endpoint's run of failures, disabling the endpoint when the run reaches
// DisableAfter: one transaction, run again on a lock conflict (store.WithRetry) — two
// dispatchers' records and takes can deadlock, and a delivered attempt whose record was
// lost would be sent again once its lease ran out.
func (d *Dispatcher) record(ctx context.Context, t *ent.WebhookDelivery, attemptErr error) error {
	now := d.clock.Now()
	return store.WithRetry(ctx, d.client, func(tx *ent.Tx) error {
		u := tx.WebhookDelivery.Update().Where(webhookdelivery.ID(t.ID), webhookdelivery.LeaseOwner(t.LeaseOwner)).
			AddAttempts(1).SetLeaseOwner("").ClearLeaseUntil()
		if attemptErr == nil {
			if err := u.SetStatus(webhookdelivery.StatusDELIVERED).SetDeliveredAt(now).SetLastError("").Exec(ctx); err != nil {
				return err
			}
			return tx.WebhookEndpoint.Update().Where(webhookendpoint.ID(t.EndpointID), webhookendpoint.FailureRunGT(0)).
				SetFailureRun(0).Exec(ctx)
		}
		msg := attemptErr.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		u.SetLastError(msg)
		if now.Sub(t.CreatedAt) >= d.cfg.RetryFor {
			u.SetStatus(webhookdelivery.StatusFAILED)
		} else {
			u.SetNextAttemptAt(now.Add(d.backoff(t.Attempts + 1)))
		}
		if err := u.Exec(ctx); err != nil {
			return err
		}
		if err := tx.WebhookEndpoint.UpdateOneID(t.EndpointID).AddFailureRun(1).Exec(ctx); err != nil {
			return err
		}
		return tx.WebhookEndpoint.Update().Where(webhookendpoint.ID(t.EndpointID),
			webhookendpoint.StatusEQ(webhookendpoint.StatusACTIVE), webhookendpoint.FailureRunGTE(d.cfg.DisableAfter)).
			SetStatus(webhookendpoint.StatusDISABLED).
			SetDisabledReason(fmt.Sprintf("%d delivery attempts failed in a row; the last: %.200s", d.cfg.DisableAfter, msg)).Exec(ctx)
	})
}

// backoff is the wait after the n-th failed attempt: Backoff doubled n-1 times, at most
// MaxBackoff.
func (d *Dispatcher) backoff(n int) time.Duration {
	w := d.cfg.Backoff
	for i := 1; i < n && w < d.cfg.MaxBackoff; i++ {
		w *= 2
	}
	return min(w, d.cfg.MaxBackoff)
}

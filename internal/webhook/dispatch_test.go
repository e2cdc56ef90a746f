package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/webhookdelivery"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/webhook"
)

// verify checks a delivery the way a receiver written from the Standard Webhooks
// specification does, independently of the product's signer: the secret is whsec_ and the
// base64 of the key; the signed content is "<webhook-id>.<webhook-timestamp>.<body>"; the
// header lists space-separated "v1,<base64 HMAC-SHA256>" signatures, any of which may match;
// a timestamp more than 5 minutes off is refused.
func verify(secret string, h http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return fmt.Errorf("secret: %v", err)
	}
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing headers: id %q timestamp %q signature %q", id, ts, sigs)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %v", ts, err)
	}
	if d := time.Since(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s off by %s", ts, d)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no signature in %q matches", sigs)
}

// received is one delivery a test receiver accepted.
type received struct {
	ID         string
	ExternalID string
	Sequence   int
	Change     points.PointsChange
}

// receiver is a webhook endpoint over real HTTP: it verifies each delivery, answers 503
// while down, and keeps what it accepted in arrival order.
type receiver struct {
	t       *testing.T
	srv     *httptest.Server
	secret  atomic.Value // string
	down    atomic.Bool
	refused atomic.Int32 // attempts answered 503
	delay   time.Duration

	mu       sync.Mutex
	got      []received
	inFlight map[string]int
	overlap  []string // webhook-ids received twice at the same time
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, inFlight: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	r.inFlight[id]++
	if r.inFlight[id] > 1 {
		r.overlap = append(r.overlap, id)
	}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inFlight[id]--
		r.mu.Unlock()
	}()
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	if r.down.Load() {
		r.refused.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if err := verify(r.secret.Load().(string), req.Header, body); err != nil {
		r.t.Errorf("delivery %s: %v", id, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var b struct {
		Type string `json:"type"`
		Data struct {
			Sequence   int                 `json:"sequence"`
			ExternalID string              `json:"externalId"`
			Change     points.PointsChange `json:"change"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.Type != outbox.PointsChanged {
		r.t.Errorf("delivery %s: body %s: %v", id, body, err)
	}
	r.mu.Lock()
	r.got = append(r.got, received{id, b.Data.ExternalID, b.Data.Sequence, b.Data.Change})
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) accepted() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

type fixture struct {
	db     *store.DB
	admin  context.Context
	ledger *points.Ledger
	hooks  *webhook.Service
}

func setup(t *testing.T, db *store.DB, members ...string) fixture {
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
	for _, m := range members {
		if _, err := memberpkg.NewService(db.Client, clock.System{}).Register(admin,
			memberpkg.Registration{ExternalID: m, Channel: member.RegistrationChannelAPP}); err != nil {
			t.Fatal(err)
		}
	}
	return fixture{db: db, admin: admin, ledger: points.NewLedger(db.Client, db.Dialect, clock.System{}, nil),
		hooks: webhook.NewService(db.Client, clock.System{})}
}

func (f fixture) adjust(t *testing.T, externalID string, pts int64, key string) {
	t.Helper()
	if _, err := f.ledger.Adjust(f.admin, points.AdjustRequest{ExternalID: externalID, Points: pts,
		Reason: "test adjustment", IdempotencyKey: key}); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) endpoint(t *testing.T, r *receiver) *ent.WebhookEndpoint {
	t.Helper()
	e, secret, err := f.hooks.Create(f.admin, webhook.EndpointInput{URL: r.srv.URL + "/hooks", EventTypes: []string{outbox.PointsChanged}})
	if err != nil {
		t.Fatal(err)
	}
	r.secret.Store(secret)
	return e
}

// fast is a dispatcher configuration for tests: retries in tens of milliseconds.
func fast(owner string) webhook.Config {
	return webhook.Config{Owner: owner, Poll: 10 * time.Millisecond, Backoff: 20 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond, Lease: 5 * time.Second, Timeout: 2 * time.Second, DisableAfter: 10000}
}

func waitDelivered(t *testing.T, f fixture, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := f.db.Client.WebhookDelivery.Query().Where(webhookdelivery.StatusEQ(webhookdelivery.StatusDELIVERED)).Count(f.admin)
		if err != nil {
			t.Fatal(err)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries delivered after 20 s", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDeliveriesAfterAnOutage: a receiver that answers 503 for a while gets, once it is up,
// every message, each verified by the spec's own rule (verify, not the product's signer),
// each member's in the order its changes committed. Adjustments a +10, b +20, a +30, a −5
// and b −7 are five ledger entries, so five points.changed messages: a's come as +10, +30,
// −5 and b's as +20, −7, whatever the interleaving of the two members.
func TestDeliveriesAfterAnOutage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "a", "b")
		r := newReceiver(t)
		f.endpoint(t, r)
		r.down.Store(true)
		f.adjust(t, "a", 10, "k1")
		f.adjust(t, "b", 20, "k2")
		f.adjust(t, "a", 30, "k3")
		f.adjust(t, "a", -5, "k4")
		f.adjust(t, "b", -7, "k5")

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		d := webhook.NewDispatcher(db.Client, clock.System{}, fast("one"), nil)
		done := make(chan struct{})
		go func() { d.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()

		deadline := time.Now().Add(10 * time.Second)
		for r.refused.Load() < 6 { // both members' heads refused three times each, say
			if time.Now().After(deadline) {
				t.Fatalf("only %d attempts while down", r.refused.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got := r.accepted(); len(got) != 0 {
			t.Fatalf("accepted while down: %+v", got)
		}
		r.down.Store(false)
		waitDelivered(t, f, 5)

		got := r.accepted()
		byMember := map[string][]int64{}
		lastSeq := map[string]int{}
		seen := map[string]bool{}
		for _, g := range got {
			if seen[g.ID] {
				continue // at least once: a repeat is allowed, the receiver drops it by webhook-id
			}
			seen[g.ID] = true
			if prev, ok := lastSeq[g.ExternalID]; ok && g.Sequence <= prev {
				t.Errorf("member %s: sequence %d after %d", g.ExternalID, g.Sequence, prev)
			}
			lastSeq[g.ExternalID] = g.Sequence
			byMember[g.ExternalID] = append(byMember[g.ExternalID], g.Change.Amount)
		}
		if fmt.Sprint(byMember["a"]) != "[10 30 -5]" || fmt.Sprint(byMember["b"]) != "[20 -7]" {
			t.Errorf("received a %v, b %v; want a [10 30 -5], b [20 -7]", byMember["a"], byMember["b"])
		}
		ds, err := db.Client.WebhookDelivery.Query().All(f.admin)
		if err != nil {
			t.Fatal(err)
		}
		for _, dl := range ds {
			if dl.Status != webhookdelivery.StatusDELIVERED || dl.Attempts < 1 || dl.LeaseOwner != "" {
				t.Errorf("delivery %d: %s after %d attempts, lease %q", dl.ID, dl.Status, dl.Attempts, dl.LeaseOwner)
			}
		}
		t.Logf("%d attempts refused while down; %d accepted", r.refused.Load(), len(got))
	})
}

// TestTwoDispatchersDeliverOnce: two dispatchers (two replicas' worth) on one database share
// 30 messages of three members: the receiver gets each exactly once (it never fails, so
// nothing is retried), never one message twice at the same time, each member's in order.
func TestTwoDispatchersDeliverOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "a", "b", "c")
		r := newReceiver(t)
		r.delay = 5 * time.Millisecond
		f.endpoint(t, r)
		for i := range 30 {
			f.adjust(t, []string{"a", "b", "c"}[i%3], int64(i+1), fmt.Sprintf("k%d", i))
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, owner := range []string{"one", "two"} {
			d := webhook.NewDispatcher(db.Client, clock.System{}, fast(owner), nil)
			wg.Add(1)
			go func() { defer wg.Done(); d.Run(ctx) }()
		}
		waitDelivered(t, f, 30)
		cancel()
		wg.Wait()
		got := r.accepted()
		count := map[string]int{}
		last := map[string]int{}
		for _, g := range got {
			count[g.ID]++
			if prev, ok := last[g.ExternalID]; ok && g.Sequence <= prev {
				t.Errorf("member %s: sequence %d after %d", g.ExternalID, g.Sequence, prev)
			}
			last[g.ExternalID] = g.Sequence
		}
		if len(got) != 30 || len(count) != 30 {
			t.Errorf("%d deliveries of %d messages, want 30 of 30", len(got), len(count))
		}
		if len(r.overlap) > 0 {
			t.Errorf("delivered twice at once: %v", r.overlap)
		}
	})
}

package main

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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/membergraph/membergraph/ent/outboxmessage"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// fastWebhooks are serve flags that make retries and lease expiry take moments, not hours.
var fastWebhooks = []string{"--webhook-poll", "50ms", "--webhook-backoff", "50ms", "--webhook-max-backoff", "200ms",
	"--webhook-lease", "2s", "--webhook-timeout", "1s", "--live-poll", "50ms"}

// hookReceiver is a webhook endpoint in the test process. It checks each delivery by the
// Standard Webhooks rule written out here (HMAC-SHA256 of "id.timestamp.body" under the
// base64 key after whsec_, sent as v1,<base64>), not by the product's signer.
type hookReceiver struct {
	t       *testing.T
	srv     *httptest.Server
	secret  string
	down    atomic.Bool
	slow    time.Duration
	started atomic.Int32 // requests begun

	mu       sync.Mutex
	accepted []hookGot
	inFlight map[string]int
	overlap  []string
}

type hookGot struct {
	id, member string
	seq        int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{t: t, inFlight: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.started.Add(1)
		body, _ := io.ReadAll(req.Body)
		id := req.Header.Get("webhook-id")
		r.mu.Lock()
		r.inFlight[id]++
		if r.inFlight[id] > 1 {
			r.overlap = append(r.overlap, id)
		}
		secret := r.secret
		r.mu.Unlock()
		defer func() { r.mu.Lock(); r.inFlight[id]--; r.mu.Unlock() }()
		time.Sleep(r.slow)
		if r.down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + req.Header.Get("webhook-timestamp") + "."))
		mac.Write(body)
		if req.Header.Get("webhook-signature") != "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			t.Errorf("delivery %s: signature %q does not verify", id, req.Header.Get("webhook-signature"))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var b struct {
			Data struct {
				Sequence   int
				ExternalID string
			}
		}
		_ = json.Unmarshal(body, &b)
		r.mu.Lock()
		r.accepted = append(r.accepted, hookGot{id, b.Data.ExternalID, b.Data.Sequence})
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) got() []hookGot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookGot(nil), r.accepted...)
}

// createHook makes an endpoint for r through the API and keeps its secret in r.
func createHook(t *testing.T, admin *chaosClient, r *hookReceiver) {
	t.Helper()
	a, err := admin.post(`mutation($u: String!) { createWebhookEndpoint(input: {url: $u, eventTypes: ["points.changed"]}) { secret userErrors { code } } }`,
		map[string]any{"u": r.srv.URL})
	var out struct{ CreateWebhookEndpoint struct{ Secret string } }
	if err != nil || len(a.Errors) > 0 || json.Unmarshal(a.Data, &out) != nil || out.CreateWebhookEndpoint.Secret == "" {
		t.Fatalf("createWebhookEndpoint: %v %+v %s", err, a.Errors, a.Data)
	}
	r.mu.Lock()
	r.secret = out.CreateWebhookEndpoint.Secret
	r.mu.Unlock()
}

func adjustThrough(t *testing.T, c *chaosClient, member string, pts int, key string) {
	t.Helper()
	a, err := c.post(`mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { userErrors { code } } }`,
		map[string]any{"i": map[string]any{"externalId": member, "points": pts, "reason": "webhook test", "idempotencyKey": key}})
	if err != nil || len(a.Errors) > 0 || !strings.Contains(string(a.Data), `"userErrors":[]`) {
		t.Fatalf("adjustPoints: %v %+v %s", err, a.Errors, a.Data)
	}
}

// pointsMessages counts the outbox's points.changed messages, read from the database.
func pointsMessages(t *testing.T, databaseURL string) int {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := db.Client.OutboxMessage.Query().Where(outboxmessage.EventType("points.changed")).Count(auth.SystemContext(ctx, 0))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitAccepted waits until the receiver accepted n distinct messages and returns them.
func waitAccepted(t *testing.T, r *hookReceiver, n int, within time.Duration) []hookGot {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := r.got()
		ids := map[string]bool{}
		for _, g := range got {
			ids[g.id] = true
		}
		if len(ids) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages accepted after %s", len(ids), n, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// inOrder fails when a member's messages, first receipts only, are not in sequence.
func inOrder(t *testing.T, got []hookGot) {
	t.Helper()
	seen, last := map[string]bool{}, map[string]int{}
	for _, g := range got {
		if seen[g.id] {
			continue
		}
		seen[g.id] = true
		if prev, ok := last[g.member]; ok && g.seq <= prev {
			t.Errorf("member %s: sequence %d after %d", g.member, g.seq, prev)
		}
		last[g.member] = g.seq
	}
}

// TestWebhooksSurviveKill9: with the receiver failing slowly, the server is killed (-9)
// while an attempt is in flight and others wait their backoff; the same binary started
// again on the database delivers every message once the receiver is up (the killed
// attempt's lease runs out first), each member's in order.
func TestWebhooksSurviveKill9(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			databaseURL := b.URL(t)
			bin := buildBinary(t)
			env := chaosEnv(t, databaseURL)
			srv := startServe(t, bin, t.TempDir(), env, fastWebhooks...)
			admin := newChaosClient(t, srv.base, auth.RoleAdmin)
			admin.register(t, "w-a", "w-b")
			r := newHookReceiver(t)
			r.slow = 100 * time.Millisecond
			r.down.Store(true)
			createHook(t, admin, r)
			// a: +1 … +6, b: +10 … +40: ten adjustments, ten points.changed messages.
			for i := range 6 {
				adjustThrough(t, admin, "w-a", i+1, fmt.Sprintf("a-%d", i))
			}
			for i := range 4 {
				adjustThrough(t, admin, "w-b", 10*(i+1), fmt.Sprintf("b-%d", i))
			}
			deadline := time.Now().Add(10 * time.Second)
			for r.started.Load() < 4 {
				if time.Now().After(deadline) {
					t.Fatalf("only %d attempts before the kill", r.started.Load())
				}
				time.Sleep(10 * time.Millisecond)
			}
			for { // kill while an attempt is in flight
				r.mu.Lock()
				busy := 0
				for _, n := range r.inFlight {
					busy += n
				}
				r.mu.Unlock()
				if busy > 0 {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			srv.kill9()
			r.down.Store(false)
			if got := r.got(); len(got) != 0 {
				t.Fatalf("accepted while down: %+v", got)
			}
			startServe(t, bin, t.TempDir(), env, fastWebhooks...)
			want := pointsMessages(t, databaseURL)
			if want != 10 {
				t.Fatalf("%d points.changed messages in the outbox, want 10", want)
			}
			got := waitAccepted(t, r, want, 30*time.Second)
			inOrder(t, got)
			t.Logf("%d attempts in all, %d accepted", r.started.Load(), len(got))
		})
	}
}

// TestTwoServersDeliverOnce: two serve processes on one database, events recorded through
// both (the set-based batch path writes the outbox): the receiver, never failing, gets every
// points.changed message exactly once, never one twice at the same time, each member's in
// sequence.
func TestTwoServersDeliverOnce(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			databaseURL := b.URL(t)
			bin := buildBinary(t)
			env := chaosEnv(t, databaseURL)
			one := startServe(t, bin, t.TempDir(), env, fastWebhooks...)
			two := startServe(t, bin, t.TempDir(), env, fastWebhooks...)
			admin := newChaosClient(t, one.base, auth.RoleAdmin)
			members := []string{"d-a", "d-b", "d-c"}
			admin.register(t, members...)
			r := newHookReceiver(t)
			r.slow = 5 * time.Millisecond
			createHook(t, admin, r)
			now := time.Now()
			for i, base := range []string{one.base, two.base, one.base, two.base} {
				svc := newChaosClient(t, base, auth.RoleService)
				var evs []map[string]any
				for j := range 6 {
					evs = append(evs, chaosOrder(fmt.Sprintf("o-%d-%d", i, j), members[j%3], 5000+j*100, now))
				}
				res, a, err := svc.record(evs)
				if err != nil || a.code() != "" {
					t.Fatalf("recordEvents: %v %+v", err, a.Errors)
				}
				for _, x := range res {
					if x.Status != "ACCEPTED" {
						t.Fatalf("event %s: %s", x.IdempotencyKey, x.Status)
					}
				}
			}
			want := pointsMessages(t, databaseURL)
			if want < 24 {
				t.Fatalf("%d points.changed messages for 24 accepted orders", want)
			}
			waitAccepted(t, r, want, 30*time.Second)
			time.Sleep(500 * time.Millisecond) // a second delivery of any would come by now
			got := r.got()
			count := map[string]int{}
			for _, g := range got {
				count[g.id]++
			}
			for id, n := range count {
				if n != 1 {
					t.Errorf("message %s delivered %d times", id, n)
				}
			}
			if len(count) != want {
				t.Errorf("%d messages delivered, want %d", len(count), want)
			}
			if len(r.overlap) > 0 {
				t.Errorf("delivered twice at once: %v", r.overlap)
			}
			inOrder(t, got)
		})
	}
}

// TestSubscriptionAcrossServers: a MEMBER subscribed to memberUpdated on one serve process
// receives a points change committed through another process on the same database.
func TestSubscriptionAcrossServers(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			databaseURL := b.URL(t)
			bin := buildBinary(t)
			env := chaosEnv(t, databaseURL)
			one := startServe(t, bin, t.TempDir(), env, fastWebhooks...)
			two := startServe(t, bin, t.TempDir(), env, fastWebhooks...)
			admin := newChaosClient(t, two.base, auth.RoleAdmin)
			admin.register(t, "s-a")
			signer, err := auth.NewSigner([]byte(testSecret), nil)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := signer.Issue(auth.TokenRequest{Role: auth.RoleMember, Subject: "s-a", TTL: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
			c, _, err := d.Dial("ws"+strings.TrimPrefix(one.base, "http")+"/graphql", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			send := func(m map[string]any) {
				if err := c.WriteJSON(m); err != nil {
					t.Fatal(err)
				}
			}
			read := func() map[string]json.RawMessage {
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				var m map[string]json.RawMessage
				if err := c.ReadJSON(&m); err != nil {
					t.Fatal(err)
				}
				return m
			}
			send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + tok}})
			if m := read(); string(m["type"]) != `"connection_ack"` {
				t.Fatalf("init: %v", m)
			}
			send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
				"query": `subscription { memberUpdated { type change member { points { balance } } } }`}})
			time.Sleep(300 * time.Millisecond) // the subscription's feed starts before the change
			adjustThrough(t, admin, "s-a", 25, "sub-1")
			m := read()
			// One adjustment of +25 on an empty account: amount 25, balance 25.
			if string(m["type"]) != `"next"` || !strings.Contains(string(m["payload"]), `"type":"points.changed"`) ||
				!strings.Contains(string(m["payload"]), `\"amount\":25`) || !strings.Contains(string(m["payload"]), `"balance":25`) {
				t.Fatalf("pushed %s %s", m["type"], m["payload"])
			}
		})
	}
}

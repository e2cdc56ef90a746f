package graph_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/webhook"
)

const createEndpoint = `mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { endpoint { id url eventTypes description status } secret userErrors { field message code } }
}`

type endpointPayload struct {
	Endpoint *struct {
		ID          string
		URL         string
		EventTypes  []string
		Description string
		Status      string
	}
	Secret     *string
	UserErrors []userError
}

// TestWebhookEndpointsAPI: ADMIN alone manages endpoints; malformed input is refused at the
// field that is wrong and creates nothing; the secret is shown on create and rotate only; a
// points change reaches the endpoint signed, shows as DELIVERED, and redeliverWebhook sends
// it once more under the same webhook-id.
func TestWebhookEndpointsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		admin := a.token(auth.RoleAdmin, "ops")
		a.register("alice", nil)

		var mu sync.Mutex
		var ids []string
		var secret string
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			// The spec's check, written here: HMAC-SHA256 of id.timestamp.body under the
			// base64-decoded whsec_ secret, sent as v1,<base64>.
			key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
			mac := hmac.New(sha256.New, key)
			mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(body)))
			if r.Header.Get("webhook-signature") != "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
				t.Errorf("bad signature %q", r.Header.Get("webhook-signature"))
			}
			ids = append(ids, r.Header.Get("webhook-id"))
		}))
		defer recv.Close()

		for _, c := range []struct {
			input map[string]any
			field string
		}{
			{map[string]any{"url": "ftp://example.com/x", "eventTypes": []string{"points.changed"}}, "input.url"},
			{map[string]any{"url": "no url", "eventTypes": []string{"points.changed"}}, "input.url"},
			{map[string]any{"url": "https://user:pw@example.com/", "eventTypes": []string{"points.changed"}}, "input.url"},
			{map[string]any{"url": "https:///nohost", "eventTypes": []string{"points.changed"}}, "input.url"},
			{map[string]any{"url": "https://example.com/" + strings.Repeat("a", 2048), "eventTypes": []string{"points.changed"}}, "input.url"},
			{map[string]any{"url": "https://example.com/", "eventTypes": []string{}}, "input.eventTypes"},
			{map[string]any{"url": "https://example.com/", "eventTypes": []string{"points.moved"}}, "input.eventTypes"},
			{map[string]any{"url": "https://example.com/", "eventTypes": []string{"points.changed"}, "description": strings.Repeat("d", 501)}, "input.description"},
		} {
			var out struct{ CreateWebhookEndpoint endpointPayload }
			a.must(admin, createEndpoint, map[string]any{"input": c.input}, &out)
			p := out.CreateWebhookEndpoint
			if p.Endpoint != nil || p.Secret != nil || len(p.UserErrors) != 1 || strings.Join(p.UserErrors[0].Field, ".") != c.field || p.UserErrors[0].Code != "INVALID_ARGUMENT" {
				t.Errorf("%v: %+v, want INVALID_ARGUMENT at %s", c.input, p, c.field)
			}
		}
		var none struct{ WebhookEndpoints []struct{ ID string } }
		a.must(admin, `{ webhookEndpoints { id } }`, nil, &none)
		if len(none.WebhookEndpoints) != 0 {
			t.Fatalf("refused input created %+v", none.WebhookEndpoints)
		}

		input := map[string]any{"url": recv.URL + "/in", "eventTypes": []string{"points.changed", "tier.changed"}, "description": "CRM"}
		for _, role := range []auth.Role{auth.RoleService, auth.RoleMember, auth.RoleStore, auth.RolePartner} {
			if r := a.do(a.token(role, "alice"), createEndpoint, map[string]any{"input": input}); r.code() != "FORBIDDEN" {
				t.Errorf("%s creates an endpoint: %q", role, r.code())
			}
		}
		var out struct{ CreateWebhookEndpoint endpointPayload }
		a.must(admin, createEndpoint, map[string]any{"input": input}, &out)
		ep := out.CreateWebhookEndpoint
		if ep.Endpoint == nil || ep.Secret == nil || !strings.HasPrefix(*ep.Secret, "whsec_") || ep.Endpoint.Status != "ACTIVE" ||
			strings.Join(ep.Endpoint.EventTypes, ",") != "points.changed,tier.changed" {
			t.Fatalf("created %+v", ep)
		}
		var rotated struct {
			RotateWebhookSecret struct {
				Secret     *string
				UserErrors []userError
			}
		}
		a.must(admin, `mutation($e: ID!) { rotateWebhookSecret(input: {endpoint: $e}) { secret userErrors { field code } } }`,
			map[string]any{"e": ep.Endpoint.ID}, &rotated)
		if rotated.RotateWebhookSecret.Secret == nil || *rotated.RotateWebhookSecret.Secret == *ep.Secret {
			t.Fatalf("rotated: %+v", rotated)
		}
		mu.Lock()
		secret = *rotated.RotateWebhookSecret.Secret // deliveries from now on are signed with it
		mu.Unlock()
		a.must(admin, `mutation { rotateWebhookSecret(input: {endpoint: "999999"}) { secret userErrors { field code } } }`, nil, &rotated)
		if ue := rotated.RotateWebhookSecret.UserErrors; len(ue) != 1 || ue[0].Code != "NOT_FOUND" || strings.Join(ue[0].Field, ".") != "input.endpoint" {
			t.Errorf("unknown endpoint: %+v", rotated)
		}

		a.adjust("alice", 50, "adj-1")
		d := webhook.NewDispatcher(db.Client, clock.System{}, webhook.Config{Owner: "test"}, nil)
		ctx := context.Background()
		for range 2 { // fan out and send, then nothing left
			if _, err := d.Step(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var page struct {
			WebhookDeliveries struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						ID, EventType, Status, LastError string
						Sequence, Attempts               int
					}
				}
			}
		}
		const deliveries = `query($e: ID!) { webhookDeliveries(endpoint: $e, first: 10) { totalCount edges { node { id sequence eventType status attempts lastError } } } }`
		a.must(admin, deliveries, map[string]any{"e": ep.Endpoint.ID}, &page)
		if page.WebhookDeliveries.TotalCount != 1 || page.WebhookDeliveries.Edges[0].Node.Status != "DELIVERED" ||
			page.WebhookDeliveries.Edges[0].Node.EventType != outbox.PointsChanged || page.WebhookDeliveries.Edges[0].Node.Attempts != 1 {
			t.Fatalf("deliveries: %+v", page)
		}
		node := page.WebhookDeliveries.Edges[0].Node
		var again struct {
			RedeliverWebhook struct {
				Delivery   *struct{ Status string }
				UserErrors []userError
			}
		}
		a.must(admin, `mutation($d: ID!) { redeliverWebhook(input: {delivery: $d}) { delivery { status } userErrors { field code } } }`,
			map[string]any{"d": node.ID}, &again)
		if again.RedeliverWebhook.Delivery == nil || again.RedeliverWebhook.Delivery.Status != "PENDING" {
			t.Fatalf("redeliver: %+v", again)
		}
		if _, err := d.Step(ctx); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		want := "msg_" + strconv.Itoa(node.Sequence)
		if len(ids) != 2 || ids[0] != want || ids[1] != want {
			t.Errorf("received %v, want %s twice", ids, want)
		}
		mu.Unlock()

		var disabled struct {
			DisableWebhookEndpoint struct{ Endpoint *struct{ Status string } }
		}
		a.must(admin, `mutation($e: ID!) { disableWebhookEndpoint(input: {endpoint: $e}) { endpoint { status } } }`,
			map[string]any{"e": ep.Endpoint.ID}, &disabled)
		if disabled.DisableWebhookEndpoint.Endpoint == nil || disabled.DisableWebhookEndpoint.Endpoint.Status != "DISABLED" {
			t.Fatalf("disable: %+v", disabled)
		}
		a.adjust("alice", 5, "adj-2") // owed to no endpoint now
		for range 2 {
			if _, err := d.Step(ctx); err != nil {
				t.Fatal(err)
			}
		}
		a.must(admin, deliveries, map[string]any{"e": ep.Endpoint.ID}, &page)
		if page.WebhookDeliveries.TotalCount != 1 {
			t.Errorf("a disabled endpoint was owed %d deliveries, want the 1 from before", page.WebhookDeliveries.TotalCount)
		}
	})
}

// TestMemberUpdatedSubscription: a MEMBER subscribed on one server hears a points change
// committed through another server on the same database (two handlers, two feeds: nothing
// shared but the outbox table); the pushed member shows the new balance. A MEMBER cannot
// follow another member, and an ADMIN must name one.
func TestMemberUpdatedSubscription(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		fast := func(c *graph.ServerConfig) { c.LiveUpdates = outbox.FeedConfig{Poll: 20 * time.Millisecond} }
		a := newAPI(t, db, fast)
		b := newAPI(t, db, fast)
		a.register("alice", nil)
		a.register("bob", nil)

		c := a.wsAcked("graphql-transport-ws", a.token(auth.RoleMember, "alice"))
		sub, _ := json.Marshal(map[string]any{"query": `subscription { memberUpdated { sequence type externalId change member { points { balance } } } }`})
		if err := c.WriteJSON(wsMsg{ID: "1", Type: "subscribe", Payload: sub}); err != nil {
			t.Fatal(err)
		}
		// The feed starts from the newest message when the first listener comes; give the
		// subscription a moment to be set up before the change commits.
		time.Sleep(200 * time.Millisecond)
		b.adjust("bob", 7, "bob-1")   // another member's change: not pushed to alice
		b.adjust("alice", 40, "al-1") // through the other server
		m, err := wsNext(c)
		if err != nil || m.Type != "next" || m.ID != "1" {
			t.Fatalf("want next, got %+v %v", m, err)
		}
		var got struct {
			Data struct {
				MemberUpdated struct {
					Sequence   int
					Type       string
					ExternalID string
					Change     string
					Member     struct{ Points struct{ Balance int } }
				}
			}
		}
		if err := json.Unmarshal(m.Payload, &got); err != nil {
			t.Fatal(err)
		}
		u := got.Data.MemberUpdated
		var change struct {
			Kind   string
			Amount int
		}
		_ = json.Unmarshal([]byte(u.Change), &change)
		// One adjustment of +40 on an empty account: the entry's amount and the balance are 40.
		// The sequence is the outbox's own count of messages (outbox.Sequence), a GraphQL Int.
		if u.Sequence < 0 || u.Sequence >= 1<<31 {
			t.Errorf("sequence %d is not a 32-bit count", u.Sequence)
		}
		if u.Type != outbox.PointsChanged || u.ExternalID != "alice" || change.Kind != "ADJUSTMENT" || change.Amount != 40 || u.Member.Points.Balance != 40 {
			t.Errorf("pushed %+v (change %s)", u, u.Change)
		}

		for _, w := range []struct {
			token, query string
		}{
			{a.token(auth.RoleMember, "alice"), `subscription { memberUpdated(externalId: "bob") { sequence } }`},
			{a.token(auth.RoleAdmin, "ops"), `subscription { memberUpdated { sequence } }`},
		} {
			c := a.wsAcked("graphql-transport-ws", w.token)
			q, _ := json.Marshal(map[string]any{"query": w.query})
			if err := c.WriteJSON(wsMsg{ID: "x", Type: "subscribe", Payload: q}); err != nil {
				t.Fatal(err)
			}
			m, err := wsNext(c)
			if err != nil || m.Type == "next" && !strings.Contains(string(m.Payload), `"errors"`) {
				t.Errorf("%s: want an error, got %+v %v", w.query, m, err)
			}
		}
	})
}

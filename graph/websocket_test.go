package graph_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// wsProtocols are the subprotocols the server speaks, with the names of their messages.
var wsProtocols = []struct{ name, subscribe, next string }{
	{"graphql-transport-ws", "subscribe", "next"},
	{"graphql-ws", "start", "data"},
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (a *api) wsURL() string { return "ws" + strings.TrimPrefix(a.srv.URL, "http") + "/graphql" }

// wsDial opens a socket speaking proto; the response is the handshake's (an error one too).
func (a *api) wsDial(proto string, h http.Header) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{Subprotocols: []string{proto}, HandshakeTimeout: 5 * time.Second}
	return d.Dial(a.wsURL(), h)
}

func (a *api) mustDial(proto string) *websocket.Conn {
	a.t.Helper()
	c, _, err := a.wsDial(proto, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { _ = c.Close() })
	return c
}

// wsInit sends connection_init with token ("" for none) and returns the first reply.
func wsInit(t testing.TB, c *websocket.Conn, token string) (wsMsg, error) {
	t.Helper()
	payload := map[string]any{}
	if token != "" {
		payload["Authorization"] = "Bearer " + token
	}
	b, _ := json.Marshal(payload)
	if err := c.WriteJSON(wsMsg{Type: "connection_init", Payload: b}); err != nil {
		t.Fatal(err)
	}
	return wsRead(c)
}

func wsRead(c *websocket.Conn) (wsMsg, error) {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m wsMsg
	err := c.ReadJSON(&m)
	return m, err
}

// wsAcked opens an acknowledged socket for token.
func (a *api) wsAcked(proto, token string) *websocket.Conn {
	a.t.Helper()
	c := a.mustDial(proto)
	if m, err := wsInit(a.t, c, token); err != nil || m.Type != "connection_ack" {
		a.t.Fatalf("%s init: %+v %v", proto, m, err)
	}
	return c
}

// wsNext reads the next message that is not a graphql-ws keep-alive.
func wsNext(c *websocket.Conn) (wsMsg, error) {
	for {
		m, err := wsRead(c)
		if err != nil || m.Type != "ka" {
			return m, err
		}
	}
}

// wsQuery runs query on an acknowledged socket and returns its result's payload, checking
// that the operation then completes.
func wsQuery(t *testing.T, c *websocket.Conn, subscribe, next, id, query string, vars map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err := c.WriteJSON(wsMsg{ID: id, Type: subscribe, Payload: b}); err != nil {
		t.Fatal(err)
	}
	m, err := wsNext(c)
	if err != nil || m.Type != next || m.ID != id {
		t.Fatalf("want %s for %s, got %+v %v", next, id, m, err)
	}
	if done, err := wsNext(c); err != nil || done.Type != "complete" || done.ID != id {
		t.Fatalf("after the result of %s: %+v %v", id, done, err)
	}
	return string(m.Payload)
}

// closeCode is the code of the close frame err reports, or -1 for none.
func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// wsClosed reads until the server closes c and returns the close code; any message before
// it other than the ones in allowed fails the test (a refused socket serves no data).
func wsClosed(t *testing.T, c *websocket.Conn, allowed ...string) int {
	t.Helper()
	for {
		m, err := wsRead(c)
		if err != nil {
			return closeCode(err)
		}
		ok := false
		for _, a := range allowed {
			ok = ok || m.Type == a
		}
		if !ok {
			t.Fatalf("message before the close: %+v", m)
		}
	}
}

// TestWebsocket: both subprotocols carry queries and mutations once connection_init holds
// a valid token; without one, or with a bad one, the socket is closed with 4403 and
// serves nothing, and an operation before connection_init is closed with 4401.
func TestWebsocket(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		for _, p := range wsProtocols {
			t.Run(p.name, func(t *testing.T) {
				c := a.wsAcked(p.name, a.token(auth.RoleAdmin, "ops"))
				if got := wsQuery(t, c, p.subscribe, p.next, "1", "{ program { key } }", nil); !strings.Contains(got, `"key":"jd"`) {
					t.Fatalf("query over websocket: %s", got)
				}
				ext := "ws-" + p.name
				got := wsQuery(t, c, p.subscribe, p.next, "2", registerMutation,
					map[string]any{"input": map[string]any{"externalId": ext, "registrationChannel": "APP"}})
				if !strings.Contains(got, `"externalId":"`+ext+`"`) || !strings.Contains(got, `"userErrors":[]`) {
					t.Fatalf("mutation over websocket: %s", got)
				}
				// The mutation was applied: the member is there for a POST.
				var out struct{ Member struct{ ExternalID string } }
				a.must(a.token(auth.RoleAdmin, "ops"), `query($id: String!) { member(externalId: $id) { externalId } }`, map[string]any{"id": ext}, &out)
				if out.Member.ExternalID != ext {
					t.Fatalf("member after the websocket mutation: %+v", out)
				}

				// graphql-ws says why in connection_error before closing; graphql-transport-ws
				// has only the close frame.
				var initError []string
				if p.name == "graphql-ws" {
					initError = []string{"connection_error"}
				}
				for _, tok := range []string{"", "not-a-token", a.token(auth.RoleMember, "alice")[:40]} {
					c := a.mustDial(p.name)
					m, err := wsInit(t, c, tok)
					if err == nil && m.Type == "connection_ack" {
						t.Fatalf("token %q acknowledged", tok)
					}
					if err == nil && m.Type != "connection_error" {
						t.Fatalf("token %q: %+v", tok, m)
					}
					if code := closeCode(err); err != nil && code != 4403 {
						t.Fatalf("token %q: closed with %d, want 4403 (%v)", tok, code, err)
					}
					if err == nil {
						if code := wsClosed(t, c, initError...); code != 4403 {
							t.Fatalf("token %q: closed with %d, want 4403", tok, code)
						}
					}
				}

				early := a.mustDial(p.name)
				b, _ := json.Marshal(map[string]any{"query": "{ program { key } }"})
				_ = early.WriteJSON(wsMsg{ID: "1", Type: p.subscribe, Payload: b})
				if code := wsClosed(t, early); code != 4401 {
					t.Fatalf("operation before connection_init: closed with %d, want 4401", code)
				}
			})
		}
	})
}

// TestWebsocketInitTimeout: a socket that sends no connection_init is closed with 4408
// once InitTimeout has passed.
func TestWebsocketInitTimeout(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		const timeout = 300 * time.Millisecond
		a := newAPI(t, db, func(c *graph.ServerConfig) { c.Websocket.InitTimeout = timeout })
		for _, p := range wsProtocols {
			start := time.Now() // before the dial: the server's clock starts at the upgrade
			c := a.mustDial(p.name)
			if code := wsClosed(t, c); code != 4408 {
				t.Fatalf("%s: closed with %d, want 4408", p.name, code)
			}
			if d := time.Since(start); d < timeout {
				t.Fatalf("%s: closed after %v, before the %v timeout", p.name, d, timeout)
			}
		}
	})
}

// TestWebsocketMessageLimit: a message up to MaxMessageBytes is served; one byte more
// (in two frames) closes the socket with 1009 unanswered. A 64 MiB connection_init
// without a token, in one frame, meets the default 64 KiB limit: the server closes the
// socket long before the client has written it, and nothing near its size is allocated.
func TestWebsocketMessageLimit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		const limit = 4096
		small := newAPI(t, db, func(c *graph.ServerConfig) { c.Websocket.MaxMessageBytes = limit })
		for _, p := range wsProtocols {
			c := small.wsAcked(p.name, small.token(auth.RoleService, "orders"))
			msg := func(size int) []byte {
				head := `{"id":"1","type":"` + p.subscribe + `","payload":{"query":"{ program { key } }`
				return []byte(head + strings.Repeat(" ", size-len(head)-len(`"}}`)) + `"}}`)
			}
			if err := c.WriteMessage(websocket.TextMessage, msg(limit)); err != nil {
				t.Fatal(err)
			}
			if m, err := wsNext(c); err != nil || m.Type != p.next || !strings.Contains(string(m.Payload), `"jd"`) {
				t.Fatalf("%s: message of %d bytes: %+v %v", p.name, limit, m, err)
			}
			if err := c.WriteMessage(websocket.TextMessage, msg(limit+1)); err != nil {
				t.Fatal(err)
			}
			if code := wsClosed(t, c, "complete", "ka"); code != websocket.CloseMessageTooBig {
				t.Fatalf("%s: message of %d bytes: closed with %d, want 1009", p.name, limit+1, code)
			}
		}

		a := newAPI(t, db)
		var raw net.Conn
		d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second,
			NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				var err error
				raw, err = (&net.Dialer{}).DialContext(ctx, network, addr)
				return raw, err
			}}
		c, _, err := d.Dial(a.wsURL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		const huge = 64 << 20
		// One masked text frame announcing huge bytes (mask key zero: the payload is sent
		// as is; 14 header bytes), then the payload from one reused chunk, so the client
		// allocates little.
		frame := []byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint64(frame[2:10], huge)
		// The payload is a connection_init whose one string goes on to the end, so that it
		// stays valid JSON however far a server reads it.
		frame = append(frame, `{"type":"connection_init","payload":{"x":"`...)
		chunk := []byte(strings.Repeat("a", 64<<10))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_ = raw.SetWriteDeadline(time.Now().Add(20 * time.Second))
		written, err := raw.Write(frame)
		for err == nil && written < huge+14 {
			var n int
			n, err = raw.Write(chunk[:min(len(chunk), huge+14-written)])
			written += n
		}
		runtime.ReadMemStats(&after)
		if err == nil || written >= huge/2 {
			t.Fatalf("the server took %d of %d bytes (write error %v)", written, huge, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
			t.Fatalf("%d bytes allocated while a %d-byte message was refused", alloc, huge)
		}
		t.Logf("refused after %d bytes written (%v), %d bytes allocated", written, err, after.TotalAlloc-before.TotalAlloc)
	})
}

// TestWebsocketConnectionCaps: a token subject holds at most MaxPerSubject sockets (one
// more is closed with 4429 at connection_init, whatever the protocol) and the server at
// most MaxConnections, authenticated or not (one more upgrade is HTTP 503 UNAVAILABLE with
// Retry-After); a closed socket frees its place in both.
func TestWebsocketConnectionCaps(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db, func(c *graph.ServerConfig) {
			c.Websocket.MaxPerSubject = 2
			c.Websocket.MaxConnections = 4
		})
		alice := a.token(auth.RoleMember, "alice")
		s1 := a.wsAcked("graphql-transport-ws", alice)
		a.wsAcked("graphql-ws", a.token(auth.RoleMember, "alice")) // another token, the same subject
		third := a.mustDial("graphql-transport-ws")
		if m, err := wsInit(t, third, alice); err == nil || closeCode(err) != 4429 {
			t.Fatalf("third socket of alice: %+v %v, want close 4429", m, err)
		}
		a.wsAcked("graphql-transport-ws", a.token(auth.RoleMember, "bob"))

		// Three sockets open; the refused one may still be leaving, so dial until the
		// fourth gets in.
		var fourth *websocket.Conn
		eventually(t, func() bool {
			c, _, err := a.wsDial("graphql-transport-ws", nil)
			fourth = c
			return err == nil
		})
		defer fourth.Close()
		_, resp, err := a.wsDial("graphql-transport-ws", nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("fifth socket: %v %+v", err, resp)
		}
		var body struct{ Errors []gqlError }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Errors) != 1 || body.Errors[0].Extensions["code"] != "UNAVAILABLE" {
			t.Fatalf("fifth socket's answer: %+v %v", body, err)
		}

		// Closing alice's first socket frees a place for her and one on the server.
		_ = s1.Close()
		eventually(t, func() bool {
			c, _, err := a.wsDial("graphql-transport-ws", nil)
			if err != nil {
				return false
			}
			defer c.Close()
			m, err := wsInit(t, c, alice)
			return err == nil && m.Type == "connection_ack"
		})
	})
}

// eventually retries ok for up to 5 s: the server frees a closed socket's place once its
// handler has seen the close.
func eventually(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not within 5 s")
		}
	}
}

// TestWebsocketKeepalive: the server pings every PingInterval; a client that answers
// stays connected and is served, one that stops answering is dropped once PongTimeout
// has passed after a ping.
func TestWebsocketKeepalive(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		const interval, timeout = 100 * time.Millisecond, 200 * time.Millisecond
		a := newAPI(t, db, func(c *graph.ServerConfig) {
			c.Websocket.PingInterval = interval
			c.Websocket.PongTimeout = timeout
		})
		for _, p := range wsProtocols {
			t.Run(p.name, func(t *testing.T) {
				token := a.token(auth.RoleService, "orders")
				live := a.wsAcked(p.name, token)
				var pings atomic.Int32
				live.SetPingHandler(func(data string) error {
					pings.Add(1)
					return live.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
				})
				const idle = 4 * (interval + timeout)
				start := time.Now()
				time.AfterFunc(idle, func() {
					b, _ := json.Marshal(map[string]any{"query": "{ program { key } }"})
					_ = live.WriteJSON(wsMsg{ID: "1", Type: p.subscribe, Payload: b})
				})
				for {
					m, err := wsRead(live)
					if err != nil {
						t.Fatalf("answering client dropped after %v: %v", time.Since(start), err)
					}
					if m.Type == p.next {
						break
					}
					if m.Type != "ka" {
						t.Fatalf("idle socket: %+v", m)
					}
				}
				if n := pings.Load(); time.Since(start) < idle || n < 5 {
					t.Fatalf("served after %v with %d pings; want ≥ %v and ≥ 5", time.Since(start), n, idle)
				}

				start = time.Now() // before the ack, after which the server waits for pongs
				dead := a.wsAcked(p.name, token)
				var unanswered atomic.Int32
				dead.SetPingHandler(func(string) error { unanswered.Add(1); return nil })
				for {
					m, err := wsRead(dead)
					if err != nil {
						break
					}
					if m.Type != "ka" {
						t.Fatalf("silent client: %+v", m)
					}
					if time.Since(start) > 5*time.Second {
						t.Fatal("a client that answers no ping is still connected after 5 s")
					}
				}
				if d := time.Since(start); d < interval+timeout || unanswered.Load() == 0 {
					t.Fatalf("silent client dropped after %v and %d pings; want ≥ %v and ≥ 1", d, unanswered.Load(), interval+timeout)
				}
			})
		}
	})
}

// TestWebsocketOrigin: a browser page may open a socket from the server's own origin or
// one of CORSOrigins; other origins are refused with 403, as their POSTs get no CORS.
// Clients that send no Origin are not browsers and connect.
func TestWebsocketOrigin(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		withCORS := newAPI(t, db, func(c *graph.ServerConfig) { c.CORSOrigins = []string{"http://app.example"} })
		without := newAPI(t, db)
		for _, tc := range []struct {
			a      *api
			origin string
			ok     bool
		}{
			{withCORS, "http://app.example", true},
			{withCORS, "HTTP://APP.example", true},
			{withCORS, "http://evil.example", false},
			{withCORS, "https://app.example", false},
			{withCORS, withCORS.srv.URL, true},
			{withCORS, "", true},
			{without, "http://app.example", false},
			{without, without.srv.URL, true},
			{without, withCORS.srv.URL, false}, // another port is another origin
		} {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			c, resp, err := tc.a.wsDial("graphql-transport-ws", h)
			if tc.ok {
				if err != nil {
					t.Fatalf("origin %q refused: %v", tc.origin, err)
				}
				if m, err := wsInit(t, c, tc.a.token(auth.RoleMember, "alice")); err != nil || m.Type != "connection_ack" {
					t.Fatalf("origin %q: %+v %v", tc.origin, m, err)
				}
				_ = c.Close()
				continue
			}
			if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("origin %q admitted: %v %+v", tc.origin, err, resp)
			}
		}
	})
}

// TestWebsocketMaxOperations: one socket runs at most MaxOperations operations at once;
// the ones beyond are answered with a BAD_REQUEST error message and not run, and each
// operation gets exactly one end: complete after its result, or the error.
func TestWebsocketMaxOperations(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db, func(c *graph.ServerConfig) { c.Websocket.MaxOperations = 1 })
		for _, p := range wsProtocols {
			c := a.wsAcked(p.name, a.token(auth.RoleService, "orders"))
			// Sent in one go, the operations arrive while the first still runs: each reads
			// the database, and the reader takes the next message from its buffer at once.
			const n = 20
			b, _ := json.Marshal(map[string]any{"query": "{ program { key tiers { key } } }"})
			for i := range n {
				if err := c.WriteJSON(wsMsg{ID: strconv.Itoa(i), Type: p.subscribe, Payload: b}); err != nil {
					t.Fatal(err)
				}
			}
			results, refused, ends := 0, 0, map[string]int{}
			for len(ends) < n {
				m, err := wsNext(c)
				if err != nil {
					t.Fatalf("%s: %v after %d ends", p.name, err, len(ends))
				}
				switch m.Type {
				case p.next:
					if !strings.Contains(string(m.Payload), `"key":"jd"`) {
						t.Fatalf("%s: result %s", p.name, m.Payload)
					}
					results++
				case "error":
					var errs []gqlError
					if json.Unmarshal(m.Payload, &errs) != nil || len(errs) != 1 || errs[0].Extensions["code"] != "BAD_REQUEST" {
						t.Fatalf("%s: error %s", p.name, m.Payload)
					}
					refused++
					ends[m.ID]++
				case "complete":
					ends[m.ID]++
				default:
					t.Fatalf("%s: %+v", p.name, m)
				}
			}
			for id, k := range ends {
				if k != 1 {
					t.Fatalf("%s: operation %s ended %d times", p.name, id, k)
				}
			}
			if refused == 0 || results == 0 || results+refused != n {
				t.Fatalf("%s: %d results and %d refusals of %d operations", p.name, results, refused, n)
			}
		}
	})
}

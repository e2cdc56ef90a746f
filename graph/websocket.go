package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/membergraph/membergraph/internal/auth"
)

// WebsocketConfig bounds the websocket side of /graphql, where one upgrade holds a socket
// and goroutines for as long as the client likes. Zero fields take the defaults of
// withDefaults.
type WebsocketConfig struct {
	// InitTimeout is how long a new socket has to send a connection_init with a valid token
	// (default 5 s); past it the socket is closed with 4408. Until then it counts against
	// MaxConnections, so unauthenticated sockets cannot pile up.
	InitTimeout time.Duration
	// MaxMessageBytes is the largest message a client may send (default 64 KiB; the
	// HTTP body limit is for POST, where batches of events belong). A longer one closes the
	// socket with 1009 as soon as its frame header announces the length: the payload is
	// never read.
	MaxMessageBytes int64
	// MaxPerSubject caps the open sockets of one token subject — one role, programme and
	// subject (default 16, a user's browser tabs); one more is refused at connection_init
	// with 4429.
	MaxPerSubject int
	// MaxConnections caps the open sockets of this server, authenticated or not yet
	// (default 1000); beyond, the upgrade is answered HTTP 503 UNAVAILABLE with Retry-After.
	MaxConnections int
	// MaxOperations caps the operations running at once on one socket (default 100); one
	// more is answered with an error message (BAD_REQUEST) and not run.
	MaxOperations int
	// PingInterval is how often the server pings an open socket (default 15 s), and
	// PongTimeout how long past that it waits for the pong (default 10 s): a client that
	// stops answering is dropped within PingInterval+PongTimeout of its last pong.
	// PongTimeout also bounds writing one message to a client that stopped reading.
	PingInterval time.Duration
	PongTimeout  time.Duration
}

// Defaults of WebsocketConfig that serve's flags show.
const (
	DefaultWebsocketMaxConnections = 1000
	DefaultWebsocketMaxPerSubject  = 16
)

func (c *WebsocketConfig) withDefaults() {
	if c.InitTimeout <= 0 {
		c.InitTimeout = 5 * time.Second
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 64 << 10
	}
	if c.MaxPerSubject <= 0 {
		c.MaxPerSubject = DefaultWebsocketMaxPerSubject
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultWebsocketMaxConnections
	}
	if c.MaxOperations <= 0 {
		c.MaxOperations = 100
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 15 * time.Second
	}
	if c.PongTimeout <= 0 {
		c.PongTimeout = 10 * time.Second
	}
}

// Close codes sent on the websocket. The 44xx ones are graphql-transport-ws's (the
// graphql-ws reference server's), used for both subprotocols so a client reads one table.
const (
	closeBadMessage   = 4400 // a message that is not JSON of the protocol
	closeUnauthorized = 4401 // an operation before connection_init
	closeForbidden    = 4403 // connection_init without a valid token
	closeInitTimeout  = 4408 // no connection_init within InitTimeout
	closeDuplicateID  = 4409 // an operation id already running on the socket
	// closeTooMany: a second connection_init, or a subject over MaxPerSubject. Clients do
	// not retry it at once, which is right: a retry would meet the same cap.
	closeTooMany = 4429
)

// wsProtocol names the messages of one subprotocol; both frame {id, type, payload}.
type wsProtocol struct {
	name      string
	subscribe string // client: run an operation
	stop      string // client: stop one
	next      string // server: one result
	terminate string // client: close the socket ("" where the protocol has none)
	initError string // server: connection_init refused, before the close ("" where none)
	keepAlive string // server: keep-alive message sent with each ping ("" where none)
}

var (
	// graphqlTransportWS is github.com/enisdenjo/graphql-ws's protocol, the current one.
	graphqlTransportWS = wsProtocol{name: "graphql-transport-ws", subscribe: "subscribe", stop: "complete", next: "next"}
	// graphqlWS is Apollo's legacy subscriptions-transport-ws, still spoken by older clients.
	graphqlWS = wsProtocol{name: "graphql-ws", subscribe: "start", stop: "stop", next: "data",
		terminate: "connection_terminate", initError: "connection_error", keepAlive: "ka"}
)

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// websocketTransport serves GraphQL over a websocket with the limits of WebsocketConfig.
// It replaces gqlgen's transport.Websocket, which (v0.17.90) keeps the connection to
// itself, so no read limit can be set on it, closes a refused connection_init with 1000
// (gqlgen issues 2349, 2881) and an init timeout with 1002, and has no liveness check for
// graphql-ws; the operations still run through gqlgen's executor, as on POST.
type websocketTransport struct {
	s        *Server
	cfg      WebsocketConfig
	upgrader websocket.Upgrader

	mu        sync.Mutex
	open      int            // sockets upgraded and not yet closed
	bySubject map[string]int // authenticated sockets per subjectKey
}

var _ graphql.Transport = (*websocketTransport)(nil)

func (s *Server) websocketTransport() *websocketTransport {
	t := &websocketTransport{s: s, cfg: s.cfg.Websocket, bySubject: map[string]int{}}
	t.upgrader = websocket.Upgrader{
		Subprotocols: []string{graphqlTransportWS.name, graphqlWS.name},
		CheckOrigin:  s.websocketOrigin,
		Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			code := CodeBadRequest
			if status == http.StatusForbidden {
				code = CodeForbidden
			}
			writeHTTPError(w, status, code, reason.Error())
		},
	}
	return t
}

// websocketOrigin admits the upgrade of a browser page under the same rules as CORS: the
// page's own origin, or one of CORSOrigins. A websocket is not bound by the same-origin
// policy, so without this check any site's page could use a token its user pasted into it.
// Clients that send no Origin are not browsers and are admitted, as on POST.
func (s *Server) websocketOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || slices.Contains(s.cfg.CORSOrigins, strings.ToLower(origin)) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

func (t *websocketTransport) Supports(r *http.Request) bool { return websocket.IsWebSocketUpgrade(r) }

func (t *websocketTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if !t.admit() {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
		writeHTTPError(w, http.StatusServiceUnavailable, CodeUnavailable,
			fmt.Sprintf("the server holds its limit of %d websocket connections; retry shortly", t.cfg.MaxConnections))
		return
	}
	defer t.leave()
	ws, err := t.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered: 403 for a foreign origin, 400 for a bad handshake
	}
	defer ws.Close()
	proto := graphqlTransportWS
	if ws.Subprotocol() != graphqlTransportWS.name {
		// A client that names no subprotocol is served the legacy one, as gqlgen did.
		proto = graphqlWS
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := &wsConn{t: t, ws: ws, proto: proto, exec: exec, headers: r.Header, ctx: ctx, ops: map[string]context.CancelFunc{}}
	c.serve()
	cancel()
	c.wg.Wait()
}

func (t *websocketTransport) admit() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.open >= t.cfg.MaxConnections {
		return false
	}
	t.open++
	return true
}

func (t *websocketTransport) leave() {
	t.mu.Lock()
	t.open--
	t.mu.Unlock()
}

// claim counts one more socket for key, unless it holds MaxPerSubject already.
func (t *websocketTransport) claim(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bySubject[key] >= t.cfg.MaxPerSubject {
		return false
	}
	t.bySubject[key]++
	return true
}

func (t *websocketTransport) release(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bySubject[key]--; t.bySubject[key] <= 0 {
		delete(t.bySubject, key)
	}
}

// subjectKey is whose sockets a viewer's are: tokens of one role and subject in one
// programme count together, however many of them were issued.
func subjectKey(v auth.Viewer) string {
	return fmt.Sprintf("%d/%s/%s", v.ProgramID, v.Role, v.Subject)
}

// wsConn is one socket: a reader (serve), one goroutine per running operation and the
// pinger, which write under wmu.
type wsConn struct {
	t       *websocketTransport
	ws      *websocket.Conn
	proto   wsProtocol
	exec    graphql.GraphExecutor
	headers http.Header
	ctx     context.Context // the viewer's once connection_init is accepted

	wmu sync.Mutex
	mu  sync.Mutex
	ops map[string]context.CancelFunc
	wg  sync.WaitGroup
}

var errBadMessage = errors.New("invalid message received")

func (c *wsConn) serve() {
	cfg := c.t.cfg
	c.ws.SetReadLimit(cfg.MaxMessageBytes)
	_ = c.ws.SetReadDeadline(time.Now().Add(cfg.InitTimeout))
	m, err := c.read()
	if err != nil {
		c.closeOnReadError(err, true)
		return
	}
	switch m.Type {
	case "connection_init":
	case c.proto.subscribe:
		c.close(closeUnauthorized, "Unauthorized")
		return
	default:
		c.close(closeBadMessage, "expected connection_init")
		return
	}
	key, ok := c.init(m.Payload)
	if !ok {
		return
	}
	defer c.t.release(key)

	c.write(wsMessage{Type: "connection_ack"})
	if c.proto.keepAlive != "" {
		c.write(wsMessage{Type: c.proto.keepAlive})
	}
	alive := func() { _ = c.ws.SetReadDeadline(time.Now().Add(cfg.PingInterval + cfg.PongTimeout)) }
	alive()
	c.ws.SetPongHandler(func(string) error { alive(); return nil })
	c.wg.Add(1)
	go c.ping()

	for {
		start := graphql.Now()
		m, err := c.read()
		if err != nil {
			c.closeOnReadError(err, false)
			return
		}
		switch m.Type {
		case c.proto.subscribe:
			if !c.subscribe(start, m) {
				return
			}
		case c.proto.stop:
			c.mu.Lock()
			if stop := c.ops[m.ID]; stop != nil {
				stop()
			}
			c.mu.Unlock()
		case "ping":
			if c.proto == graphqlTransportWS {
				c.write(wsMessage{Type: "pong", Payload: m.Payload})
			}
		case "pong":
		case "connection_init":
			c.close(closeTooMany, "Too many initialisation requests")
			return
		default:
			if m.Type != "" && m.Type == c.proto.terminate {
				c.close(websocket.CloseNormalClosure, "terminated")
				return
			}
			c.close(closeBadMessage, "unexpected message type "+strconv.Quote(m.Type))
			return
		}
	}
}

// init authenticates connection_init and counts the socket against its subject; false:
// the socket was refused and closed.
func (c *wsConn) init(payload json.RawMessage) (string, bool) {
	var p transport.InitPayload
	if len(payload) > 0 && json.Unmarshal(payload, &p) != nil {
		c.close(closeBadMessage, "connection_init payload is not an object")
		return "", false
	}
	v, err := c.t.s.viewer(c.ctx, p.Authorization())
	if err != nil {
		c.refuse(err)
		return "", false
	}
	key := subjectKey(v)
	if !c.t.claim(key) {
		c.close(closeTooMany, fmt.Sprintf("this token's subject holds its limit of %d websocket connections", c.t.cfg.MaxPerSubject))
		return "", false
	}
	c.ctx = auth.NewContext(c.ctx, v)
	return key, true
}

// refuse closes a socket whose connection_init could not be authenticated. No data was
// served on it: operations are read only after connection_ack.
func (c *wsConn) refuse(err error) {
	code := closeForbidden
	if errors.Is(err, errCannotCheckToken) {
		// An outage, not a bad token: 1013 tells the client to come back later.
		code = websocket.CloseTryAgainLater
	}
	if c.proto.initError != "" {
		b, _ := json.Marshal(gqlerror.Error{Message: err.Error()})
		c.write(wsMessage{Type: c.proto.initError, Payload: b})
	}
	c.close(code, err.Error())
}

func (c *wsConn) read() (wsMessage, error) {
	_, r, err := c.ws.NextReader()
	if err != nil {
		return wsMessage{}, err
	}
	var m wsMessage
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return wsMessage{}, errBadMessage
	}
	return m, nil
}

func (c *wsConn) closeOnReadError(err error, initialising bool) {
	var ne net.Error
	switch {
	case errors.Is(err, errBadMessage):
		c.close(closeBadMessage, "Invalid message received")
	case errors.Is(err, websocket.ErrReadLimit):
		// The reader has sent 1009 already, before reading the payload.
	case errors.As(err, &ne) && ne.Timeout() && initialising:
		c.close(closeInitTimeout, "Connection initialisation timeout")
	}
	// Otherwise the client closed, went away or stopped answering pings: nothing to say.
}

// close sends a close frame; the socket itself is closed by Do.
func (c *wsConn) close(code int, reason string) {
	if len(reason) > 120 {
		reason = reason[:120] // a close frame's reason fits in 123 bytes
	}
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(c.t.cfg.PongTimeout))
	if code != websocket.CloseNormalClosure {
		c.t.s.cfg.Logger.InfoContext(c.ctx, "websocket closed", "code", code, "reason", reason, "request_id", RequestID(c.ctx))
	}
}

// write sends one message; a client that does not take it within PongTimeout is dropped,
// which ends the reader and so the socket.
func (c *wsConn) write(m wsMessage) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.t.cfg.PongTimeout))
	if err := c.ws.WriteJSON(m); err != nil {
		_ = c.ws.NetConn().Close()
	}
}

// ping sends websocket ping frames, which browsers answer by themselves whatever the
// subprotocol (the graphql-ws reference server does the same); the pong handler moves the
// read deadline on, so a socket without pongs times out in the reader.
func (c *wsConn) ping() {
	defer c.wg.Done()
	tick := time.NewTicker(c.t.cfg.PingInterval)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
			if c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.t.cfg.PongTimeout)) != nil {
				return
			}
			if c.proto.keepAlive != "" {
				c.write(wsMessage{Type: c.proto.keepAlive})
			}
		}
	}
}

// subscribe runs one operation as the POST transport does: the same executor, extensions
// and error presenter, its results sent as they come. false: the socket was closed.
func (c *wsConn) subscribe(start time.Time, m wsMessage) bool {
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(m.Payload))
	dec.UseNumber()
	if m.ID == "" || dec.Decode(&params) != nil {
		c.close(closeBadMessage, "Invalid message received")
		return false
	}
	c.mu.Lock()
	_, dup := c.ops[m.ID]
	running := len(c.ops)
	c.mu.Unlock()
	if dup {
		c.close(closeDuplicateID, "Subscriber for "+m.ID+" already exists")
		return false
	}
	if running >= c.t.cfg.MaxOperations {
		c.writeErrors(m.ID, gqlerror.List{{Message: fmt.Sprintf("this socket runs its limit of %d operations at once; wait for one to complete", c.t.cfg.MaxOperations),
			Extensions: map[string]any{"code": CodeBadRequest}}})
		return true
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	params.Headers = c.headers

	ctx := graphql.StartOperationTrace(c.ctx)
	rc, errs := c.exec.CreateOperationContext(ctx, &params)
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			c.writeErrors(m.ID, resp.Errors)
			return true
		}
		c.writeResult(m.ID, resp)
		c.write(wsMessage{ID: m.ID, Type: "complete"})
		return true
	}
	ctx, cancel := context.WithCancel(graphql.WithOperationContext(ctx, rc))
	c.mu.Lock()
	c.ops[m.ID] = cancel
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer func() {
			c.mu.Lock()
			delete(c.ops, m.ID)
			c.mu.Unlock()
			cancel()
		}()
		defer func() {
			if p := recover(); p != nil {
				var e *gqlerror.Error
				if err := rc.Recover(ctx, p); !errors.As(err, &e) {
					e = gqlErr(ctx, CodeInternal, "internal error")
				}
				c.writeErrors(m.ID, gqlerror.List{e})
			}
		}()
		responses, ctx := c.exec.DispatchOperation(ctx, rc)
		for resp := responses(ctx); resp != nil; resp = responses(ctx) {
			c.writeResult(m.ID, resp)
		}
		if ctx.Err() == nil {
			// After the client's own stop no more messages go out for the id.
			c.write(wsMessage{ID: m.ID, Type: "complete"})
		}
	}()
	return true
}

func (c *wsConn) writeResult(id string, resp *graphql.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		b, _ = json.Marshal(graphql.Response{Errors: gqlerror.List{{Message: "internal error", Extensions: map[string]any{"code": CodeInternal}}}})
	}
	c.write(wsMessage{ID: id, Type: c.proto.next, Payload: b})
}

// writeErrors ends an operation with an error message, which needs no complete after it.
func (c *wsConn) writeErrors(id string, errs gqlerror.List) {
	b, _ := json.Marshal(errs)
	c.write(wsMessage{ID: id, Type: "error", Payload: b})
}

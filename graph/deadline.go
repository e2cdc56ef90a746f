package graph

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// DefaultRequestTimeout bounds a /graphql request unless ServerConfig.RequestTimeout says
// otherwise: long enough for a batch of events, short enough that a client stuck behind a
// row lock hears UNAVAILABLE and retries instead of holding a connection for a minute.
const DefaultRequestTimeout = 10 * time.Second

// errRequestDeadline is the cause of a request context that ran out of time, so that an
// error surfacing after it (the driver's closed connection, a finished transaction) is
// answered UNAVAILABLE with a retry hint rather than INTERNAL.
var errRequestDeadline = errors.New("the request's deadline passed")

// deadline gives every /graphql request RequestTimeout to finish. The database work under
// it stops at the deadline: the driver abandons the statement and the transaction rolls
// back, so nothing is half-applied, and a retry with the same idempotency key applies it
// once. Websocket connections live longer than any one request and are not bounded here.
func (s *Server) deadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if websocket.IsWebSocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeoutCause(r.Context(), s.cfg.RequestTimeout, errRequestDeadline)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// deadlinePassed reports whether ctx is a request whose deadline has passed.
func deadlinePassed(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errRequestDeadline)
}

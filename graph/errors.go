package graph

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"log/slog"
	"net"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/go-sql-driver/mysql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/membergraph/membergraph/graph/model"
	"github.com/membergraph/membergraph/graph/scalar"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Codes of GraphQL errors (extensions.code), one per kind of answer; the schema's ErrorCode
// enum documents them for clients. User mistakes in a mutation's input are not errors but
// userErrors in its payload. gqlgen adds GRAPHQL_PARSE_FAILED and GRAPHQL_VALIDATION_FAILED
// for documents that do not fit the schema, and the limits COMPLEXITY_LIMIT_EXCEEDED,
// DEPTH_LIMIT_EXCEEDED and INTROSPECTION_DISABLED.
const (
	CodeUnauthenticated = "UNAUTHENTICATED" // no or an invalid token
	CodeForbidden       = "FORBIDDEN"       // the token's role may not use the field
	// CodeBadUserInput: an argument's value cannot be read as its type (a malformed Time,
	// Date or Cursor), is outside the API's limits (first > 100) or is refused by a rule.
	// extensions.argument names it (e.g. "after", "where.registeredAtGT"). This is the
	// single code for "fix your arguments"; there is no second one for limits.
	CodeBadUserInput = "BAD_USER_INPUT"
	// CodeBadRequest: the HTTP request as a whole cannot be served (body too large, no
	// operation), before any field is looked at.
	CodeBadRequest = "BAD_REQUEST"
	CodeNotFound   = "NOT_FOUND" // a node id that is unknown, malformed or not visible: all three alike
	// CodeUnavailable: the database cannot be reached or is overloaded now, or the request
	// ran out of its deadline (ServerConfig.RequestTimeout) waiting for it. Nothing is
	// wrong with the request and nothing of it was applied; retry after
	// extensions.retryAfterSeconds (a mutation with the same idempotency key).
	CodeUnavailable = "UNAVAILABLE"
	CodeInternal    = "INTERNAL" // a fault of the server; details are only logged
)

// retryAfterSeconds is the hint sent with UNAVAILABLE: long enough for a pool to reconnect
// or a failover to finish, short enough that a front end simply retries.
const retryAfterSeconds = 2

// nodeNotFound is the one message for a node that cannot be shown, whatever the reason.
const nodeNotFound = "no node with this id"

func gqlErr(ctx context.Context, code, msg string) *gqlerror.Error {
	return &gqlerror.Error{
		Path:       graphql.GetPath(ctx),
		Message:    msg,
		Extensions: map[string]any{"code": code},
	}
}

// presentError passes on errors made for the client, answers a malformed argument as
// BAD_USER_INPUT and a database outage as UNAVAILABLE, and turns every other error into an
// INTERNAL error that carries only the request id; the fault itself goes to the log.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	// gqlgen wraps what a resolver returns in a gqlerror carrying the path; look inside.
	var gerr *gqlerror.Error
	if errors.As(err, &gerr) {
		inner := gerr.Unwrap()
		var innerG *gqlerror.Error
		switch {
		case inner == nil:
			// Made for the client: gqlgen's validation and limits, or ours.
			return withCode(ctx, gerr)
		case errors.As(inner, &innerG):
			return withCode(ctx, innerG)
		}
		if arg := argumentPath(ctx, gerr.Path); arg != "" {
			return badArgument(ctx, arg, inner)
		}
		err = inner
	}
	if ue, ok := usererr.From(err); ok {
		// A user mistake surfaced outside a payload, e.g. from a query argument. Naming what
		// does not exist (pointsQuote for an unknown member) is NOT_FOUND, as a node is.
		code := CodeBadUserInput
		if len(ue) == 1 && ue[0].Code == usererr.NotFound {
			code = CodeNotFound
		}
		e := gqlErr(ctx, code, ue.Error())
		if len(ue) > 0 && len(ue[0].Field) > 0 {
			e.Extensions["argument"] = strings.Join(ue[0].Field, ".")
		}
		return e
	}
	id := RequestID(ctx)
	if unavailable(err) || deadlinePassed(ctx) {
		slog.WarnContext(ctx, "database unavailable", "err", err, "path", graphql.GetPath(ctx).String(), "request_id", id)
		e := gqlErr(ctx, CodeUnavailable, "the service is briefly unavailable; retry shortly")
		e.Extensions["retryAfterSeconds"] = retryAfterSeconds
		e.Extensions["requestId"] = id
		return e
	}
	slog.ErrorContext(ctx, "resolver failed", "err", err, "path", graphql.GetPath(ctx).String(), "request_id", id)
	e := gqlErr(ctx, CodeInternal, "internal error")
	e.Extensions["requestId"] = id
	return e
}

func withCode(ctx context.Context, e *gqlerror.Error) *gqlerror.Error {
	if e.Path == nil {
		e.Path = graphql.GetPath(ctx)
	}
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	if e.Extensions["code"] == nil {
		e.Extensions["code"] = CodeBadRequest
	}
	// ent's own text for nodes(ids:) echoes the id, which would tell a malformed id (read
	// as scalar.NoID) from an unknown one.
	if e.Extensions["code"] == CodeNotFound && strings.HasPrefix(e.Message, "Could not resolve to a node") {
		e.Message = nodeNotFound
	}
	return e
}

// argumentPath is where inside the current field's arguments an error arose, e.g. "after"
// or "input.events[0].occurredAt"; "" when it came from the resolver. gqlgen reads the
// arguments before the resolver runs and reports a value it cannot read on a path that
// goes on from the field into the arguments.
func argumentPath(ctx context.Context, p ast.Path) string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return ""
	}
	field := fc.Path()
	if len(p) <= len(field) {
		return ""
	}
	for i := range field {
		if p[i] != field[i] {
			return ""
		}
	}
	return p[len(field):].String()
}

// errCursor: a cursor that decodes but was not given out by the connection it is sent to;
// it shares entgql's text, so badArgument words both alike.
var errCursor = errors.New("cannot decode cursor")

// badArgument answers a value gqlgen could not read. It is the caller's mistake, so it is
// logged at DEBUG only.
func badArgument(ctx context.Context, arg string, err error) *gqlerror.Error {
	reason := err.Error()
	var se *scalar.Error
	switch {
	case errors.As(err, &se):
		reason = se.Reason
	case strings.HasPrefix(reason, "cannot decode cursor"):
		// entgql's Cursor; its decoder's text says nothing useful to a caller.
		reason = "not a cursor this connection gave out (pageInfo.endCursor, startCursor or an edge's cursor)"
	}
	slog.DebugContext(ctx, "malformed argument", "argument", arg, "err", err, "request_id", RequestID(ctx))
	e := gqlErr(ctx, CodeBadUserInput, "argument "+arg+": "+reason)
	e.Extensions["argument"] = arg
	return e
}

// unavailable reports whether err means the database cannot serve now (connection refused
// or lost, the pool closed, a timeout, an overloaded or locked database) rather than a
// fault that a retry would meet again.
func unavailable(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, mysql.ErrInvalidConn) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true // refused, reset, i/o timeout
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1040, 1053, 1205, 1213, 1317, 2002, 2003, 2006, 2013: // too many connections, shutdown, lock wait, deadlock, interrupted, gone away
			return true
		}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
			return true
		}
	}
	// database/sql's error for a closed pool is not exported.
	return strings.Contains(err.Error(), "sql: database is closed")
}

// payloadErrors converts a service error into userErrors. Any other error is returned as a
// fault.
func payloadErrors(err error) ([]*model.UserError, error) {
	list, ok := usererr.From(err)
	if !ok {
		return nil, err
	}
	out := make([]*model.UserError, len(list))
	for i, e := range list {
		field := e.Field
		if field == nil {
			field = []string{}
		}
		out[i] = &model.UserError{Field: field, Message: e.Message, Code: model.UserErrorCode(e.Code)}
	}
	return out, nil
}

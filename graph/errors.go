package graph

import (
	"context"
	"errors"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/membergraph/membergraph/graph/model"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Codes of GraphQL errors (extensions.code). User mistakes in a mutation's input are not
// errors but userErrors in its payload.
const (
	CodeUnauthenticated = "UNAUTHENTICATED" // no or an invalid token
	CodeForbidden       = "FORBIDDEN"       // the token's role may not use the field
	CodeBadRequest      = "BAD_REQUEST"     // arguments out of the API's limits
	CodeNotFound        = "NOT_FOUND"       // a node id that is unknown or not visible
	CodeInternal        = "INTERNAL"        // a fault of the server; details are only logged
)

func gqlErr(ctx context.Context, code, msg string) *gqlerror.Error {
	return &gqlerror.Error{
		Path:       graphql.GetPath(ctx),
		Message:    msg,
		Extensions: map[string]any{"code": code},
	}
}

// presentError passes on errors made for the client and turns every other one into an
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
		err = inner
	}
	if ue, ok := usererr.From(err); ok {
		// A user mistake surfaced outside a payload, e.g. from a query argument.
		return gqlErr(ctx, CodeBadRequest, ue.Error())
	}
	id := RequestID(ctx)
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
	return e
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

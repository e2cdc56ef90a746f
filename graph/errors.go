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
	var gerr *gqlerror.Error
	if errors.As(err, &gerr) {
		// Made for the client: ours, gqlgen's (validation, limits) or entgql's.
		if gerr.Path == nil {
			gerr.Path = graphql.GetPath(ctx)
		}
		if gerr.Extensions == nil {
			gerr.Extensions = map[string]any{}
		}
		if gerr.Extensions["code"] == nil {
			gerr.Extensions["code"] = CodeBadRequest
		}
		return gerr
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

// Package usererr describes mistakes in a caller's request: a stable code, the input field
// at fault and a message for people. Services return them; the API reports them as
// userErrors in a payload rather than as faults.
package usererr

import (
	"errors"
	"fmt"
	"strings"
)

// Code is a stable reason clients may branch on. The values are the GraphQL enum
// UserErrorCode, documented in schema/membergraph.graphqls.
type Code string

// The codes.
const (
	InvalidArgument    Code = "INVALID_ARGUMENT"
	AlreadyExists      Code = "ALREADY_EXISTS"
	NotFound           Code = "NOT_FOUND"
	PermissionDenied   Code = "PERMISSION_DENIED"
	FailedPrecondition Code = "FAILED_PRECONDITION"
	Conflict           Code = "CONFLICT"
	// Unavailable: a partner could not be reached in time; the same request may be
	// retried with the same idempotency key.
	Unavailable Code = "UNAVAILABLE"
	// Expired: the thing named was valid once and has passed its expiry (a PLUS code).
	Expired Code = "EXPIRED"
	// AlreadyUsed: a single-use thing was used already, by someone else (a PLUS code).
	AlreadyUsed Code = "ALREADY_USED"
	// RateLimited: too many failed attempts; the message says until when it is locked.
	RateLimited Code = "RATE_LIMITED"
)

// Error is one mistake.
type Error struct {
	Code    Code
	Field   []string // path of the input field, e.g. ["input", "externalId"]; nil for the whole input
	Message string
}

func (e *Error) Error() string {
	if len(e.Field) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s: %s", e.Code, strings.Join(e.Field, "."), e.Message)
}

// New returns an Error about field (a dotted path, or "" for the whole input).
func New(code Code, field, format string, args ...any) *Error {
	var path []string
	if field != "" {
		path = strings.Split(field, ".")
	}
	return &Error{Code: code, Field: path, Message: fmt.Sprintf(format, args...)}
}

// List collects every mistake of one request, so a caller can fix them all at once.
type List []*Error

func (l List) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Add appends an Error built like New.
func (l *List) Add(code Code, field, format string, args ...any) {
	*l = append(*l, New(code, field, format, args...))
}

// Err returns the list as an error, or nil when it is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// From extracts the user mistakes err carries. ok is false for any other error, which the
// caller must treat as a fault.
func From(err error) (List, bool) {
	var l List
	if errors.As(err, &l) {
		return l, true
	}
	var e *Error
	if errors.As(err, &e) {
		return List{e}, true
	}
	return nil, false
}

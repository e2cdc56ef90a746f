// Package scalar holds the custom GraphQL scalars. A value that cannot be read is refused
// with an Error, which the API answers as BAD_USER_INPUT naming the argument.
package scalar

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// Error is a value that is not of its scalar's form. Its text is for the caller: it says
// what was expected, never how the server failed to read it.
type Error struct {
	Scalar string // the GraphQL scalar, e.g. Date
	Reason string
}

func (e *Error) Error() string { return e.Reason }

// DateLayout is the wire form of a Date: a calendar day without time or zone.
const DateLayout = "2006-01-02"

// MarshalDate writes a calendar day as "YYYY-MM-DD". It takes a context only so that
// UnmarshalDate may (gqlgen pairs them).
func MarshalDate(t time.Time) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, strconv.Quote(t.Format(DateLayout)))
		return err
	})
}

// UnmarshalDate reads "YYYY-MM-DD" as midnight UTC of that day; a day the calendar does not
// have (2026-02-30) is refused like any other malformed value.
func UnmarshalDate(ctx context.Context, v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, refuse(ctx, &Error{"Date", fmt.Sprintf("a Date is a string YYYY-MM-DD, got %s", kind(v))})
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, refuse(ctx, &Error{"Date", fmt.Sprintf("%q is not a calendar day YYYY-MM-DD", s)})
	}
	return t, nil
}

// kind names a JSON value's type as a caller would, not as Go does.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return "a number"
}

package scalar

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalTime writes an instant in RFC 3339 with the zone it carries. Unlike gqlgen's own
// Time it writes the zero instant too (0001-01-01T00:00:00Z, which UnmarshalTime reads)
// rather than null, which a Time! field may not be and which would not read back.
func MarshalTime(t time.Time) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, strconv.Quote(t.Format(time.RFC3339Nano)))
		return err
	})
}

// UnmarshalTime reads an RFC 3339 instant. Unlike gqlgen's own Time it refuses an empty
// string and a time without a zone, which would silently become year 1 or UTC.
func UnmarshalTime(ctx context.Context, v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, refuse(ctx, &Error{"Time", fmt.Sprintf("a Time is an RFC 3339 string, got %s", kind(v))})
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, refuse(ctx, &Error{"Time", fmt.Sprintf("%q is not an RFC 3339 instant, e.g. 2026-11-22T08:00:00+08:00", s)})
	}
	return t, nil
}

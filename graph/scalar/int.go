package scalar

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"math"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
)

// GraphQL's Int is a signed 32-bit integer. gqlgen's own Int reads any int64 (and numeric
// strings), so 2^62 points reached the services; these read only what the spec's Int holds,
// whatever the Go type it lands in, and refuse the rest like any malformed value. Amounts
// are bounded further, at named limits, by the services (internal/amount).

// MarshalInt writes an int. It takes a context only so that UnmarshalInt may (gqlgen pairs
// them).
func MarshalInt(i int) graphql.ContextMarshaler { return withContext(graphql.MarshalInt(i)) }

// UnmarshalInt reads a GraphQL Int into an int.
func UnmarshalInt(ctx context.Context, v any) (int, error) {
	n, err := readInt(ctx, v)
	return int(n), err
}

// MarshalInt64 writes an int64.
func MarshalInt64(i int64) graphql.ContextMarshaler { return withContext(graphql.MarshalInt64(i)) }

// UnmarshalInt64 reads a GraphQL Int into an int64.
func UnmarshalInt64(ctx context.Context, v any) (int64, error) { return readInt(ctx, v) }

// MarshalInt32 writes an int32.
func MarshalInt32(i int32) graphql.ContextMarshaler { return withContext(graphql.MarshalInt32(i)) }

func withContext(m graphql.Marshaler) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(_ context.Context, w io.Writer) error {
		m.MarshalGQL(w)
		return nil
	})
}

// UnmarshalInt32 reads a GraphQL Int into an int32.
func UnmarshalInt32(ctx context.Context, v any) (int32, error) {
	n, err := readInt(ctx, v)
	return int32(n), err
}

// readInt reads a JSON or literal integer in the 32-bit range: a number without fraction.
// A string is not an Int (the spec coerces no strings on input), nor is 1.5 or 1e3.
func readInt(ctx context.Context, v any) (int64, error) {
	var n int64
	switch v := v.(type) {
	case int:
		n = int64(v)
	case int32:
		n = int64(v)
	case int64:
		n = v
	case json.Number:
		i, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return 0, refuse(ctx, &Error{"Int", fmt.Sprintf("%s is not a 32-bit integer (-2147483648 to 2147483647)", clip(string(v)))})
		}
		n = i
	case float64: // JSON decoded without UseNumber
		if v != math.Trunc(v) || v < math.MinInt32 || v > math.MaxInt32 {
			return 0, refuse(ctx, &Error{"Int", fmt.Sprintf("%v is not a 32-bit integer (-2147483648 to 2147483647)", v)})
		}
		n = int64(v)
	default:
		return 0, refuse(ctx, &Error{"Int", fmt.Sprintf("an Int is a number, got %s", kind(v))})
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, refuse(ctx, &Error{"Int", fmt.Sprintf("%d is beyond GraphQL's 32-bit Int (-2147483648 to 2147483647)", n)})
	}
	return n, nil
}

// clip shortens a caller's text for a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

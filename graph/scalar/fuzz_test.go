package scalar_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"

	"github.com/membergraph/membergraph/graph/scalar"
)

// written is what a marshaller writes, unquoted: the string a client reads back.
func written(t testing.TB, m any) string {
	t.Helper()
	var b bytes.Buffer
	switch m := m.(type) {
	case graphql.ContextMarshaler:
		if err := m.MarshalGQLContext(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
	case graphql.Marshaler:
		m.MarshalGQL(&b)
	}
	s, err := strconv.Unquote(b.String())
	if err != nil {
		t.Fatalf("wrote %s, not a JSON string", b.String())
	}
	return s
}

// FuzzTime: any value reads as an instant or is refused; an instant read is written as one
// that reads back to the same instant, written the same way.
func FuzzTime(f *testing.F) {
	for _, s := range []string{"2026-11-22T08:00:00+08:00", "2026-11-22T00:00:00Z", "2026-11-22T08:00:00.123456789-05:30",
		"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999+23:59", "2026-11-22", "2026-11-22T08:00:00", "", "2026-02-30T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ctx := context.Background()
		got, err := scalar.UnmarshalTime(ctx, s)
		if err != nil {
			return
		}
		out := written(t, scalar.MarshalTime(got))
		again, err := scalar.UnmarshalTime(ctx, out)
		if err != nil || !again.Equal(got) {
			t.Fatalf("%q read as %v, written %q, read back %v (%v)", s, got, out, again, err)
		}
		if out2 := written(t, scalar.MarshalTime(again)); out2 != out {
			t.Fatalf("%q written %q, then %q", s, out, out2)
		}
	})
}

// FuzzDate: a Date read is written as the same day, byte for byte as it was sent.
func FuzzDate(f *testing.F) {
	for _, s := range []string{"2026-11-22", "0001-01-01", "9999-12-31", "2024-02-29", "2026-02-29", "2026-1-2", "26-11-22", "", "2026-11-22T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := scalar.UnmarshalDate(context.Background(), s)
		if err != nil {
			return
		}
		if out := written(t, scalar.MarshalDate(got)); out != s {
			t.Fatalf("%q read as %v, written %q", s, got, out)
		}
	})
}

// FuzzID: every value reads as an id (NoID when malformed); an id is written as the decimal
// that reads back to it, from a string or a JSON number alike.
func FuzzID(f *testing.F) {
	for _, s := range []string{"1", "0", "-1", "+5", "007", "9223372036854775807", "9223372036854775808", "1e3", "abc", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := scalar.UnmarshalID(s)
		if err != nil {
			t.Fatalf("%q: %v (a malformed id is NoID, not an error)", s, err)
		}
		if num, err := scalar.UnmarshalID(json.Number(s)); err != nil || num != id {
			t.Fatalf("%q as a number: %d (%v), as a string %d", s, num, err, id)
		}
		if id == scalar.NoID {
			return
		}
		out := written(t, scalar.MarshalID(id))
		if again, _ := scalar.UnmarshalID(out); again != id || out != strconv.Itoa(id) {
			t.Fatalf("%q read as %d, written %q, read back %d", s, id, out, again)
		}
	})
}

// FuzzCursor: any string decodes as a cursor or is refused, without a panic or an
// allocation beyond its size; a cursor decoded is written as one that decodes to the same,
// and is written the same way again.
func FuzzCursor(f *testing.F) {
	for _, c := range []entgql.Cursor[int]{{ID: 1}, {ID: 42, Value: "2026-11-22T08:00:00Z"}, {ID: -7, Value: int64(3)},
		{ID: 1 << 40, Value: []any{"a", 1.5}}, {ID: 2, Value: ""}, {ID: 3, Value: 0}} {
		f.Add(written(f, scalar.MarshalCursor(c)))
		var b bytes.Buffer
		c.MarshalGQL(&b) // entgql's own form, as cursors given out before were
		s, _ := strconv.Unquote(b.String())
		f.Add(s)
	}
	f.Add("not-a-cursor")
	f.Add("")
	f.Add("3gAA")    // a msgpack map header claiming 2^16 entries in 3 bytes
	f.Add("gaF20AA") // {v: 0}: entgql wrote it back without its value, which then paged by id
	f.Fuzz(func(t *testing.T, s string) {
		ctx := context.Background()
		c, err := scalar.UnmarshalCursor(ctx, s)
		if err != nil {
			return
		}
		out := written(t, scalar.MarshalCursor(c))
		again, err := scalar.UnmarshalCursor(ctx, out)
		if err != nil || again.ID != c.ID {
			t.Fatalf("%q decoded as %#v, written %q, decoded back %#v (%v)", s, c, out, again, err)
		}
		// Compared as written, so that a NaN value, unequal to itself, still compares.
		if out2 := written(t, scalar.MarshalCursor(again)); out2 != out {
			t.Fatalf("%q decoded as %#v, written %q, then %q", s, c, out, out2)
		}
	})
}

package scalar

import (
	"context"
	"encoding/base64"
	"io"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vmihailenco/msgpack/v5"
)

// notACursor is the one reason given for any string that is not a cursor.
const notACursor = "not a cursor this connection gave out (pageInfo.endCursor, startCursor or an edge's cursor)"

// wireCursor is entgql's cursor as it travels, with its value kept when it is a zero value.
// entgql drops an empty value (omitempty), and a cursor without one pages by id alone: after
// a member whose nickname is "" the next page of members by nickname skipped every member
// with a lower id, and medals at level 0 were paged alike.
type wireCursor struct {
	ID    int `msgpack:"i"`
	Value any `msgpack:"v"`
}

// MarshalCursor writes a cursor in entgql's form (base64 of msgpack), its value always
// included.
func MarshalCursor(c entgql.Cursor[int]) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(_ context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, `"`); err != nil {
			return err
		}
		enc := base64.NewEncoder(base64.RawStdEncoding, w)
		if err := msgpack.NewEncoder(enc).Encode(wireCursor{ID: c.ID, Value: c.Value}); err != nil {
			return err
		}
		if err := enc.Close(); err != nil {
			return err
		}
		_, err := io.WriteString(w, `"`)
		return err
	})
}

// UnmarshalCursor reads a cursor MarshalCursor or entgql wrote; anything else is refused.
func UnmarshalCursor(ctx context.Context, v any) (entgql.Cursor[int], error) {
	var c entgql.Cursor[int]
	if err := c.UnmarshalGQL(v); err != nil {
		return entgql.Cursor[int]{}, refuse(ctx, &Error{"Cursor", notACursor})
	}
	return c, nil
}

package scalar

import (
	"encoding/json"
	"io"
	"math"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
)

// NoID is what a malformed ID reads as. No row has it and it lies in no type's id range,
// so a malformed id is answered exactly like an unknown one (NOT_FOUND, or no match in a
// filter) and tells a caller nothing an unknown id would not.
const NoID = math.MinInt64

// MarshalID writes an id as a string, as GraphQL's ID is.
func MarshalID(id int) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(strconv.Itoa(id)))
	})
}

// UnmarshalID reads an id given as a string or a number; anything else is NoID.
func UnmarshalID(v any) (int, error) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case json.Number:
		s = string(v)
	case int:
		return v, nil
	case int64:
		return int(v), nil
	default:
		return NoID, nil
	}
	id, err := strconv.Atoi(s)
	if err != nil {
		return NoID, nil
	}
	return id, nil
}

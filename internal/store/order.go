package store

import (
	"strconv"
	"strings"

	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent/benefit"
	"github.com/membergraph/membergraph/ent/medal"
)

// Ranked orders by the position of column's value in values: an enum in its declared order,
// the same on every database (SQLite sorts an enum column as text, MySQL by its position).
// A value not listed sorts last.
func Ranked(column string, values ...string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		var b strings.Builder
		args := make([]any, 0, len(values))
		b.WriteString("CASE " + s.C(column))
		for i, v := range values {
			b.WriteString(" WHEN ? THEN " + strconv.Itoa(i))
			args = append(args, v)
		}
		b.WriteString(" ELSE " + strconv.Itoa(len(values)) + " END")
		s.OrderExpr(sql.ExprP(b.String(), args...))
	}
}

// BenefitOrder is the order of every list of catalogue benefits the API returns: by kind
// (price, logistics, service, value-added, as docs/domain.md §4 lists them), then by key, which
// is unique in a programme.
func BenefitOrder() []benefit.OrderOption {
	return []benefit.OrderOption{
		Ranked(benefit.FieldKind, string(benefit.KindPRICE), string(benefit.KindLOGISTICS), string(benefit.KindSERVICE), string(benefit.KindVALUE_ADDED)),
		benefit.ByKey(), benefit.ByID(),
	}
}

// MedalOrder is the order of the medal catalogue: category medals, then behaviour medals,
// each in the order the programme created them (id).
func MedalOrder() []medal.OrderOption {
	return []medal.OrderOption{Ranked(medal.FieldKind, string(medal.KindCATEGORY), string(medal.KindBEHAVIOR)), medal.ByID()}
}

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
	kinds := make([]string, len(BenefitKinds))
	for i, k := range BenefitKinds {
		kinds[i] = string(k)
	}
	return []benefit.OrderOption{Ranked(benefit.FieldKind, kinds...), benefit.ByKey(), benefit.ByID()}
}

// BenefitKinds are the benefit kinds in the catalogue order BenefitOrder sorts by; a list
// merged in Go keeps that order with slices.Index over it.
var BenefitKinds = []benefit.Kind{benefit.KindPRICE, benefit.KindLOGISTICS, benefit.KindSERVICE, benefit.KindVALUE_ADDED}

// MedalOrder is the order of the medal catalogue: category medals, then behaviour medals,
// each in the order the programme created them (id).
func MedalOrder() []medal.OrderOption {
	return []medal.OrderOption{Ranked(medal.FieldKind, string(medal.KindCATEGORY), string(medal.KindBEHAVIOR)), medal.ByID()}
}

// Package schema is the data model. Every programme-owned row carries program_id and every
// member-owned row the member key, so the data can later be sharded by member.
package schema

import "entgo.io/ent/dialect"

// datetime stores an instant as DATETIME(6) on MySQL: TIMESTAMP would end in 2038 and shift
// with the session zone. Values are written in UTC.
var datetime = map[string]string{dialect.MySQL: "datetime(6)"}

// EnumDoc describes an enum field's GraphQL type and each of its values, which entgql has no
// annotation for; the schema hook of ent/entc.go writes them into schema/ent.graphqls.
type EnumDoc struct {
	Type   string            // the enum type's description
	Values map[string]string // each value's description, by value
}

// Name implements schema.Annotation.
func (EnumDoc) Name() string { return "EnumDoc" }

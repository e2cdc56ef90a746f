// Package schema is the data model. Every programme-owned row carries program_id and every
// member-owned row the member key, so the data can later be sharded by member.
package schema

import (
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
)

// datetime stores an instant as DATETIME(6) on MySQL: TIMESTAMP would end in 2038 and shift
// with the session zone. Values are written in UTC.
var datetime = map[string]string{dialect.MySQL: "datetime(6)"}

// idCollation makes an id column compare byte for byte and without padding on MariaDB, so
// "a-victim " and "a-victim" are two ids there as on SQLite: the tables' utf8mb4_bin is
// PAD SPACE on MariaDB, where trailing spaces are ignored in comparisons and unique indexes.
// utf8mb4_nopad_bin is MariaDB's (10.2+); MySQL 8 has no such name and calls its NO PAD
// binary collation utf8mb4_0900_bin: store.Migrate sends that name to a MySQL 8 server.
// SQLite ignores it: its BINARY comparison never pads. internal/ident refuses such ids
// before any lookup; this keeps the database itself from conflating them.
var idCollation = entsql.Annotation{Collation: "utf8mb4_nopad_bin"}

// EnumDoc describes an enum field's GraphQL type and each of its values, which entgql has no
// annotation for; the schema hook of ent/entc.go writes them into schema/ent.graphqls.
type EnumDoc struct {
	Type   string            // the enum type's description
	Values map[string]string // each value's description, by value
}

// Name implements schema.Annotation.
func (EnumDoc) Name() string { return "EnumDoc" }

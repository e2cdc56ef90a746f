package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/membergraph/membergraph/ent/schema/rule"
	"github.com/membergraph/membergraph/internal/tag/cond"
)

// Segment is a saved filter over tags and member fields (docs/domain.md §8); its members are
// computed when asked, never stored, so the count is always live.
type Segment struct {
	ent.Schema
}

func (Segment) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.String("key").NotEmpty().MaxLen(64).Immutable().Annotations(idCollation),
		field.String("name").NotEmpty().MaxLen(100),
		field.JSON("condition", cond.Node{}).Comment("The filter: which members are in the segment."),
		field.Time("created_at").Immutable().SchemaType(datetime),
		field.Time("updated_at").SchemaType(datetime),
	}
}

func (Segment) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "key").Unique()}
}

func (Segment) Policy() ent.Policy { return rule.AuditTrailPolicy() }

func (Segment) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

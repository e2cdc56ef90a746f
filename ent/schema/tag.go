package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/membergraph/membergraph/ent/schema/rule"
	"github.com/membergraph/membergraph/internal/tag/cond"
)

// Tag is a label members carry (docs/domain.md §8): MANUAL ones are set and removed by
// ADMIN or SERVICE, AUTO ones by the evaluation of their TagRule alone.
type Tag struct {
	ent.Schema
}

func (Tag) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.String("key").NotEmpty().MaxLen(64).Immutable().Annotations(idCollation),
		field.String("name").NotEmpty().MaxLen(100),
		field.Enum("kind").Values("MANUAL", "AUTO").Immutable(),
		field.Time("created_at").Immutable().SchemaType(datetime),
	}
}

func (Tag) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "key").Unique()}
}

// ADMIN and SERVICE read and write tags (SERVICE sets manual ones); the resolvers keep rule
// changes to ADMIN; members, stores and partners see none.
func (Tag) Policy() ent.Policy { return rule.AuditTrailPolicy() }

func (Tag) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// TagRule is the condition that sets an AUTO tag: a member carries the tag exactly while
// the condition holds, as of its last evaluation.
type TagRule struct {
	ent.Schema
}

func (TagRule) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("tag_id").Immutable(),
		field.JSON("condition", cond.Node{}),
		field.Int("version").Default(1).Comment("Raised by every change, so an evaluation knows which condition it applied."),
		field.Time("created_at").Immutable().SchemaType(datetime),
		field.Time("updated_at").SchemaType(datetime),
		field.Time("evaluated_at").Optional().Nillable().SchemaType(datetime).
			Comment("When the last full evaluation of every member finished."),
	}
}

func (TagRule) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tag_id").Unique(), index.Fields("program_id")}
}

func (TagRule) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("tag", Tag.Type).Field("tag_id").Unique().Required().Immutable(),
	}
}

func (TagRule) Policy() ent.Policy { return rule.AuditTrailPolicy() }

func (TagRule) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// MemberTag is a tag a member carries: since when, set by whom, why, and whether by hand or
// by the tag's rule. Removing the tag deletes the row; the audit log keeps manual removals.
type MemberTag struct {
	ent.Schema
}

func (MemberTag) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Immutable(),
		field.Int("tag_id").Immutable(),
		field.Time("since").Immutable().SchemaType(datetime),
		field.String("set_by").MaxLen(128).Immutable().Comment("ROLE:subject of a manual tag; RULE:version of an automatic one."),
		field.String("reason").MaxLen(256).Immutable(),
		field.Enum("source").Values("MANUAL", "RULE").Immutable(),
	}
}

func (MemberTag) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id", "tag_id").Unique(),
		// A rule's evaluation and a segment's tag test read a tag's members by id range.
		index.Fields("tag_id", "member_id"),
	}
}

func (MemberTag) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable(),
		edge.To("tag", Tag.Type).Field("tag_id").Unique().Required().Immutable(),
	}
}

func (MemberTag) Policy() ent.Policy { return rule.AuditTrailPolicy() }

func (MemberTag) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

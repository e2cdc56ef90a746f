package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/membergraph/membergraph/ent/schema/rule"
)

// Refusal keeps the refusal of a request whose successes live in rows of their own (a
// claimBenefit refused: the member's claims count against quotas, so a refusal cannot be
// one of them), so that a retry with the key answers the same refusal and a retry with
// another body is a CONFLICT (docs/architecture.md "Idempotency"). Points requests keep
// their refusals in PointRequest, under the one key that also holds their successes.
type Refusal struct {
	ent.Schema
}

func (Refusal) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Immutable(),
		field.String("operation").NotEmpty().MaxLen(32).Immutable().Comment("The mutation refused, e.g. claimBenefit: each has its own keys."),
		field.String("key").NotEmpty().MaxLen(128).Immutable().Annotations(idCollation),
		field.String("body_hash").MaxLen(64).Immutable(),
		field.String("code").NotEmpty().MaxLen(32).Immutable().Comment("The userError code answered."),
		field.String("field").MaxLen(128).Immutable().Comment("The input field the refusal named, dotted; empty for the whole input."),
		field.String("message").MaxLen(1024).Immutable(),
		field.Time("created_at").Immutable().SchemaType(datetime),
	}
}

func (Refusal) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "operation", "key").Unique()}
}

func (Refusal) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable(),
	}
}

func (Refusal) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (Refusal) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

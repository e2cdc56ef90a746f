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

// Benefit is an entry of a programme's benefit catalogue (docs/domain.md §4 "Tier benefits").
type Benefit struct {
	ent.Schema
}

func (Benefit) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.String("key").NotEmpty().MaxLen(64),
		field.String("name").NotEmpty().MaxLen(128),
		field.Enum("kind").Values("PRICE", "LOGISTICS", "SERVICE", "VALUE_ADDED").
			Annotations(entgql.Type("BenefitKind")),
		field.String("description").Default("").MaxLen(512),
		field.Int("quota").NonNegative().Default(0).
			Comment("Claims allowed per quota period; 0 means unlimited."),
		field.Enum("quota_period").Values("NONE", "MONTH", "YEAR").Default("NONE").
			Annotations(entgql.Type("QuotaPeriod")),
	}
}

func (Benefit) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("program", Program.Type).Ref("benefits").Field("program_id").Unique().Required().Immutable().
			Annotations(entgql.Skip()),
		edge.From("tiers", Tier.Type).Ref("benefits").Annotations(entgql.Skip()),
	}
}

func (Benefit) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "key").Unique()}
}

func (Benefit) Policy() ent.Policy { return rule.ProgramDataPolicy() }

func (Benefit) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}

package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/membergraph/membergraph/ent/schema/rule"
	"github.com/membergraph/membergraph/internal/rules"
)

// Program is one member programme: its rules and, through its edges, its tiers, benefits
// and members. Everything a programme owns carries its program_id.
type Program struct {
	ent.Schema
}

func (Program) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").NotEmpty().MaxLen(32).Unique().Immutable().
			Comment("Stable identifier, e.g. \"jd\"; tokens name their programme by it."),
		field.String("name").NotEmpty().MaxLen(128).
			Comment("The display name."),
		field.String("time_zone").NotEmpty().MaxLen(64).Default("Asia/Shanghai").
			Comment("IANA zone in which days, months and years of the programme begin."),
		field.Int64("points_per_yuan").Positive().Default(100).
			Comment("How many points are worth ¥1."),
		field.JSON("rules", rules.Rules{}).Annotations(entgql.Skip()).
			Comment("Rule configuration as data (internal/rules)."),
	}
}

func (Program) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("tiers", Tier.Type).Annotations(entgql.Skip()),
		edge.To("benefits", Benefit.Type).Annotations(entgql.Skip()),
		edge.To("members", Member.Type).Annotations(entgql.Skip()),
		edge.To("medals", Medal.Type).Annotations(entgql.Skip()),
	}
}

func (Program) Policy() ent.Policy { return rule.ProgramPolicy() }

func (Program) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("A member programme: its rules, tiers, benefit catalogue, medals and members."),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField),
	}
}

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

// Tier is a step of a programme's ladder (docs/domain.md §4 "Tiers"): the settled score sets it.
type Tier struct {
	ent.Schema
}

func (Tier) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.String("key").NotEmpty().MaxLen(32).
			Comment("Stable identifier within the programme, e.g. GOLD."),
		field.String("name").NotEmpty().MaxLen(64).
			Comment("The display name, e.g. Gold."),
		field.Int("level").NonNegative().
			Comment("Position on the ladder, 0 for the entry tier."),
		field.Int64("min_score").NonNegative().
			Comment("The settled score from which the tier holds."),
		field.String("description").Default("").MaxLen(512).
			Comment("What the tier means, in words."),
		field.Int64("gift_points").NonNegative().Default(0).
			Comment("Upgrade gift: points granted the first time in a calendar year a member reaches the tier."),
		field.Strings("gift_benefits").Optional().
			Comment("Upgrade gift: catalogue benefits (coupons) issued as claims with the points, in the order configured."),
		field.Int64("yearly_deduction").NonNegative().Default(0).
			Comment("Cumulative mode: growth taken from members of this tier on 1 January."),
	}
}

func (Tier) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("program", Program.Type).Ref("tiers").Field("program_id").Unique().Required().Immutable().
			Annotations(entgql.Skip()),
		edge.To("benefits", Benefit.Type).
			Comment("The catalogue benefits members of the tier hold, by kind (PRICE, LOGISTICS, SERVICE, VALUE_ADDED), then key."),
		edge.From("members", Member.Type).Ref("tier").Annotations(entgql.Skip()),
	}
}

func (Tier) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("program_id", "key").Unique(),
		index.Fields("program_id", "level").Unique(),
	}
}

func (Tier) Policy() ent.Policy { return rule.ProgramDataPolicy() }

func (Tier) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("A step of the programme's tier ladder; the settled score sets a member's tier."),
		entgql.Skip(entgql.SkipWhereInput),
	}
}

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
		field.String("key").NotEmpty().MaxLen(64).
			Comment("Stable identifier within the programme, e.g. FREE_SHIPPING_2."),
		field.String("name").NotEmpty().MaxLen(128).
			Comment("The display name."),
		field.Enum("kind").Values("PRICE", "LOGISTICS", "SERVICE", "VALUE_ADDED").
			Comment("What sort of benefit it is.").
			Annotations(entgql.Type("BenefitKind"), EnumDoc{Type: "The sorts of benefit in the catalogue.", Values: map[string]string{
				"PRICE":       "Better prices: birthday coupons, tier gift packs, member-only prices.",
				"LOGISTICS":   "Delivery: free-shipping coupons, double free shipping, door-step exchange.",
				"SERVICE":     "After-sales service: replace instead of repair, flash refunds, a VIP hotline.",
				"VALUE_ADDED": "Extras: partner memberships, points multipliers.",
			}}),
		field.String("description").Default("").MaxLen(512).
			Comment("What the member gets, in words."),
		field.Int64("face_value_cents").NonNegative().Default(0).
			Comment("The face value of a coupon benefit, in cents; 0 for a benefit without one."),
		field.Int("quota").NonNegative().Default(0).
			Comment("Claims allowed per quota period; 0 means unlimited."),
		field.Enum("quota_period").Values("NONE", "MONTH", "YEAR").Default("NONE").
			Comment("The period the quota renews in.").
			Annotations(entgql.Type("QuotaPeriod"), EnumDoc{Type: "The period a benefit's quota renews in.", Values: map[string]string{
				"NONE":  "Unlimited: no quota.",
				"MONTH": "The quota renews on the 1st of each month, in the programme's time zone.",
				"YEAR":  "The quota renews on 1 January, in the programme's time zone.",
			}}),
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
	return []schema.Annotation{
		schema.Comment("An entry of the programme's benefit catalogue: what a tier or a medal level holds."),
		entgql.Skip(entgql.SkipWhereInput),
	}
}

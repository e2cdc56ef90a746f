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

// Medal is an entry of a programme's medal catalogue (docs/domain.md §6): a category medal per
// top category, levelled by spend in it, or a behaviour medal, levelled by a count.
type Medal struct {
	ent.Schema
}

func (Medal) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.String("key").NotEmpty().MaxLen(64).
			Comment("The category key (CATEGORY) or ORDERS, REVIEWS, PHOTO_REVIEWS, ANSWERS, CHECK_INS (BEHAVIOR)."),
		field.String("name").NotEmpty().MaxLen(64).
			Comment("The display name."),
		field.Enum("kind").Values("CATEGORY", "BEHAVIOR").
			Comment("Whether spend in a category or a count of a behaviour levels the medal.").
			Annotations(entgql.Type("MedalKind"), EnumDoc{Type: "What levels a medal up.", Values: map[string]string{
				"CATEGORY": "Spend in one top category over the last 12 months.",
				"BEHAVIOR": "A count over the last 12 months: orders, reviews, photo reviews, answers or check-ins.",
			}}),
		field.JSON("thresholds", []int64{}).
			Comment("Levels 1–5: yuan spent in the category, or the count, over the last 12 months.").
			Annotations(entgql.Type("[Int!]")),
		field.JSON("level_benefits", [][]string{}).Optional().Annotations(entgql.Skip()).
			Comment("Per level, catalogue keys granted once when the level is first reached."),
	}
}

func (Medal) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "key").Unique()}
}

func (Medal) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("program", Program.Type).Ref("medals").Field("program_id").Unique().Required().Immutable().
			Annotations(entgql.Skip()),
	}
}

func (Medal) Policy() ent.Policy { return rule.ProgramDataPolicy() }

func (Medal) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("An entry of the programme's medal catalogue: a category medal or a behaviour medal."),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// CategoryMonth is one member's spend in one category in one programme-local month, moved
// in the event's transaction like ActivityMonth; the category medals read it.
type CategoryMonth struct {
	ent.Schema
}

func (CategoryMonth) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Immutable(),
		field.Int("month").Immutable().Comment("YYYYMM in the programme's time zone."),
		field.String("category").MaxLen(64).Immutable(),
		field.Int64("spend_cents").Default(0).Comment("Paid on completed orders' lines, less refunded lines."),
	}
}

func (CategoryMonth) Indexes() []ent.Index {
	return []ent.Index{index.Fields("member_id", "month", "category").Unique()}
}

func (CategoryMonth) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable(),
	}
}

func (CategoryMonth) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (CategoryMonth) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// MemberMedal is the level a member holds of a medal, as last evaluated; category teams
// find their high-value members through it.
type MemberMedal struct {
	ent.Schema
}

func (MemberMedal) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.Int("member_id").Immutable().Annotations(entgql.Skip()),
		field.String("medal_key").MaxLen(64).Immutable().
			Comment("The medal's key."),
		field.Int("level").Comment("The level held, 0–5.").Annotations(entgql.OrderField("LEVEL")),
		field.Time("updated_at").SchemaType(datetime).Comment("When the level last changed."),
	}
}

func (MemberMedal) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id", "medal_key").Unique(),
		index.Fields("program_id", "medal_key", "level"),
	}
}

func (MemberMedal) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable().
			Comment("The member who holds it."),
	}
}

func (MemberMedal) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (MemberMedal) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("The level a member holds of a medal, as last evaluated."),
		entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// MedalChange is one entry of a member's medal history.
type MedalChange struct {
	ent.Schema
}

func (MedalChange) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.Int("member_id").Immutable().Annotations(entgql.Skip()),
		field.String("medal_key").MaxLen(64).Immutable().
			Comment("The medal's key."),
		field.Int("from_level").Immutable().Comment("The level before, 0–5."),
		field.Int("to_level").Immutable().Comment("The level after, 0–5."),
		field.String("reason").MaxLen(256).Immutable().Comment("Why, in words a member understands."),
		field.Time("created_at").Immutable().SchemaType(datetime).Comment("When the level changed.").
			Annotations(entgql.OrderField("CREATED_AT")),
	}
}

func (MedalChange) Indexes() []ent.Index {
	return []ent.Index{index.Fields("member_id", "created_at")}
}

func (MedalChange) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable().Annotations(entgql.Skip()),
	}
}

func (MedalChange) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (MedalChange) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("One entry of a member's medal history: a level reached or lost, and why."),
		entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

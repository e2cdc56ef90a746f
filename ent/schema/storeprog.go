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

// StoreProgram is a store membership programme (docs/domain.md §8): one store's (SINGLE) or
// several stores' sharing one membership and one budget (UNION). Members join it, not a store.
type StoreProgram struct {
	ent.Schema
}

func (StoreProgram) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.String("key").NotEmpty().MaxLen(48).Immutable().Annotations(idCollation).
			Comment("The programme's key, unique per platform programme; a union's budget is kept under UNION:<key>."),
		field.String("name").NotEmpty().MaxLen(100),
		field.Enum("kind").Values("SINGLE", "UNION").Immutable().
			Comment("SINGLE holds one store; UNION several, which share its members and its budget."),
		field.Time("created_at").Immutable().SchemaType(datetime),
	}
}

func (StoreProgram) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "key").Unique()}
}

func (StoreProgram) Policy() ent.Policy { return rule.ProgramDataPolicy() }

func (StoreProgram) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Store is a store on the platform, in at most one store programme. Its key is the subject
// of its STORE tokens and the storeId of its budget.
type Store struct {
	ent.Schema
}

func (Store) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.String("key").NotEmpty().MaxLen(64).Immutable().Annotations(idCollation).
			Comment("The store id: a STORE token's subject."),
		field.String("name").NotEmpty().MaxLen(100),
		field.String("brand").NotEmpty().MaxLen(100),
		field.Int("store_program_id").Optional().Nillable().Immutable().
			Comment("The programme it belongs to; set at creation, never moved, so a budget's grants stay its own."),
		field.Time("created_at").Immutable().SchemaType(datetime),
	}
}

func (Store) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "key").Unique(), index.Fields("store_program_id")}
}

func (Store) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("store_program", StoreProgram.Type).Field("store_program_id").Unique().Immutable(),
	}
}

func (Store) Policy() ent.Policy { return rule.ProgramDataPolicy() }

func (Store) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// StoreConsent is one membership of a member in a store programme: when it was consented,
// through which channel, to which text, and when it was withdrawn. History is kept: a
// re-join after leaving is a new row; at most one row per member and programme is open
// (left_at null), which the service keeps under the member's lock.
type StoreConsent struct {
	ent.Schema
}

func (StoreConsent) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Immutable(),
		field.Int("store_program_id").Immutable(),
		field.Time("joined_at").Immutable().SchemaType(datetime),
		field.Enum("channel").Values("APP", "WEB", "MINI_PROGRAM", "STORE").Immutable().
			Comment("Where the member consented."),
		field.String("text_version").NotEmpty().MaxLen(64).Immutable().
			Comment("The version of the consent text the member agreed to."),
		field.String("actor").MaxLen(64).Immutable().
			Comment("Who recorded the consent: the member itself or the SERVICE acting for it."),
		field.Time("left_at").Optional().Nillable().SchemaType(datetime).
			Comment("When the consent was withdrawn; null while it holds."),
		field.String("left_by").Optional().MaxLen(64).
			Comment("Who withdrew it."),
	}
}

func (StoreConsent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id", "store_program_id"),
		index.Fields("store_program_id", "left_at", "member_id"),
	}
}

func (StoreConsent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable(),
		edge.To("store_program", StoreProgram.Type).Field("store_program_id").Unique().Required().Immutable(),
	}
}

func (StoreConsent) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (StoreConsent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

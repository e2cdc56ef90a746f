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

// PlusTerm is one term of a member's PLUS membership (docs/domain.md §5 "Terms"). Terms of a
// member form a chain: each starts where the one before ends, or at its creation when none
// was running. A member is PLUS while an instant lies in [start_at, end_at) of a term, so a
// cancellation moves end_at to the cancel instant and keeps the planned end beside it.
type PlusTerm struct {
	ent.Schema
}

func (PlusTerm) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.Int("member_id").Immutable().Annotations(entgql.Skip()),
		field.String("plan").NotEmpty().MaxLen(32).Immutable().
			Comment("The plan's key in the programme's PLUS plans, e.g. ANNUAL or TRIAL."),
		field.String("source").NotEmpty().MaxLen(80).Immutable().
			Comment("How the term came about: PURCHASE, TRIAL, CODE or PARTNER:<key>."),
		field.Time("start_at").Immutable().SchemaType(datetime).
			Comment("The first instant of the term.").
			Annotations(entgql.OrderField("START_AT")),
		field.Time("end_at").SchemaType(datetime).
			Comment("The first instant after the term: the planned end, or the cancel instant of a cancelled term."),
		field.Time("planned_end_at").Immutable().SchemaType(datetime).
			Comment("The end the term had when it was granted."),
		field.Int64("price_paid_cents").NonNegative().Default(0).Immutable().
			Comment("What the member paid for the term, in cents; 0 for a trial, a code or a partner grant."),
		field.String("payment_ref").Default("").MaxLen(128).Immutable().
			Comment("The commerce side's payment reference of a purchase; empty otherwise."),
		field.String("idempotency_key").NotEmpty().MaxLen(128).Immutable().Annotations(idCollation, entgql.Skip()),
		field.String("body_hash").MaxLen(64).Immutable().Annotations(entgql.Skip()),
		field.JSON("bundled", map[string]string{}).Optional().Annotations(entgql.Skip()).
			Comment("What the term bundled, e.g. the partner grant key of the video VIP, so a cancel revokes it."),
		field.Time("cancelled_at").Optional().Nillable().SchemaType(datetime).
			Comment("When the term was cancelled; null while it stands."),
		field.String("cancel_reason").Default("").MaxLen(256).
			Comment("Why the term was cancelled; empty while it stands."),
		field.Time("refunded_at").Optional().Nillable().SchemaType(datetime).
			Comment("When a refund was granted for the term; null when none was."),
		field.Int64("refund_cents").NonNegative().Default(0).
			Comment("The refund granted, in cents: the price paid less the value received in the term, never below 0."),
		field.Time("end_recorded_at").Optional().Nillable().SchemaType(datetime).Annotations(entgql.Skip()).
			Comment("When the expiry job recorded that the term had ended; null before."),
		field.Time("created_at").Immutable().SchemaType(datetime).
			Comment("When the term was granted."),
	}
}

func (PlusTerm) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("program_id", "idempotency_key").Unique(),
		index.Fields("member_id", "end_at"),
		index.Fields("program_id", "end_recorded_at", "end_at"),
		// The analytics: terms started in a period (conversion), terms ending in one
		// (renewal) and the members with a term running at an instant, from the index alone.
		index.Fields("program_id", "start_at"),
		index.Fields("program_id", "end_at", "start_at", "member_id"),
	}
}

func (PlusTerm) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable().Annotations(entgql.Skip()),
	}
}

func (PlusTerm) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (PlusTerm) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("One term of a member's PLUS membership: a plan, how it came about, and the instants it runs between."),
		entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// PlusRequest makes the PLUS operations idempotent: every keyed grant or cancel keeps its
// first outcome here, a refusal included, so a replay answers the same and another body
// under the key is told apart by body_hash.
type PlusRequest struct {
	ent.Schema
}

func (PlusRequest) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Immutable(),
		field.String("key").NotEmpty().MaxLen(128).Immutable().Annotations(idCollation),
		field.String("body_hash").MaxLen(64).Immutable(),
		field.String("op").NotEmpty().MaxLen(16).Immutable().Comment("GRANT or CANCEL."),
		field.Int("term_id").Optional().Nillable().Immutable().Comment("The term the request granted or cancelled."),
		field.Int64("refundable_cents").Default(0).Immutable().Comment("A cancel's refundable amount."),
		field.String("error_code").Default("").MaxLen(32).Immutable().Comment("A refusal's user error code; empty on success."),
		field.String("error_field").Default("").MaxLen(128).Immutable(),
		field.String("error_message").Default("").MaxLen(512).Immutable(),
		field.Time("created_at").Immutable().SchemaType(datetime),
	}
}

func (PlusRequest) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "key").Unique()}
}

func (PlusRequest) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable(),
	}
}

func (PlusRequest) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (PlusRequest) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

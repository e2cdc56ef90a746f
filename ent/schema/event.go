package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/membergraph/membergraph/ent/schema/rule"
	"github.com/membergraph/membergraph/internal/events/payload"
)

// Event is an accepted report of member activity from the commerce side (docs/domain.md §2): the
// audit trail from which points, score and medals follow. Rejected events are not stored.
type Event struct {
	ent.Schema
}

func (Event) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Immutable(),
		field.String("idempotency_key").NotEmpty().MaxLen(128).Immutable().Annotations(idCollation),
		field.Enum("kind").Values(payload.KindValues()...).Immutable().Annotations(entgql.Type("EventKind")),
		field.Enum("channel").Values("APP", "WEB", "MINI_PROGRAM", "STORE").Immutable().Annotations(entgql.Type("Channel")),
		field.Time("occurred_at").Immutable().SchemaType(datetime),
		field.Time("recorded_at").Immutable().SchemaType(datetime),
		field.String("order_id").Optional().MaxLen(64).Immutable().
			Comment("The order an order, refund or review event concerns.").Annotations(idCollation),
		field.String("body_hash").MaxLen(64).Immutable().Annotations(entgql.Skip()).
			Comment("SHA-256 of the canonical body: a replay must match it."),
		field.JSON("body", payload.Body{}).Immutable().Annotations(entgql.Skip()),
		field.JSON("outcome", payload.Outcome{}).Annotations(entgql.Skip()).
			Comment("What the event did, returned again to a replay."),
	}
}

func (Event) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable().Annotations(entgql.Skip()),
	}
}

func (Event) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("program_id", "idempotency_key").Unique(),
		index.Fields("member_id", "kind", "order_id"),
		index.Fields("member_id", "occurred_at"),
	}
}

func (Event) Policy() ent.Policy { return rule.AuditTrailPolicy() }

func (Event) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

package schema

import (
	"encoding/json"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/membergraph/membergraph/ent/schema/rule"
)

// OutboxMessage is one change of a member told to the world (webhooks, live updates), written
// in the transaction of the change itself, so that a change committed is a message written and
// a change rolled back is none (the transactional outbox). The row id is the message's
// sequence: it grows with every message, and a member's messages are written under that
// member's lock, so their ids follow the order the changes committed in.
type OutboxMessage struct {
	ent.Schema
}

func (OutboxMessage) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Immutable(),
		field.String("event_type").NotEmpty().MaxLen(64).Immutable().Comment("What changed, e.g. points.changed (internal/outbox names them)."),
		field.JSON("payload", json.RawMessage{}).Immutable().Comment("The message body, without its envelope."),
		field.Time("created_at").Immutable().SchemaType(datetime),
		field.Bool("fanned_out").Default(false).
			Comment("Whether the dispatcher has made the message's deliveries, one per endpoint subscribed then."),
	}
}

func (OutboxMessage) Indexes() []ent.Index {
	return []ent.Index{
		// The dispatcher's scan for messages still to fan out, oldest first.
		index.Fields("fanned_out"),
		// points.NotifyExpiring's daily look for the programme's notices already sent. No
		// query reads the outbox by member (readers go by id; deliveries carry their own
		// member_id), so there is no member index to keep up on every message written.
		index.Fields("program_id"),
	}
}

func (OutboxMessage) Policy() ent.Policy { return rule.AdminDataPolicy() }

func (OutboxMessage) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/membergraph/membergraph/ent/schema/rule"
)

// WebhookEndpoint is a receiver of the programme's outbox messages over HTTP, signed per the
// Standard Webhooks specification with the endpoint's secret.
type WebhookEndpoint struct {
	ent.Schema
}

func (WebhookEndpoint) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.String("url").NotEmpty().MaxLen(2048).Comment("Where messages are POSTed (http or https)."),
		field.JSON("event_types", []string{}).Comment("The message types delivered to the endpoint, in the order given."),
		field.String("description").MaxLen(500).Default("").Comment("What the endpoint is for, the operator's words."),
		// Kept as it is, not hashed: the server signs every delivery with it. Shown once, by
		// createWebhookEndpoint and rotateWebhookSecret.
		field.String("secret").NotEmpty().MaxLen(128).Sensitive().Annotations(entgql.Skip()),
		field.Enum("status").Values("ACTIVE", "DISABLED").Default("ACTIVE").
			Comment("Whether messages are delivered to the endpoint.").
			Annotations(entgql.Type("WebhookEndpointStatus"), EnumDoc{Type: "Whether an endpoint receives messages.", Values: map[string]string{
				"ACTIVE":   "Messages are delivered.",
				"DISABLED": "Nothing is delivered: an operator disabled it, or its deliveries failed too many times in a row.",
			}}),
		field.Int("failure_run").Default(0).NonNegative().
			Comment("Failed delivery attempts in a row; a success resets it, the configured limit disables the endpoint."),
		field.String("disabled_reason").MaxLen(300).Default("").Comment("Why the endpoint was disabled; empty while active."),
		field.Time("created_at").Immutable().SchemaType(datetime).Comment("When the endpoint was created."),
	}
}

func (WebhookEndpoint) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "status")}
}

func (WebhookEndpoint) Policy() ent.Policy { return rule.AdminDataPolicy() }

func (WebhookEndpoint) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("A receiver of the programme's changes over HTTP, each message signed per the Standard Webhooks specification."),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// WebhookDelivery is one outbox message owed to one endpoint, with its attempts. A
// dispatcher takes it under a lease (lease_owner, lease_until) so that of several replicas
// one at a time tries it.
type WebhookDelivery struct {
	ent.Schema
}

func (WebhookDelivery) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.Int("endpoint_id").Immutable().Annotations(entgql.Skip()),
		field.Int("message_id").Immutable().Annotations(entgql.Skip()),
		field.Int("member_id").Immutable().Annotations(entgql.Skip()),
		field.String("event_type").MaxLen(64).Immutable().Comment("The message's type."),
		field.Enum("status").Values("PENDING", "DELIVERED", "FAILED").Default("PENDING").
			Comment("Where the delivery stands.").
			Annotations(entgql.Type("WebhookDeliveryStatus"), EnumDoc{Type: "Where a delivery stands.", Values: map[string]string{
				"PENDING":   "Not delivered yet: waiting for its turn or its next attempt.",
				"DELIVERED": "The endpoint answered 2xx.",
				"FAILED":    "Given up after the retry period; redeliverWebhook tries again.",
			}}),
		field.Int("attempts").Default(0).NonNegative().Comment("Attempts made so far."),
		field.Time("next_attempt_at").SchemaType(datetime).Comment("When the next attempt is due."),
		field.String("last_error").MaxLen(500).Default("").Comment("What the last failed attempt met (HTTP status or network error); empty if none."),
		field.String("lease_owner").MaxLen(64).Default("").Annotations(entgql.Skip()),
		field.Time("lease_until").Optional().Nillable().SchemaType(datetime).Annotations(entgql.Skip()),
		field.Time("created_at").Immutable().SchemaType(datetime).Comment("When the delivery was made from the message."),
		field.Time("delivered_at").Optional().Nillable().SchemaType(datetime).Comment("When the endpoint accepted it."),
	}
}

func (WebhookDelivery) Indexes() []ent.Index {
	return []ent.Index{
		// A message is owed to an endpoint once, however many dispatchers fan it out.
		index.Fields("message_id", "endpoint_id").Unique(),
		// An endpoint's queue of one member, in sequence: the head goes first.
		index.Fields("endpoint_id", "member_id", "message_id"),
		index.Fields("status", "next_attempt_at"),
	}
}

func (WebhookDelivery) Policy() ent.Policy { return rule.AdminDataPolicy() }

func (WebhookDelivery) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("One message owed to one webhook endpoint, with its attempts."),
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

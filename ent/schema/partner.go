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

// PartnerSetting is an admin's switch and configuration for a partner plugin.
type PartnerSetting struct {
	ent.Schema
}

func (PartnerSetting) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.String("partner_key").NotEmpty().MaxLen(64).Immutable(),
		field.Bool("enabled").Default(true),
		field.JSON("config", map[string]string{}).Optional(),
		field.Time("updated_at").SchemaType(datetime),
	}
}

func (PartnerSetting) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "partner_key").Unique()}
}

func (PartnerSetting) Policy() ent.Policy { return rule.AdminDataPolicy() }

func (PartnerSetting) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// PartnerGrant is a partner benefit granted (or being granted) to a member. It is written
// PENDING with its idempotency key before the plugin is called, outside any long
// transaction, and gets the outcome after; a reconciler finishes grants a crash left
// PENDING by calling the plugin again with the same key.
type PartnerGrant struct {
	ent.Schema
}

func (PartnerGrant) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.Int("member_id").Immutable().Annotations(entgql.Skip()),
		field.String("partner_key").MaxLen(64).Immutable().Comment("The partner's key.").
			Annotations(entgql.MapsTo("partner")),
		field.String("benefit_key").MaxLen(64).Immutable().Comment("The benefit's key within the partner.").
			Annotations(entgql.MapsTo("benefit")),
		field.String("idempotency_key").MaxLen(128).Immutable().Annotations(idCollation, entgql.Skip()),
		field.String("body_hash").MaxLen(64).Immutable().Annotations(entgql.Skip()),
		field.JSON("params", map[string]string{}).Optional().Immutable().Annotations(entgql.Skip()).
			Comment("What the claim handed the partner, kept so a retry hands the same."),
		field.Enum("status").Values("PENDING", "GRANTED", "REFUSED", "REVOKED", "EXPIRED").
			Comment("Where the grant stands.").
			Annotations(entgql.Type("PartnerGrantStatus"), EnumDoc{Type: "Where a partner grant stands.", Values: map[string]string{
				"PENDING": "Asked for, without an answer yet: a retry with the same idempotency key finishes it.",
				"GRANTED": "The partner granted it; code holds what the member receives.",
				"REFUSED": "The partner refused; detail says why.",
				"REVOKED": "Withdrawn after it was granted.",
				"EXPIRED": "Never answered: the partner could not be reached for a day (the claim's expiry, docs/domain.md §7); nothing was granted, and a new claim needs a new idempotency key.",
			}}),
		field.String("grant_id").Default("").MaxLen(128).Comment("The partner's id of the grant."),
		field.String("code").Default("").MaxLen(256).Comment("What the member receives, e.g. an activation code."),
		field.Time("expires_at").Optional().Nillable().SchemaType(datetime).
			Comment("When the benefit ends; null when it does not."),
		field.String("detail").Default("").MaxLen(512).Comment("The partner's description, or why it refused."),
		field.Int("attempts").Default(0).Annotations(entgql.Skip()),
		field.Time("created_at").Immutable().SchemaType(datetime).Comment("When the member claimed it.").
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("updated_at").SchemaType(datetime).Comment("When its status last changed."),
	}
}

func (PartnerGrant) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("program_id", "idempotency_key").Unique(),
		index.Fields("member_id", "partner_key"),
		index.Fields("program_id", "status", "updated_at"),
	}
}

func (PartnerGrant) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable().Annotations(entgql.Skip()),
	}
}

func (PartnerGrant) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (PartnerGrant) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("A partner benefit granted, or being granted, to a member."),
		entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

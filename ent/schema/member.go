package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/membergraph/membergraph/ent/schema/rule"
)

// Member is a person in a programme, known to the commerce side by externalId.
type Member struct {
	ent.Schema
}

func (Member) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.String("external_id").NotEmpty().MaxLen(64).Immutable().
			Comment("The commerce side's account id; unique per programme.").
			Annotations(
				entgql.OrderField("EXTERNAL_ID"),
				// ent would spell it externalID; the API contract spells it externalId. The
				// where-input predicates are hand-written in schema/membergraph.graphqls.
				entgql.MapsTo("externalId"),
				entgql.Skip(entgql.SkipWhereInput),
			),
		field.String("nickname").Default("").MaxLen(64).
			Annotations(entgql.OrderField("NICKNAME")),
		field.Enum("gender").Values("UNKNOWN", "MALE", "FEMALE").Default("UNKNOWN").
			Annotations(entgql.Type("Gender")),
		field.Time("birthday").Optional().Nillable().
			SchemaType(map[string]string{dialect.MySQL: "date", dialect.SQLite: "date"}).
			Annotations(entgql.Type("Date"), entgql.Skip(entgql.SkipWhereInput)),
		field.String("phone").Optional().MaxLen(32).
			Comment("Shown masked to everyone but ADMIN; the GraphQL field is hand-written.").
			Annotations(entgql.Skip()),
		field.Enum("registration_channel").Values("APP", "WEB", "MINI_PROGRAM", "STORE").
			Immutable().Annotations(entgql.Type("Channel")),
		field.Time("registered_at").Immutable().SchemaType(datetime).
			Annotations(entgql.OrderField("REGISTERED_AT")),
		field.Enum("status").Values("ACTIVE", "FROZEN").Default("ACTIVE").
			Annotations(entgql.Type("MemberStatus")),
		field.Bool("real_name_verified").Default(false),
		field.Strings("bound_accounts").Optional().
			Comment("Linked social account providers, e.g. WECHAT.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Int("tier_id").
			Annotations(entgql.Skip()),
		field.Time("updated_at").SchemaType(datetime).
			Annotations(entgql.OrderField("UPDATED_AT")),
	}
}

func (Member) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("program", Program.Type).Ref("members").Field("program_id").Unique().Required().Immutable().
			Annotations(entgql.Skip()),
		edge.To("tier", Tier.Type).Field("tier_id").Unique().Required(),
		edge.From("tier_history", TierChange.Type).Ref("member").
			Annotations(entgql.RelayConnection()),
		edge.From("medal_history", MedalChange.Type).Ref("member").
			Annotations(entgql.RelayConnection()),
		edge.From("partner_grants", PartnerGrant.Type).Ref("member").
			Annotations(entgql.RelayConnection()),
	}
}

func (Member) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("program_id", "external_id").Unique(),
		index.Fields("program_id", "registered_at"),
	}
}

func (Member) Policy() ent.Policy { return rule.MemberPolicy() }

func (Member) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField().Directives(entgql.NewDirective("auth", &ast.Argument{
			Name: "requires",
			Value: &ast.Value{Kind: ast.ListValue, Children: ast.ChildValueList{
				{Value: &ast.Value{Raw: "ADMIN", Kind: ast.EnumValue}},
				{Value: &ast.Value{Raw: "SERVICE", Kind: ast.EnumValue}},
			}},
		})),
	}
}

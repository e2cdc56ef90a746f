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
			).Annotations(idCollation),
		field.String("nickname").Default("").MaxLen(64).
			Comment("The name shown to the member and to operators; may be empty.").
			Annotations(entgql.OrderField("NICKNAME")),
		field.Enum("gender").Values("UNKNOWN", "MALE", "FEMALE").Default("UNKNOWN").
			Comment("The gender the member gave, UNKNOWN when none.").
			Annotations(entgql.Type("Gender"), EnumDoc{Type: "A member's gender, as the member gave it.", Values: map[string]string{
				"UNKNOWN": "Not given.",
				"MALE":    "Male.",
				"FEMALE":  "Female.",
			}}),
		field.Time("birthday").Optional().Nillable().
			SchemaType(map[string]string{dialect.MySQL: "date", dialect.SQLite: "date"}).
			Comment("The member's date of birth; null when not given.").
			Annotations(entgql.Type("Date"), entgql.Skip(entgql.SkipWhereInput)),
		field.String("phone").Optional().MaxLen(32).
			Comment("Shown masked to everyone but ADMIN; the GraphQL field is hand-written.").
			Annotations(entgql.Skip()),
		field.Enum("registration_channel").Values("APP", "WEB", "MINI_PROGRAM", "STORE").
			Immutable().Comment("Where the account was opened.").
			Annotations(entgql.Type("Channel"), EnumDoc{Type: "Where a member did something: the sales channel.", Values: map[string]string{
				"APP":          "The mobile app.",
				"WEB":          "The web shop.",
				"MINI_PROGRAM": "A mini-program inside a super-app (小程序).",
				"STORE":        "A physical store.",
			}}),
		field.Time("registered_at").Immutable().SchemaType(datetime).
			Comment("When the account was opened.").
			Annotations(entgql.OrderField("REGISTERED_AT")),
		field.Enum("status").Values("ACTIVE", "FROZEN").Default("ACTIVE").
			Comment("Whether the membership is active; only ADMIN changes it.").
			Annotations(entgql.Type("MemberStatus"), EnumDoc{Type: "Whether a membership is active.", Values: map[string]string{
				"ACTIVE": "The member takes part in the programme.",
				"FROZEN": "An operator froze the membership, e.g. pending a fraud review.",
			}}),
		field.Bool("real_name_verified").Default(false).
			Comment("Whether the member's real name is verified (counts towards the account dimension)."),
		field.Strings("bound_accounts").Optional().
			Comment("Linked social account providers, e.g. WECHAT, in the order they were linked.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Int("tier_id").
			Annotations(entgql.Skip()),
		field.Time("updated_at").SchemaType(datetime).
			Comment("When the profile last changed.").
			Annotations(entgql.OrderField("UPDATED_AT")),
	}
}

func (Member) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("program", Program.Type).Ref("members").Field("program_id").Unique().Required().Immutable().
			Annotations(entgql.Skip()),
		edge.To("tier", Tier.Type).Field("tier_id").Unique().Required().
			Comment("The tier the last settlement set; the entry tier before the first."),
		edge.From("tier_history", TierChange.Type).Ref("member").
			Comment("Every tier change, oldest first unless orderBy says otherwise.").
			Annotations(entgql.RelayConnection()),
		edge.From("medal_history", MedalChange.Type).Ref("member").
			Comment("Every medal level change, oldest first unless orderBy says otherwise.").
			Annotations(entgql.RelayConnection()),
		edge.From("partner_grants", PartnerGrant.Type).Ref("member").
			Comment("The partner benefits granted or being granted to the member, oldest first unless orderBy says otherwise.").
			Annotations(entgql.RelayConnection()),
	}
}

func (Member) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("program_id", "external_id").Unique(),
		index.Fields("program_id", "registered_at"),
		// The analytics' penetration and pyramid count members per tier from this index.
		index.Fields("program_id", "tier_id", "status"),
	}
}

func (Member) Policy() ent.Policy { return rule.MemberPolicy() }

func (Member) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("A person in a programme, known to the commerce side by externalId."),
		entgql.RelayConnection(),
		entgql.QueryField().Description("The members of the token's programme, a page at a time (first or last ≤ 100), in registration order (id) unless orderBy says otherwise; equal orderBy values in id order.").Directives(entgql.NewDirective("auth", &ast.Argument{
			Name: "requires",
			Value: &ast.Value{Kind: ast.ListValue, Children: ast.ChildValueList{
				{Value: &ast.Value{Raw: "ADMIN", Kind: ast.EnumValue}},
				{Value: &ast.Value{Raw: "SERVICE", Kind: ast.EnumValue}},
			}},
		})),
	}
}

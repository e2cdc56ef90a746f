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

// PlusCodeBatch is one issue of PLUS redemption codes (docs/domain.md §5 "Codes"). The codes
// themselves are shown once at issue and never stored; the batch is what remains to see.
type PlusCodeBatch struct {
	ent.Schema
}

func (PlusCodeBatch) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.Enum("purpose").Values("ENTERPRISE", "PROMOTION").Immutable().
			Comment("What the codes are for.").
			Annotations(entgql.Type("PlusCodePurpose"), EnumDoc{Type: "What a batch of PLUS codes is for.", Values: map[string]string{
				"ENTERPRISE": "A group purchase: a company buys PLUS for its staff.",
				"PROMOTION":  "A marketing campaign gives PLUS away.",
			}}),
		field.String("plan").NotEmpty().MaxLen(32).Immutable().
			Comment("The PLUS plan a code of the batch grants, e.g. ANNUAL."),
		field.Int("count").Positive().Immutable().
			Comment("How many codes the batch was issued with."),
		field.String("label").Default("").MaxLen(128).Immutable().
			Comment("Who or what the batch is for, in words (e.g. the company); may be empty."),
		field.Time("expires_at").Immutable().SchemaType(datetime).
			Comment("The first instant at which the batch's codes no longer redeem."),
		field.String("created_by").MaxLen(128).Immutable().
			Comment("Who issued the batch: ROLE:subject of the token; ADMIN:cli:<user> from the command line."),
		field.Time("created_at").Immutable().SchemaType(datetime).
			Comment("When the batch was issued."),
		field.String("idempotency_key").Optional().Nillable().MaxLen(128).Immutable().Annotations(idCollation, entgql.Skip()),
		field.String("body_hash").Default("").MaxLen(64).Immutable().Annotations(entgql.Skip()),
	}
}

func (PlusCodeBatch) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "idempotency_key").Unique()}
}

func (PlusCodeBatch) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("codes", PlusCode.Type).Annotations(entgql.Skip()),
	}
}

func (PlusCodeBatch) Policy() ent.Policy { return rule.AdminDataPolicy() }

func (PlusCodeBatch) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("A batch of PLUS redemption codes: what they grant and until when. The codes are shown once, at issue."),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// PlusCode is one redemption code, kept only as its keyed hash (internal/pluscode): a copy
// of the table tells nobody a code. redeemed_by is set by one conditional update, which is
// what makes a code single-use under racing redemptions.
type PlusCode struct {
	ent.Schema
}

func (PlusCode) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("batch_id").Immutable(),
		field.String("hash").NotEmpty().MaxLen(64).Immutable().
			Comment("HMAC-SHA256 of the canonical code under the server's code key, hex."),
		field.Int("member_id").Optional().Nillable().
			Comment("The member who redeemed the code; null while it is unused."),
		field.Time("redeemed_at").Optional().Nillable().SchemaType(datetime),
		field.Int("term_id").Optional().Nillable().
			Comment("The PLUS term the redemption granted; null until it is granted."),
	}
}

func (PlusCode) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("hash").Unique(),
		index.Fields("batch_id"),
		index.Fields("member_id"),
	}
}

func (PlusCode) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("batch", PlusCodeBatch.Type).Ref("codes").Field("batch_id").Unique().Required().Immutable(),
		edge.To("member", Member.Type).Field("member_id").Unique(),
	}
}

func (PlusCode) Policy() ent.Policy { return rule.AdminDataPolicy() }

func (PlusCode) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// PlusCodeFailure is one failed redemption by a member, kept for the rate limit of
// docs/domain.md §5 "Codes"; rows older than the limit's look-back are deleted as new ones
// come.
type PlusCodeFailure struct {
	ent.Schema
}

func (PlusCodeFailure) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Immutable(),
		field.String("reason").MaxLen(32).Immutable().Comment("The user error code the attempt got."),
		field.Time("failed_at").Immutable().SchemaType(datetime),
	}
}

func (PlusCodeFailure) Indexes() []ent.Index {
	return []ent.Index{index.Fields("member_id", "failed_at")}
}

func (PlusCodeFailure) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable(),
	}
}

func (PlusCodeFailure) Policy() ent.Policy { return rule.AdminDataPolicy() }

func (PlusCodeFailure) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

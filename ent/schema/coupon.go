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

// Coupon is a benefit an ISSUE_COUPON campaign gave a member (docs/domain.md §8): the member
// uses it once through claimBenefit before it expires. It is written in the transaction of
// the run's result, and unique per (run, member) like the result, so a run issues it once.
type Coupon struct {
	ent.Schema
}

func (Coupon) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Immutable(),
		field.Int("benefit_id").Immutable(),
		field.Int("campaign_id").Immutable(),
		field.Int("run_id").Immutable(),
		field.String("campaign_key").MaxLen(48).Immutable().
			Comment("The issuing campaign's key, kept here because a member may not read campaigns."),
		field.Time("issued_at").Immutable().SchemaType(datetime),
		field.Time("expires_at").Immutable().SchemaType(datetime).
			Comment("The instant it can no longer be used: issued_at plus the campaign's valid days."),
		field.Time("used_at").Optional().Nillable().SchemaType(datetime).
			Comment("When claimBenefit used it; set once, under the member's lock."),
		field.Int("claim_id").Optional().Nillable().Comment("The benefit claim that used it."),
	}
}

func (Coupon) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("run_id", "member_id").Unique(),
		index.Fields("member_id", "benefit_id", "expires_at"), // claimBenefit's look-up
	}
}

func (Coupon) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable(),
		edge.To("benefit", Benefit.Type).Field("benefit_id").Unique().Required().Immutable(),
	}
}

func (Coupon) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (Coupon) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

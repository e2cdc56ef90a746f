package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/membergraph/membergraph/ent/schema/rule"
	"github.com/membergraph/membergraph/internal/score/formula"
)

// ActivityMonth is one member's activity counters for one programme-local month, updated in
// the transaction of the event that moves them, so a score never rescans events (docs/domain.md
// §4). A refund moves the counters of the month its order was completed in.
type ActivityMonth struct {
	ent.Schema
}

func (ActivityMonth) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Immutable(),
		field.Int("month").Immutable().Comment("YYYYMM in the programme's time zone."),
		field.Int64("spend_cents").Default(0).Comment("Paid on completed orders, less refunded lines."),
		field.Int("orders").Default(0).Comment("Completed orders not refunded in full."),
		field.Int("completed_orders").Default(0).Comment("Every completed order, the refund rate's denominator."),
		field.Int("refunded_orders").Default(0).Comment("Orders with at least one refunded line."),
		field.Int64("purchase_days").Default(0).Comment("Bit d-1 set: a purchase on day d of the month."),
		field.Int64("login_days").Default(0).Comment("Bit d-1 set: a login or app open on day d."),
		field.Int("reviews").Default(0),
		field.Int("photo_reviews").Default(0),
		field.Int("answers").Default(0),
		field.Int("shares").Default(0),
		field.Int("check_ins").Default(0),
	}
}

func (ActivityMonth) Indexes() []ent.Index {
	return []ent.Index{index.Fields("member_id", "month").Unique()}
}

func (ActivityMonth) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable(),
	}
}

func (ActivityMonth) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (ActivityMonth) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// MemberScore is a member's settled score and the risk signals the coefficient reads.
type MemberScore struct {
	ent.Schema
}

func (MemberScore) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Immutable(),
		field.Int64("settled").Default(0).Comment("The score of the last settlement; it sets the tier."),
		field.Int("period").Default(0).Comment("YYYYMM of the last settlement applied; 0 before the first."),
		field.Time("settled_at").Optional().Nillable().SchemaType(datetime),
		field.JSON("breakdown", formula.Breakdown{}).Optional().Comment("How the settled score was made."),
		field.Int("reputation").Optional().Nillable().Comment("Latest reputation signal, 0–100."),
		field.Int("credit").Optional().Nillable().Comment("Latest credit signal, 0–100."),
		field.Int("counted_through").Default(0).
			Comment("Cumulative mode: the last month (YYYYMM) whose activity is in settled."),
		field.Int64("account_points_counted").Default(0).
			Comment("Cumulative mode: account points already in settled, so they count once."),
		field.Int("settlement_run").Default(0).
			Comment("The run of period's settlement that wrote settled, so a resettle taken over after a crash skips whom it did."),
	}
}

func (MemberScore) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id").Unique(),
		// The analytics' score histogram and the what-if read only this index.
		index.Fields("program_id", "settled"),
	}
}

func (MemberScore) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable(),
	}
}

func (MemberScore) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (MemberScore) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// TierChange is one entry of a member's tier history: from, to, when and why.
type TierChange struct {
	ent.Schema
}

func (TierChange) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.Int("member_id").Immutable().Annotations(entgql.Skip()),
		field.Int("from_tier_id").Optional().Nillable().Immutable().Annotations(entgql.Skip()),
		field.Int("to_tier_id").Immutable().Annotations(entgql.Skip()),
		field.Int("period").Immutable().Comment("YYYYMM of the settlement that made the change.").
			Annotations(entgql.Skip()),
		field.Enum("direction").Values("UP", "DOWN").Immutable().Comment("Whether the member moved up or down.").
			Annotations(entgql.Type("TierChangeDirection"), EnumDoc{Type: "Which way a tier change went.", Values: map[string]string{
				"UP":   "To a higher tier.",
				"DOWN": "To a lower tier.",
			}}),
		field.Int64("score").Immutable().Comment("The settled score that set the new tier."),
		field.String("reason").MaxLen(256).Immutable().Comment("Why, in words a member understands."),
		field.Time("created_at").Immutable().SchemaType(datetime).Comment("When the change was made.").
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Int("run").Default(1).Immutable().Comment("The run of the period's settlement that made the change.").
			Annotations(entgql.Skip()),
	}
}

func (TierChange) Indexes() []ent.Index {
	// One change per member and settlement run: a run taken over after a crash writes it once,
	// and a resettle of the period records its own.
	return []ent.Index{index.Fields("member_id", "period", "run").Unique()}
}

func (TierChange) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable().Annotations(entgql.Skip()),
		edge.To("from", Tier.Type).Field("from_tier_id").Unique().Immutable().
			Comment("The tier before; null for a member's first tier."),
		edge.To("to", Tier.Type).Field("to_tier_id").Unique().Required().Immutable().
			Comment("The tier after."),
	}
}

func (TierChange) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (TierChange) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("One entry of a member's tier history: from, to, when and why."),
		entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// TierGift is an upgrade gift owed to a member: written by the settlement that lifted the
// member to the tier (once per member, tier and calendar year) and delivered afterwards,
// each in its own transaction, so a settlement of a million members never waits on a
// million ledger writes.
type TierGift struct {
	ent.Schema
}

func (TierGift) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Immutable(),
		field.Int("tier_id").Immutable(),
		field.Int("year").Immutable(),
		field.Int64("points").NonNegative().Immutable(),
		field.Strings("benefits").Optional().Immutable().Comment("Catalogue keys issued as benefit claims."),
		field.Enum("status").Values("PENDING", "GRANTED").Default("PENDING"),
		field.Time("created_at").Immutable().SchemaType(datetime),
		field.Time("granted_at").Optional().Nillable().SchemaType(datetime),
	}
}

func (TierGift) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id", "tier_id", "year").Unique(),
		index.Fields("program_id", "status"),
	}
}

func (TierGift) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable(),
	}
}

func (TierGift) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (TierGift) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Settlement is the monthly settlement of one period: the scores of the months before it
// and the tiers they set. Its partitions are the units workers claim.
type Settlement struct {
	ent.Schema
}

func (Settlement) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.Int("period").Immutable().Comment("YYYYMM: settled on the 1st of this month.").
			Annotations(entgql.Skip()),
		field.Enum("status").Values("RUNNING", "DONE").Default("RUNNING").Comment("Whether the latest run has finished.").
			Annotations(entgql.Type("SettlementStatus"), EnumDoc{Type: "Whether a settlement run has finished.", Values: map[string]string{
				"RUNNING": "Workers are settling its partitions.",
				"DONE":    "Every partition is settled.",
			}}),
		field.Time("started_at").Immutable().SchemaType(datetime).Comment("When the period's first run began."),
		field.Time("finished_at").Optional().Nillable().SchemaType(datetime).Comment("When the latest run finished."),
		field.Int("partitions").Default(0).Comment("Partitions of the latest run."),
		field.Int("run").Default(1).Comment("The latest run of the period: 1, then one more for each re-run that settles newcomers or resettles."),
		field.Bool("resettle").Default(false).Comment("The latest run recomputes every member (an audited resettle), not only those without a score for the period."),
		field.Int("members").Default(0).Comment("Members the latest run settled, once all its partitions are done."),
		field.Int("tier_changes").Default(0).Comment("Tier changes the latest run made."),
	}
}

func (Settlement) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "period").Unique()}
}

func (Settlement) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("parts", SettlementPartition.Type).Annotations(entgql.Skip()),
	}
}

func (Settlement) Policy() ent.Policy { return rule.AdminDataPolicy() }

func (Settlement) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("The score settlement of one period: the months before it set each member's settled score and tier."),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// SettlementPartition is a range of member ids of a settlement. A worker claims it with a
// lease; a lease that runs out (a crashed worker) lets another worker take it over.
type SettlementPartition struct {
	ent.Schema
}

func (SettlementPartition) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("settlement_id").Immutable(),
		field.Int("run").Default(1).Immutable().Comment("The run of the settlement the partition belongs to."),
		field.Int("lo").Immutable().Comment("First member id of the range."),
		field.Int("hi").Immutable().Comment("Last member id of the range."),
		field.Enum("status").Values("PENDING", "RUNNING", "DONE").Default("PENDING"),
		field.String("worker").Default("").MaxLen(64),
		field.Time("lease_until").Optional().Nillable().SchemaType(datetime),
		field.Int("members").Default(0),
		field.Int("tier_changes").Default(0),
	}
}

func (SettlementPartition) Indexes() []ent.Index {
	return []ent.Index{index.Fields("settlement_id", "run", "lo").Unique()}
}

func (SettlementPartition) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("settlement", Settlement.Type).Ref("parts").Field("settlement_id").Unique().Required().Immutable(),
	}
}

func (SettlementPartition) Policy() ent.Policy { return rule.AdminDataPolicy() }

func (SettlementPartition) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// BenefitClaim is one use of a limited benefit (docs/domain.md §4 "Tier benefits"), or a coupon
// issued as an upgrade gift.
type BenefitClaim struct {
	ent.Schema
}

func (BenefitClaim) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.Int("member_id").Immutable().Annotations(entgql.Skip()),
		field.Int("benefit_id").Immutable().Annotations(entgql.Skip()),
		field.String("idempotency_key").MaxLen(128).Immutable().Annotations(idCollation, entgql.Skip()),
		field.String("period").MaxLen(8).Immutable().
			Comment("The quota period it counts against: YYYY-MM, YYYY, or empty when unlimited."),
		field.Enum("source").Values("CLAIM", "TIER_GIFT", "MEDAL", "PLUS", "COUPON").Immutable().Comment("How the claim came about.").
			Annotations(entgql.Type("BenefitClaimSource"), EnumDoc{Type: "How a benefit claim came about.", Values: map[string]string{
				"CLAIM":     "The member used a benefit of their tier (claimBenefit).",
				"TIER_GIFT": "Issued with the upgrade gift of a tier reached.",
				"MEDAL":     "Issued when a medal level was first reached.",
				"PLUS":      "The member used a benefit of their PLUS membership (claimBenefit).",
				"COUPON":    "The member used a campaign's coupon (claimBenefit).",
			}}),
		field.Int64("face_value_cents").NonNegative().Default(0).Immutable().
			Comment("The face value of the coupon claimed, in cents; 0 for a benefit without one. A PLUS refund subtracts the PLUS coupons used."),
		field.Time("claimed_at").Immutable().SchemaType(datetime).Comment("When it was claimed or issued."),
	}
}

func (BenefitClaim) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("program_id", "idempotency_key").Unique(),
		index.Fields("member_id", "benefit_id", "period"),
	}
}

func (BenefitClaim) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable().Annotations(entgql.Skip()),
		edge.To("benefit", Benefit.Type).Field("benefit_id").Unique().Required().Immutable().
			Comment("The catalogue entry claimed."),
	}
}

func (BenefitClaim) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (BenefitClaim) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("One use of a member's benefit, or a coupon issued by an upgrade gift or a medal level."),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// AuditEntry records who changed a programme's configuration, and from what to what.
type AuditEntry struct {
	ent.Schema
}

func (AuditEntry) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.String("actor").MaxLen(128).Immutable().Comment("Role and subject of the token that made the change."),
		field.String("action").MaxLen(64).Immutable().Comment("The mutation, e.g. updateTierTable."),
		field.Text("before").Immutable().Comment("The configuration before, as JSON."),
		field.Text("after").Immutable().Comment("The configuration after, as JSON."),
		field.Time("created_at").Immutable().SchemaType(datetime).Comment("When the change was made.").
			Annotations(entgql.OrderField("CREATED_AT")),
	}
}

func (AuditEntry) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "created_at")}
}

func (AuditEntry) Policy() ent.Policy { return rule.AdminDataPolicy() }

func (AuditEntry) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("A change to the programme's configuration: who made it, and from what to what."),
		entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

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

// PointAccount is a member's points account: the row every change of the member's points
// locks, and the cached ledger total (checked against the entries by tests).
type PointAccount struct {
	ent.Schema
}

func (PointAccount) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Unique().Immutable(),
		field.Int64("total").Default(0).Comment("Sum of the member's entries."),
		field.Int64("debt").Default(0).NonNegative().
			Comment("Points owed after a refund took back spent points; later earnings pay it first."),
	}
}

func (PointAccount) Indexes() []ent.Index {
	return []ent.Index{
		// Declared here because ent drops Unique on an edge's field.
		index.Fields("member_id").Unique(),
		// The analytics' debt outstanding: the few accounts in debt, not every account.
		index.Fields("program_id", "debt"),
	}
}

func (PointAccount) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable(),
	}
}

func (PointAccount) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (PointAccount) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// PointEntry is one append-only line of the points ledger (docs/domain.md §3).
type PointEntry struct {
	ent.Schema
}

func (PointEntry) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.Int("member_id").Immutable().Annotations(entgql.Skip()),
		field.Int64("amount").Immutable().Comment("Points added (positive) or taken (negative)."),
		field.Enum("kind").Values(
			"PURCHASE", "PLUS_BONUS", "REVIEW", "PHOTO_REVIEW", "CHECK_IN", "FIRST_MOBILE_ORDER",
			"REFUND", "ORDER_DEDUCTION", "EXCHANGE", "SPEND_REVERSAL", "EXPIRY", "ADJUSTMENT",
			"STORE_GRANT", "PARTNER_GRANT", "TIER_GIFT",
		).Immutable().Comment("What wrote the entry.").
			Annotations(entgql.Type("PointEntryKind"), EnumDoc{Type: "What wrote a ledger entry.", Values: map[string]string{
				"PURCHASE":           "Earned by an order line.",
				"PLUS_BONUS":         "The PLUS members' bonus on a purchase, funded by PLUS.",
				"REVIEW":             "Earned by a review.",
				"PHOTO_REVIEW":       "Earned by a review with photos.",
				"CHECK_IN":           "Earned by the daily sign-in.",
				"FIRST_MOBILE_ORDER": "Earned by the first order of the day from the app or a mini-program.",
				"REFUND":             "Taken back because order lines were refunded.",
				"ORDER_DEDUCTION":    "Spent at checkout.",
				"EXCHANGE":           "Spent on a catalogue item priced in points.",
				"SPEND_REVERSAL":     "A spend undone, e.g. for a cancelled order.",
				"EXPIRY":             "Points that lapsed.",
				"ADJUSTMENT":         "An operator's correction, with a reason.",
				"STORE_GRANT":        "Granted by a store from its budget.",
				"PARTNER_GRANT":      "Awarded by a partner from its budget.",
				"TIER_GIFT":          "The upgrade gift of a tier reached.",
			}}),
		field.String("funding").MaxLen(80).Immutable().
			Comment("Who funds the points: PLATFORM, PLUS, STORE:<id> or PARTNER:<key>."),
		field.String("description").MaxLen(256).Immutable().
			Comment("Why, in words a member understands."),
		field.Int("event_id").Optional().Nillable().Immutable().Annotations(entgql.Skip()),
		field.String("request_key").Optional().MaxLen(128).Immutable().Annotations(idCollation, entgql.Skip()).
			Comment("Idempotency key of the spend, reversal or adjustment that wrote it."),
		field.String("order_id").Optional().MaxLen(64).Immutable().
			Comment("The order the entry concerns; null when none."),
		field.String("sku").Optional().MaxLen(64).Immutable().
			Comment("The order line the entry concerns; null when none."),
		field.Int("reversed_entry_id").Optional().Nillable().Unique().Immutable().Annotations(entgql.Skip()).
			Comment("On a SPEND_REVERSAL: the spend it undid; unique, so a spend is undone once."),
		field.Time("created_at").Immutable().SchemaType(datetime).Comment("When the entry was written.").
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("expires_at").Optional().Nillable().Immutable().SchemaType(datetime).
			Comment("For earnings: when the points lapse."),
		field.Time("available_at").Optional().Nillable().Immutable().SchemaType(datetime).
			Comment("For earnings held pending: when they become spendable."),
	}
}

func (PointEntry) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id", "created_at"),
		index.Fields("member_id", "order_id", "sku"),
		index.Fields("program_id", "request_key"),
	}
}

func (PointEntry) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable().Annotations(entgql.Skip()),
	}
}

func (PointEntry) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (PointEntry) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("One line of a member's points ledger; the balance is the sum of the lines."),
		entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// PointLot is what is left of one earning: spending takes from the lots that expire first,
// a reversal gives back to the lots it took from, and expiry writes off what remains once
// expires_at has passed (remaining is then 0).
type PointLot struct {
	ent.Schema
}

func (PointLot) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Immutable(),
		field.String("order_id").Optional().MaxLen(64).Immutable().Comment("For order points: the order line they came from."),
		field.String("sku").Optional().MaxLen(64).Immutable(),
		field.Int64("remaining").NonNegative(),
		field.Time("expires_at").Immutable().SchemaType(datetime),
		field.Time("available_at").Immutable().SchemaType(datetime),
		field.String("funding").MaxLen(80).Default("PLATFORM").Immutable().
			Comment("Who funds the points, as on the entry that earned them: the liability by funder is the sum of what remains in each funder's lots. Lots written before the column count as PLATFORM."),
	}
}

func (PointLot) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id", "expires_at"),
		// The analytics' liability and expiring points read only this index: in funder
		// order, so the sum per funder streams without a temporary table.
		index.Fields("program_id", "funding", "expires_at", "remaining"),
	}
}

func (PointLot) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable(),
	}
}

func (PointLot) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (PointLot) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// PointAllocation records how much of a lot a spend or a refund took, so that reversing the
// spend restores the same lots with their original expiry.
type PointAllocation struct {
	ent.Schema
}

func (PointAllocation) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Immutable(),
		field.Int("entry_id").Immutable().Comment("The spending entry."),
		field.Int("lot_id").Immutable(),
		field.Int64("amount").Positive().Immutable(),
	}
}

func (PointAllocation) Indexes() []ent.Index {
	return []ent.Index{index.Fields("entry_id")}
}

func (PointAllocation) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable(),
	}
}

func (PointAllocation) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (PointAllocation) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// PointRequest makes spends, reversals, adjustments and grants from budgets idempotent: the
// first outcome of a key, an entry written or a refusal, is kept and returned to every replay
// with the same body.
type PointRequest struct {
	ent.Schema
}

func (PointRequest) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("member_id").Immutable(),
		field.String("key").NotEmpty().MaxLen(128).Immutable().Annotations(idCollation),
		field.String("body_hash").MaxLen(64).Immutable(),
		field.Int("entry_id").Optional().Immutable().Comment("The entry the request wrote; none when it was refused."),
		// A refused request keeps its answer under the key (the first outcome is the outcome):
		// a retry with the same body answers it again, another body is a CONFLICT.
		field.String("refusal_code").Optional().MaxLen(32).Immutable().Comment("The userError code of a refusal; empty when the request was carried out."),
		field.String("refusal_field").Optional().MaxLen(128).Immutable().Comment("The input field the refusal named, dotted."),
		field.String("refusal_message").Optional().MaxLen(1024).Immutable(),
		field.Time("created_at").Immutable().SchemaType(datetime),
	}
}

func (PointRequest) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "key").Unique()}
}

func (PointRequest) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique().Required().Immutable(),
	}
}

func (PointRequest) Policy() ent.Policy { return rule.MemberDataPolicy() }

func (PointRequest) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// StoreBudget is the points a store has bought to grant to members (docs/domain.md §3
// "Store-funded"): it grants from it until it is empty, never beyond.
type StoreBudget struct {
	ent.Schema
}

func (StoreBudget) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable().Annotations(entgql.Skip()),
		field.String("store_id").NotEmpty().MaxLen(64).Immutable().Comment("The store's id.").
			Annotations(entgql.MapsTo("storeId")).Annotations(idCollation),
		field.Int64("funded").Default(0).NonNegative().Comment("Points bought: the sum of the store's fundings."),
		field.Int64("granted").Default(0).NonNegative().Comment("Points granted: the sum of its STORE:<id> ledger entries."),
	}
}

func (StoreBudget) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "store_id").Unique()}
}

func (StoreBudget) Policy() ent.Policy { return rule.StorePolicy() }

func (StoreBudget) Annotations() []schema.Annotation {
	return []schema.Annotation{
		schema.Comment("The points a store has bought to grant to members."),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// StoreFunding is one purchase of points by a store: the audit trail of its budget, and
// what makes a funding request idempotent.
type StoreFunding struct {
	ent.Schema
}

func (StoreFunding) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.String("store_id").NotEmpty().MaxLen(64).Immutable().Annotations(idCollation),
		field.Int64("points").Positive().Immutable(),
		field.String("reason").MaxLen(200).Immutable(),
		field.String("key").NotEmpty().MaxLen(128).Immutable().Annotations(idCollation),
		field.String("body_hash").MaxLen(64).Immutable(),
		field.String("actor").MaxLen(64).Immutable().Comment("Who recorded it."),
		field.Time("created_at").Immutable().SchemaType(datetime),
	}
}

func (StoreFunding) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "key").Unique(), index.Fields("program_id", "store_id")}
}

func (StoreFunding) Policy() ent.Policy { return rule.StorePolicy() }

func (StoreFunding) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

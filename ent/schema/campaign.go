package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/membergraph/membergraph/ent/schema/rule"
)

// Campaign is a targeted campaign (定向, docs/domain.md §8): a trigger, a segment as its
// audience, one action per member hit, a frequency cap and a budget cap. Its trigger and
// action are flat columns rather than JSON so that the database keeps their types.
type Campaign struct {
	ent.Schema
}

func (Campaign) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.String("key").NotEmpty().MaxLen(48).Immutable().Annotations(idCollation).
			Comment("Unique per programme; names the campaign in the API and in ledger keys."),
		field.String("name").NotEmpty().MaxLen(100),
		field.Enum("trigger_kind").Values("ONCE", "DAILY", "WEEKLY", "MONTHLY", "EVENT").Immutable().
			Comment("When it runs: a schedule in the programme's zone, or after an event's commit."),
		field.Time("once_at").Optional().Nillable().Immutable().SchemaType(datetime).
			Comment("ONCE: the instant it runs at."),
		field.Int("minute_of_day").Default(0).Immutable().
			Comment("DAILY, WEEKLY, MONTHLY: the local time of day it runs at, in minutes after midnight."),
		field.Int("weekday").Default(0).Immutable().
			Comment("WEEKLY: 1 (Monday) to 7 (Sunday)."),
		field.Int("month_day").Default(0).Immutable().
			Comment("MONTHLY: 1 to 28, so that every month has the day."),
		field.String("event_kind").Default("").MaxLen(32).Immutable().
			Comment("EVENT: an event kind, TIER_CHANGE, PLUS_START, PLUS_END or MEDAL_LEVEL."),
		field.String("event_tier").Default("").MaxLen(64).Immutable().
			Comment("TIER_CHANGE: the key of the tier moved to; empty for any tier change."),
		field.String("event_medal").Default("").MaxLen(64).Immutable().
			Comment("MEDAL_LEVEL: the medal's key."),
		field.Int("event_level").Default(0).NonNegative().Immutable().
			Comment("MEDAL_LEVEL: the level (1-5) whose reaching triggers it."),
		field.Int("event_after").Default(0).Immutable().
			Comment("EVENT: the newest id of its trigger's source (events or outbox) at creation: only later ones trigger it."),
		field.Int("segment_id").Immutable().Comment("The audience: a saved segment."),
		field.Enum("action").Values("GRANT_POINTS", "ISSUE_COUPON", "NOTIFY").Immutable(),
		field.Int64("points").Default(0).Immutable().Comment("GRANT_POINTS: points per member hit."),
		field.String("funding").Default("").MaxLen(80).Immutable().
			Comment("GRANT_POINTS: the budget, PLATFORM or STORE:<store id>."),
		field.String("budget_owner").Default("").MaxLen(80).Immutable().
			Comment("The store budget row drawn on: the store's key or its union's UNION:<key>; empty for PLATFORM."),
		field.Int("store_program_id").Optional().Nillable().Immutable().
			Comment("A store budget's programme, whose consenting members alone are granted."),
		field.String("benefit_key").Default("").MaxLen(64).Immutable().
			Comment("ISSUE_COUPON: the catalogue benefit each coupon is for."),
		field.Int("valid_days").Default(0).NonNegative().Immutable().
			Comment("ISSUE_COUPON: how many days a coupon can be used after its issue."),
		field.String("partner_key").Default("").MaxLen(64).Immutable(),
		field.String("message").Default("").MaxLen(500).Immutable(),
		field.Int("cap_hits").Default(0).NonNegative().Immutable().
			Comment("Frequency cap: at most this many hits per member per cap_days; 0 = no cap."),
		field.Int("cap_days").Default(0).NonNegative().Immutable(),
		field.Int64("budget_points").Default(0).NonNegative().Immutable().
			Comment("Budget cap: the points all its runs may grant together; 0 = none (not for PLATFORM)."),
		field.Int64("spent_points").Default(0).NonNegative().
			Comment("Points granted so far; kept under the campaign row's lock, never above budget_points."),
		field.Enum("status").Values("ACTIVE", "PAUSED").Default("ACTIVE"),
		field.String("created_by").MaxLen(128).Immutable(),
		field.Time("created_at").Immutable().SchemaType(datetime),
	}
}

func (Campaign) Indexes() []ent.Index {
	return []ent.Index{index.Fields("program_id", "key").Unique()}
}

func (Campaign) Policy() ent.Policy { return rule.AdminDataPolicy() }

func (Campaign) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// CampaignRun is one run of a campaign: a scheduled date or a triggering event. Its run key
// is unique per campaign, so a schedule fires once per date however many replicas try.
type CampaignRun struct {
	ent.Schema
}

func (CampaignRun) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("campaign_id").Immutable(),
		field.String("run_key").NotEmpty().MaxLen(64).Immutable().Annotations(idCollation).
			Comment("The scheduled local date (2006-01-02), ONCE, or the triggering event: <kind>:<event, outbox message or PLUS term id>."),
		field.Int("only_member_id").Optional().Nillable().Immutable().
			Comment("An event run's member: the run hits that member only, if in the segment."),
		field.Time("started_at").Immutable().SchemaType(datetime),
		field.Time("finished_at").Optional().Nillable().SchemaType(datetime),
		field.Int("after_member_id").Default(0).
			Comment("The last member whose result is committed: a resumed run pages on from here."),
		field.Int("done").Default(0),
		field.Int("skipped").Default(0),
		field.Int("failed").Default(0),
		field.Int64("points").Default(0).Comment("Points the run granted."),
	}
}

func (CampaignRun) Indexes() []ent.Index {
	return []ent.Index{index.Fields("campaign_id", "run_key").Unique()}
}

func (CampaignRun) Policy() ent.Policy { return rule.AdminDataPolicy() }

func (CampaignRun) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// CampaignResult is what one run did for one member. The unique (run, member) index is
// what makes each (campaign, run, member) happen exactly once: the result and the action's
// effect commit together, and a second writer's insert fails and rolls its effect back.
type CampaignResult struct {
	ent.Schema
}

func (CampaignResult) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Immutable(),
		field.Int("campaign_id").Immutable(),
		field.Int("run_id").Immutable(),
		field.Int("member_id").Immutable(),
		// PENDING: a NOTIFY result recorded (the claim) whose partner call has not answered
		// yet; it turns DONE or FAILED once, so only status and reason change.
		field.Enum("status").Values("DONE", "SKIPPED", "FAILED", "PENDING"),
		field.String("reason").Default("").MaxLen(200).Comment("Why SKIPPED or FAILED."),
		field.Int64("points").Default(0).Immutable(),
		field.Time("created_at").Immutable().SchemaType(datetime),
	}
}

func (CampaignResult) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("run_id", "member_id").Unique(),
		index.Fields("campaign_id", "member_id", "created_at"), // the frequency cap's count
	}
}

func (CampaignResult) Policy() ent.Policy { return rule.AdminDataPolicy() }

func (CampaignResult) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// CampaignCursor is where the event triggers' consumer (internal/campaign) has read one
// source up to (the events table or the outbox), and which replica holds the lease to read
// on: triggers are evaluated from the committed rows, after their commit, so a crash between
// an event's commit and its campaigns loses nothing. One row per source, the platform's
// (program_id 0): the sources are read by id across programmes.
type CampaignCursor struct {
	ent.Schema
}

func (CampaignCursor) Fields() []ent.Field {
	return []ent.Field{
		field.Int("program_id").Default(0).Immutable().Comment("0: the platform's, across programmes."),
		field.String("source").NotEmpty().MaxLen(16).Immutable().Annotations(idCollation).
			Comment("events or outbox."),
		field.Int("position").Default(0).
			Comment("Every row of the source with an id up to this one has been evaluated (or given up as rolled back)."),
		field.String("lease_owner").Default("").MaxLen(80),
		field.Time("lease_until").Optional().Nillable().SchemaType(datetime).
			Comment("Wall time: until then only lease_owner reads on."),
	}
}

func (CampaignCursor) Indexes() []ent.Index {
	return []ent.Index{index.Fields("source").Unique()}
}

func (CampaignCursor) Policy() ent.Policy { return rule.AdminDataPolicy() }

func (CampaignCursor) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

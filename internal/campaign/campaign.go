// Package campaign is targeted campaigns (定向, docs/domain.md §8): a trigger (a schedule in
// the programme's zone), a segment as the audience, an action per member hit, a frequency
// cap and a budget cap. A run claims its run key once (unique per campaign), pages the
// segment's members in ascending id, and commits each chunk's results together with the
// action's effect: the unique (run, member) result is what makes every member of a run
// happen exactly once across crashes, reruns and replicas.
package campaign

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/membergraph/membergraph/ent"
	entcampaign "github.com/membergraph/membergraph/ent/campaign"
	"github.com/membergraph/membergraph/ent/campaignresult"
	"github.com/membergraph/membergraph/ent/campaignrun"
	"github.com/membergraph/membergraph/ent/medal"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/segment"
	entstore "github.com/membergraph/membergraph/ent/store"
	"github.com/membergraph/membergraph/ent/storeprogram"
	"github.com/membergraph/membergraph/ent/tier"
	"github.com/membergraph/membergraph/internal/amount"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/ident"
	medalpkg "github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/storeprog"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Audience is what a campaign needs of segments (internal/segment): a segment's members
// in ascending id, a page at a time, and its count.
type Audience interface {
	MemberIDs(ctx context.Context, segmentID int, afterMemberID int, limit int) ([]int, error)
	Count(ctx context.Context, segmentID int) (int, error)
}

// SegmentResolver finds a segment's id by its key; NOT_FOUND at field when there is none.
type SegmentResolver func(ctx context.Context, key, field string) (int, error)

// Config tunes a Service; zero fields take the defaults.
type Config struct {
	// Chunk is how many members one transaction hits (default 500): large enough that a
	// 100,000-member run is 200 commits, small enough that a chunk's locks are brief.
	Chunk int
	// ScheduleInterval is how often serve looks for due schedules (default 1 minute).
	ScheduleInterval time.Duration
	// Trigger tunes the EVENT campaigns' consumer (trigger.go).
	Trigger TriggerConfig
}

func (c *Config) withDefaults() {
	if c.Chunk <= 0 {
		c.Chunk = 500
	}
	if c.ScheduleInterval <= 0 {
		c.ScheduleInterval = time.Minute
	}
	c.Trigger.withDefaults()
}

// Platform names the platform's own budget: its grants are bounded by the campaign's
// budget cap, which it must therefore have.
const Platform = "PLATFORM"

// Errors.
var (
	// ErrPaused ends a run whose campaign was paused between chunks; resuming continues it.
	ErrPaused = errors.New("campaign paused")
)

// Service creates, runs and reports campaigns.
type Service struct {
	client   *ent.Client
	ledger   *points.Ledger
	audience Audience
	segment  SegmentResolver
	cfg      Config
	notifier Notifier // nil: no partner sends, so NOTIFY is refused
	trig     triggerState
}

// NewService returns a Service over audience, resolving segment keys with segment.
func NewService(client *ent.Client, ledger *points.Ledger, audience Audience, segment SegmentResolver, cfg Config) *Service {
	cfg.withDefaults()
	return &Service{client: client, ledger: ledger, audience: audience, segment: segment, cfg: cfg,
		trig: triggerState{readers: map[string]*reader{}}}
}

// Trigger is when a campaign runs.
type Trigger struct {
	Kind      entcampaign.TriggerKind
	At        *time.Time // ONCE
	TimeOfDay string     // DAILY, WEEKLY, MONTHLY: HH:MM in the programme's zone
	Weekday   int        // WEEKLY: 1 (Monday) to 7 (Sunday)
	MonthDay  int        // MONTHLY: 1 to 28
	Event     string     // EVENT: an event kind (ORDER_COMPLETED, …) or one of the Event constants
	Tier      string     // EVENT TIER_CHANGE: the tier moved to; empty for any
	Medal     string     // EVENT MEDAL_LEVEL: the medal's key
	Level     int        // EVENT MEDAL_LEVEL: the level reached, 1 to medalpkg.Levels
}

// The events an EVENT campaign runs after besides the event kinds recordEvents accepts,
// each its own run for the member concerned.
const (
	EventPlusStart  = "PLUS_START"
	EventPlusEnd    = "PLUS_END"
	EventTierChange = "TIER_CHANGE" // settlement moved the member to another tier
	EventMedalLevel = "MEDAL_LEVEL" // a medal of the member reached a level
)

// Action is what a campaign does for each member hit.
type Action struct {
	Kind   entcampaign.Action
	Points int64  // GRANT_POINTS: per member, 1..amount.MaxPoints
	Budget string // GRANT_POINTS: PLATFORM or STORE:<store id>
	// ISSUE_COUPON: the catalogue benefit each coupon is for, and its days of validity.
	BenefitKey string
	ValidDays  int
	// NOTIFY: the partner plugin that sends, one that offers Notify, and its template.
	Partner, Template string
}

// Spec is a new campaign.
type Spec struct {
	Key, Name    string
	Trigger      Trigger
	Segment      string // the segment's key
	Action       Action
	CapHits      int // at most CapHits hits per member within CapDays; 0 for none
	CapDays      int
	BudgetPoints int64 // the points all runs may grant; 0 for none (not for PLATFORM)
}

var timeOfDay = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)

// Bounds of a campaign's numbers.
const (
	MaxCapHits = 1000
	MaxCapDays = 366
	// MaxTemplate is a NOTIFY template's length in characters (the message column's 500
	// bytes hold 125 four-byte characters at worst, so it is bounded in bytes too).
	MaxTemplate = 125
)

// validate checks s alone, field by field; what needs the database (the segment, the
// store) is checked by Create.
func validate(s Spec) (minute int, errs usererr.List) {
	if !ident.Valid(ident.Ref, s.Key) || len(s.Key) > 48 {
		errs.Add(usererr.InvalidArgument, "input.key", "key must be 1–48 letters, digits or - _ . : @ /")
	}
	if n := len([]rune(strings.TrimSpace(s.Name))); n < 1 || n > 100 || len(s.Name) > 400 {
		errs.Add(usererr.InvalidArgument, "input.name", "a name of 1–100 characters is required")
	}
	t := s.Trigger
	switch t.Kind {
	case entcampaign.TriggerKindONCE:
		if t.At == nil {
			errs.Add(usererr.InvalidArgument, "input.trigger.at", "a ONCE campaign needs at")
		}
	case entcampaign.TriggerKindDAILY, entcampaign.TriggerKindWEEKLY, entcampaign.TriggerKindMONTHLY:
		m := timeOfDay.FindStringSubmatch(t.TimeOfDay)
		if m == nil {
			errs.Add(usererr.InvalidArgument, "input.trigger.timeOfDay", "timeOfDay must be HH:MM, 00:00 to 23:59, got %q", t.TimeOfDay)
		} else {
			minute = int(m[1][0]-'0')*600 + int(m[1][1]-'0')*60 + int(m[2][0]-'0')*10 + int(m[2][1]-'0')
		}
		if t.Kind == entcampaign.TriggerKindWEEKLY && (t.Weekday < 1 || t.Weekday > 7) {
			errs.Add(usererr.InvalidArgument, "input.trigger.weekday", "weekday must be 1 (Monday) to 7 (Sunday)")
		}
		if t.Kind == entcampaign.TriggerKindMONTHLY && (t.MonthDay < 1 || t.MonthDay > 28) {
			errs.Add(usererr.InvalidArgument, "input.trigger.monthDay", "monthDay must be 1 to 28, a day every month has")
		}
	case entcampaign.TriggerKindEVENT:
		validateEvent(t, &errs)
	default:
		errs.Add(usererr.InvalidArgument, "input.trigger.kind", "unknown trigger %q", t.Kind)
	}
	if t.Kind != entcampaign.TriggerKindEVENT {
		for field, set := range map[string]bool{"input.trigger.tier": t.Tier != "", "input.trigger.medal": t.Medal != "", "input.trigger.level": t.Level != 0} {
			if set {
				errs.Add(usererr.InvalidArgument, field, "%s is for EVENT campaigns only", strings.TrimPrefix(field, "input.trigger."))
			}
		}
	}
	if s.Segment == "" {
		errs.Add(usererr.InvalidArgument, "input.segment", "segment (a segment's key) is required")
	}
	switch s.Action.Kind {
	case entcampaign.ActionGRANT_POINTS:
		amount.CheckPoints(&errs, "input.action.points", s.Action.Points, 1)
		switch b := s.Action.Budget; {
		case b == Platform:
			if s.BudgetPoints == 0 {
				errs.Add(usererr.InvalidArgument, "input.budgetPoints", "a campaign granting from the PLATFORM budget needs a budget cap")
			}
		case strings.HasPrefix(b, "STORE:") && ident.Valid(ident.Ref, strings.TrimPrefix(b, "STORE:")):
		default:
			errs.Add(usererr.InvalidArgument, "input.action.budget", "budget must be PLATFORM or STORE:<store id>, got %q", b)
		}
	case entcampaign.ActionNOTIFY:
		if !ident.Valid(ident.Ref, s.Action.Partner) || len(s.Action.Partner) > 64 {
			errs.Add(usererr.InvalidArgument, "input.action.partner", "a NOTIFY campaign needs partner, a partner plugin's key")
		}
		if n := len([]rune(s.Action.Template)); n < 1 || n > MaxTemplate || strings.TrimSpace(s.Action.Template) == "" {
			errs.Add(usererr.InvalidArgument, "input.action.template", "a NOTIFY campaign needs a template of 1–%d characters", MaxTemplate)
		}
	case entcampaign.ActionISSUE_COUPON:
		validateCoupon(s.Action, &errs)
	default:
		errs.Add(usererr.InvalidArgument, "input.action.kind", "unknown action %q", s.Action.Kind)
	}
	if s.CapHits < 0 || s.CapHits > MaxCapHits {
		errs.Add(usererr.InvalidArgument, "input.frequencyCap.hits", "hits must be 1 to %d", MaxCapHits)
	}
	if s.CapHits > 0 && (s.CapDays < 1 || s.CapDays > MaxCapDays) {
		errs.Add(usererr.InvalidArgument, "input.frequencyCap.days", "days must be 1 to %d", MaxCapDays)
	}
	if s.BudgetPoints < 0 || s.BudgetPoints > amount.MaxBalance {
		errs.Add(usererr.InvalidArgument, "input.budgetPoints", "budgetPoints must be 0 (none) to %d", amount.MaxBalance)
	}
	return minute, errs
}

const eventChoices = "an event kind (e.g. ORDER_COMPLETED, REVIEW_POSTED), TIER_CHANGE, MEDAL_LEVEL, PLUS_START or PLUS_END"

// validateEvent checks an EVENT trigger: a known event and the details its kind needs,
// and none that another kind takes.
func validateEvent(t Trigger, errs *usererr.List) {
	switch {
	case t.Event == "":
		errs.Add(usererr.InvalidArgument, "input.trigger.event", "an EVENT campaign needs event: %s", eventChoices)
		return
	case t.Event == EventPlusStart, t.Event == EventPlusEnd, t.Event == EventTierChange, t.Event == EventMedalLevel, isEventKind(t.Event):
	default:
		errs.Add(usererr.InvalidArgument, "input.trigger.event", "unknown event %q; use %s", t.Event, eventChoices)
		return
	}
	if t.Event == EventMedalLevel {
		if t.Medal == "" {
			errs.Add(usererr.InvalidArgument, "input.trigger.medal", "a MEDAL_LEVEL campaign needs medal, a medal's key (e.g. PHONES)")
		}
		if t.Level < 1 || t.Level > medalpkg.Levels {
			errs.Add(usererr.InvalidArgument, "input.trigger.level", "a MEDAL_LEVEL campaign needs level, 1 to %d", medalpkg.Levels)
		}
	} else {
		if t.Medal != "" {
			errs.Add(usererr.InvalidArgument, "input.trigger.medal", "medal is for MEDAL_LEVEL only, not %s", t.Event)
		}
		if t.Level != 0 {
			errs.Add(usererr.InvalidArgument, "input.trigger.level", "level is for MEDAL_LEVEL only, not %s", t.Event)
		}
	}
	if t.Tier != "" && t.Event != EventTierChange {
		errs.Add(usererr.InvalidArgument, "input.trigger.tier", "tier is for TIER_CHANGE only, not %s", t.Event)
	}
}

// Create saves a new campaign, ACTIVE. The key is unique in the programme (ALREADY_EXISTS).
func (s *Service) Create(ctx context.Context, spec Spec) (*ent.Campaign, error) {
	minute, errs := validate(spec)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	v, _ := auth.FromContext(ctx)
	sys := auth.SystemContext(ctx, v.ProgramID)
	segID, err := s.segment(sys, spec.Segment, "input.segment")
	if err != nil {
		return nil, err
	}
	if spec.Action.Kind == entcampaign.ActionNOTIFY {
		if err := s.checkNotifier(spec.Action.Partner); err != nil {
			return nil, err
		}
	}
	after := 0
	if spec.Trigger.Kind == entcampaign.TriggerKindEVENT {
		if after, err = s.eventStart(sys, v.ProgramID, spec.Trigger); err != nil {
			return nil, err
		}
	}
	if spec.Action.Kind == entcampaign.ActionISSUE_COUPON {
		if _, err := s.couponBenefit(sys, spec.Action.BenefitKey, "input.action.benefitKey"); err != nil {
			return nil, err
		}
	}
	owner, spID := "", (*int)(nil)
	if store, ok := strings.CutPrefix(spec.Action.Budget, "STORE:"); ok {
		st, err := s.client.Store.Query().Where(entstore.Key(store)).WithStoreProgram().Only(sys)
		if ent.IsNotFound(err) || err == nil && st.Edges.StoreProgram == nil {
			return nil, usererr.New(usererr.NotFound, "input.action.budget", "no store %q in a store programme (its consenting members are whom it grants to)", store)
		} else if err != nil {
			return nil, err
		}
		p := st.Edges.StoreProgram
		owner, spID = st.Key, &p.ID
		if p.Kind == storeprogram.KindUNION {
			owner = storeprog.UnionPrefix + p.Key
		}
	}
	q := s.client.Campaign.Create().SetProgramID(v.ProgramID).SetKey(spec.Key).SetName(strings.TrimSpace(spec.Name)).
		SetTriggerKind(spec.Trigger.Kind).SetNillableOnceAt(spec.Trigger.At).SetMinuteOfDay(minute).
		SetWeekday(spec.Trigger.Weekday).SetMonthDay(spec.Trigger.MonthDay).SetSegmentID(segID).SetEventKind(spec.Trigger.Event).
		SetAction(spec.Action.Kind).SetPoints(spec.Action.Points).SetFunding(spec.Action.Budget).
		SetBudgetOwner(owner).SetNillableStoreProgramID(spID).SetCapHits(spec.CapHits).SetCapDays(spec.CapDays).
		SetBudgetPoints(spec.BudgetPoints).SetPartnerKey(spec.Action.Partner).SetMessage(spec.Action.Template).SetCreatedBy(actor(v)).SetCreatedAt(s.ledger.Clock().Now())
	if spec.Trigger.Kind != entcampaign.TriggerKindWEEKLY {
		q.SetWeekday(0)
	}
	if spec.Action.Kind == entcampaign.ActionISSUE_COUPON {
		q.SetBenefitKey(spec.Action.BenefitKey).SetValidDays(spec.Action.ValidDays)
	}
	if spec.Trigger.Kind != entcampaign.TriggerKindMONTHLY {
		q.SetMonthDay(0)
	}
	if spec.Trigger.Kind != entcampaign.TriggerKindEVENT {
		q.SetEventKind("")
	} else {
		q.SetEventTier(spec.Trigger.Tier).SetEventMedal(spec.Trigger.Medal).SetEventLevel(spec.Trigger.Level).SetEventAfter(after)
	}
	c, err := q.Save(sys)
	if ent.IsConstraintError(err) {
		return nil, usererr.New(usererr.AlreadyExists, "input.key", "a campaign %q exists", spec.Key)
	}
	return c, err
}

// eventStart checks what an EVENT trigger names (the tier, the medal) and returns the
// newest row of its source: the campaign is triggered by the rows after it, those committed
// from its creation on, never by history. It makes sure the source's cursor exists from
// now on, so that the consumer, however late it first runs, reads from here.
func (s *Service) eventStart(ctx context.Context, programID int, t Trigger) (int, error) {
	if t.Tier != "" {
		ok, err := s.client.Tier.Query().Where(tier.ProgramID(programID), tier.Key(t.Tier)).Exist(ctx)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, usererr.New(usererr.NotFound, "input.trigger.tier", "no tier %q in the programme", t.Tier)
		}
	}
	if t.Medal != "" {
		ok, err := s.client.Medal.Query().Where(medal.ProgramID(programID), medal.Key(t.Medal)).Exist(ctx)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, usererr.New(usererr.NotFound, "input.trigger.medal", "no medal %q in the programme", t.Medal)
		}
	}
	src := sourceOf(t.Event)
	if err := s.ensureCursor(ctx, src); err != nil {
		return 0, err
	}
	return s.newest(ctx, src)
}

func actor(v auth.Viewer) string {
	if v.Subject != "" {
		return string(v.Role) + ":" + v.Subject
	}
	return string(v.Role)
}

// Get returns the campaign of key; NOT_FOUND at field when there is none.
func (s *Service) Get(ctx context.Context, key, field string) (*ent.Campaign, error) {
	c, err := s.client.Campaign.Query().Where(entcampaign.Key(key)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, usererr.New(usererr.NotFound, field, "no campaign %q", key)
	}
	return c, err
}

// List is the programme's campaigns by key.
func (s *Service) List(ctx context.Context) ([]*ent.Campaign, error) {
	return s.client.Campaign.Query().Order(ent.Asc(entcampaign.FieldKey)).All(ctx)
}

// SetStatus pauses or resumes a campaign. A pause takes effect between chunks: a run in
// flight stops before its next chunk and continues, on resume, where it stopped.
func (s *Service) SetStatus(ctx context.Context, key string, status entcampaign.Status) (*ent.Campaign, error) {
	c, err := s.Get(ctx, key, "input.key")
	if err != nil {
		return nil, err
	}
	return c.Update().SetStatus(status).Save(ctx)
}

// Runs are a page of c's runs, newest first.
func (s *Service) Runs(ctx context.Context, c *ent.Campaign, first, after int) ([]*ent.CampaignRun, bool, error) {
	q := s.client.CampaignRun.Query().Where(campaignrun.CampaignID(c.ID))
	if after > 0 {
		q.Where(campaignrun.IDLT(after))
	}
	rows, err := q.Order(ent.Desc(campaignrun.FieldID)).Limit(first + 1).All(ctx)
	if err != nil {
		return nil, false, err
	}
	more := len(rows) > first
	return rows[:min(len(rows), first)], more, nil
}

// Results are a page of a run's results by member id.
func (s *Service) Results(ctx context.Context, run *ent.CampaignRun, first, after int) ([]*ent.CampaignResult, bool, error) {
	q := s.client.CampaignResult.Query().Where(campaignresult.RunID(run.ID))
	if after > 0 {
		q.Where(campaignresult.MemberIDGT(after))
	}
	rows, err := q.Order(ent.Asc(campaignresult.FieldMemberID)).Limit(first + 1).All(ctx)
	if err != nil {
		return nil, false, err
	}
	more := len(rows) > first
	return rows[:min(len(rows), first)], more, nil
}

// Cost is a dry run's answer: how many members a run now would hit, and what it would grant.
type Cost struct {
	Members int
	Skipped int
	Points  int64
	Cents   int64 // the points' worth in ¥ cents
	// ISSUE_COUPON: the coupons it would issue and their face value together, in cents.
	Coupons     int
	CouponCents int64
}

func (c Cost) String() string {
	return fmt.Sprintf("%d members, %d skipped, %d points (¥%d.%02d)", c.Members, c.Skipped, c.Points, c.Cents/100, c.Cents%100)
}

// DryRunKey is DryRun of the campaign of key.
func (s *Service) DryRunKey(ctx context.Context, key string) (Cost, error) {
	c, err := s.Get(ctx, key, "input.key")
	if err != nil {
		return Cost{}, err
	}
	return s.DryRun(auth.SystemContext(ctx, c.ProgramID), c)
}

// SegmentKey is the key of the segment of id, for showing a campaign's audience.
func (s *Service) SegmentKey(ctx context.Context, id int) (string, error) {
	v, _ := auth.FromContext(ctx)
	sg, err := s.client.Segment.Query().Where(segment.ID(id)).Only(auth.SystemContext(ctx, v.ProgramID))
	if err != nil {
		return "", err
	}
	return sg.Key, nil
}

// ExternalID is the externalId of the member of id, for showing a result.
func (s *Service) ExternalID(ctx context.Context, memberID int) (string, error) {
	v, _ := auth.FromContext(ctx)
	return s.client.Member.Query().Where(member.ID(memberID)).Select(member.FieldExternalID).String(auth.SystemContext(ctx, v.ProgramID))
}

// SegmentsByKey resolves segment keys through the Segment rows (internal/segment's).
func SegmentsByKey(client *ent.Client) SegmentResolver {
	return func(ctx context.Context, key, field string) (int, error) {
		id, err := client.Segment.Query().Where(segment.Key(key)).OnlyID(ctx)
		if ent.IsNotFound(err) {
			return 0, usererr.New(usererr.NotFound, field, "no segment %q", key)
		}
		return id, err
	}
}

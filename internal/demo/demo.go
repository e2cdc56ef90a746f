// Package demo loads a playground's worth of members: a few hundred members with twelve
// months of orders, refunds, reviews, check-ins, logins, account and risk signals, sent
// through the real event path (internal/events, what recordEvents calls) and then settled,
// so that tiers of every level, scores, medals, points with their expiry and a debt are
// there to explore. It is deterministic: the same seed in the same month makes the same
// events under the same idempotency keys, so loading twice changes nothing.
package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/membergraph/membergraph/ent"
	entmember "github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/score"
	"github.com/membergraph/membergraph/internal/score/formula"
	"github.com/membergraph/membergraph/internal/tier"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Prefix starts the externalId of every demo member.
const Prefix = "demo-"

// ShowcaseMember is the demo member the README's member examples use: a settled Gold
// member with medals, points of which some expire at the end of this year, and a refund.
const ShowcaseMember = "demo-0001"

// DebtorMember is the demo member whose refund came after the points were spent, so its
// balance is a debt.
const DebtorMember = "demo-0002"

// MaxMembers bounds a demo: it is a playground, not a load test (membergraph bench loads
// those, bypassing the event path).
const MaxMembers = 9999

var (
	// ErrConfig: the configuration cannot make a demo.
	ErrConfig = errors.New("demo configuration")
	// ErrOtherDemo: demo members exist already but were loaded with another seed or in
	// another month, so this demo's events would contradict theirs.
	ErrOtherDemo = errors.New("the database holds demo members of another seed or month")
	// ErrRejected: the event path refused a demo event or spend; the demo and the
	// programme's rules disagree.
	ErrRejected = errors.New("demo data refused")
)

// Config says which demo to load. Zero fields take the defaults.
type Config struct {
	// Members is how many members to load, demo-0001 on (default 300, at most MaxMembers).
	// The first two are the scripted ShowcaseMember and DebtorMember; the others are drawn.
	Members int
	// Seed picks the drawn members (default 1). The same seed in the same month gives the
	// same demo; a different seed gives other members, who cannot join a loaded demo.
	Seed uint64
}

func (c Config) withDefaults() Config {
	if c.Members == 0 {
		c.Members = 300
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	return c
}

// Check reports a configuration that cannot make a demo.
func (c Config) Check() error {
	if c.Members < 0 || c.Members > MaxMembers {
		return fmt.Errorf("%w: members must be 1–%d, got %d", ErrConfig, MaxMembers, c.Members)
	}
	return nil
}

// Services are the real services the demo goes through, as the server wires them.
type Services struct {
	Members *member.Service
	Events  *events.Service
	Ledger  *points.Ledger // its clock is the demo's now
	Scores  *score.Service
	// Plus grants the demo's PLUS terms; nil loads none.
	Plus *plus.Service
}

// Summary is what a load did and what the demo members hold afterwards.
type Summary struct {
	Config     Config
	Period     formula.Month // the settlement period; the history is the 12 months before it
	Members    int           // demo members
	Registered int           // of them registered by this load
	Events     int           // demo events sent
	Accepted   int           // of them stored now; the others were stored before (DUPLICATE)
	Spends     int           // spends of the demo
	Spent      int           // of them taken now; the others were taken before
	Settlement *ent.Settlement
	Gifts      int // upgrade gifts delivered by this load
	PlusTerms  int // PLUS terms granted by this load
	Tiers      []TierCount
	Elapsed    time.Duration
}

// TierCount is how many demo members a tier holds.
type TierCount struct {
	Key, Name string
	Level     int
	Members   int
}

// Load loads the demo of cfg into the programme: members first, then their history, the
// spends and the refunds after them, each in the order the event path needs; then it
// settles the latest period (the one the history ends before) and delivers the upgrade
// gifts. A second load of the same demo answers DUPLICATE for every event, replays every
// spend and writes nothing.
func Load(ctx context.Context, client *ent.Client, svc Services, programID int, cfg Config) (Summary, error) {
	began := time.Now()
	if err := cfg.Check(); err != nil {
		return Summary{}, err
	}
	cfg = cfg.withDefaults()
	out := Summary{Config: cfg}
	sys := auth.SystemContext(ctx, programID)
	prog, err := client.Program.Get(sys, programID)
	if err != nil {
		return out, err
	}
	loc, err := points.Location(prog.TimeZone)
	if err != nil {
		return out, err
	}
	plan := NewPlan(cfg, prog.Rules, loc, svc.Ledger.Clock().Now())
	out.Period, out.Members = plan.Month, len(plan.Members)
	// The commerce back end sends all of this; the demo acts as it, with its role.
	as := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleService, Subject: "demo", ProgramID: programID})

	if out.Registered, err = register(as, client, svc.Members, plan); err != nil {
		return out, err
	}
	if svc.Plus != nil {
		if out.PlusTerms, err = grantPlus(as, svc.Plus, prog, plan); err != nil {
			return out, err
		}
	}
	// Members go side by side within a batch (the events service applies different
	// members' events at once where the database allows); a member's events stay in order
	// because batches go one after another.
	var history, late [][]events.Input
	for _, m := range plan.Members {
		history = append(history, m.History)
		late = append(late, m.Late)
	}
	if err := send(as, svc.Events, history, &out); err != nil {
		return out, err
	}
	for _, m := range plan.Members {
		for _, s := range m.Spends {
			res, err := svc.Ledger.Spend(as, s)
			if err != nil {
				return out, refused(s.IdempotencyKey, err)
			}
			out.Spends++
			if !res.Replayed {
				out.Spent++
			}
		}
	}
	if err := send(as, svc.Events, late, &out); err != nil {
		return out, err
	}

	if out.Settlement, err = svc.Scores.Settle(ctx, programID, plan.Month); err != nil {
		return out, fmt.Errorf("settling %s: %w", plan.Month, err)
	}
	if out.Gifts, err = svc.Scores.DeliverGifts(ctx, programID); err != nil {
		return out, err
	}
	if out.Tiers, err = tierCounts(sys, client); err != nil {
		return out, err
	}
	out.Elapsed = time.Since(began)
	return out, nil
}

// grantPlus grants the plan's PLUS terms not granted yet: a purchase at the price quoted now,
// or the trial. A member who holds the term already (a second load) is skipped by its key,
// since its price may differ once the demo's settlement has set the member's score.
func grantPlus(ctx context.Context, svc *plus.Service, prog *ent.Program, plan Plan) (int, error) {
	n := 0
	for _, m := range plan.Members {
		g := m.Plus
		if g == nil {
			continue
		}
		id, err := svc.MemberID(ctx, m.Registration.ExternalID)
		if err != nil {
			return n, refused(g.Key, err)
		}
		terms, err := svc.Terms(ctx, id)
		if err != nil {
			return n, err
		}
		if slices.ContainsFunc(terms, func(t *ent.PlusTerm) bool { return t.IdempotencyKey == g.Key }) {
			continue
		}
		req := plus.GrantRequest{MemberID: id, Plan: g.Plan, Source: g.Source, IdempotencyKey: g.Key}
		if g.Source == plus.SourcePurchase {
			q, err := svc.Quote(ctx, prog, m.Registration.ExternalID, "externalId")
			if err != nil {
				return n, refused(g.Key, err)
			}
			for _, pq := range q.Plans {
				if pq.Plan.Key == g.Plan {
					req.PaidCents = pq.PriceCents
				}
			}
			req.PaymentRef = "demo-" + g.Key
		}
		if _, err := svc.Grant(ctx, req); err != nil {
			return n, refused(g.Key, err)
		}
		n++
	}
	return n, nil
}

// register registers the plan's members not registered yet. A demo member registered with
// another date belongs to another demo.
func register(ctx context.Context, client *ent.Client, members *member.Service, plan Plan) (int, error) {
	ext := make([]string, len(plan.Members))
	for i, m := range plan.Members {
		ext[i] = m.Registration.ExternalID
	}
	have := map[string]time.Time{}
	for lo := 0; lo < len(ext); lo += 500 {
		rows, err := client.Member.Query().Where(entmember.ExternalIDIn(ext[lo:min(lo+500, len(ext))]...)).
			Select(entmember.FieldExternalID, entmember.FieldRegisteredAt).All(ctx)
		if err != nil {
			return 0, err
		}
		for _, r := range rows {
			have[r.ExternalID] = r.RegisteredAt
		}
	}
	n := 0
	for _, m := range plan.Members {
		r := m.Registration
		if at, ok := have[r.ExternalID]; ok {
			if !at.Equal(r.RegisteredAt.UTC()) {
				return n, fmt.Errorf("%w: %s registered at %s, this demo registers it at %s",
					ErrOtherDemo, r.ExternalID, at.UTC().Format(time.RFC3339), r.RegisteredAt.UTC().Format(time.RFC3339))
			}
			continue
		}
		if _, err := members.Register(ctx, r); err != nil {
			return n, refused(r.ExternalID, err)
		}
		n++
	}
	return n, nil
}

// send records the members' event lists in batches of up to events.MaxBatch, each member's
// events in one batch where they fit.
func send(ctx context.Context, svc *events.Service, lists [][]events.Input, out *Summary) error {
	var batch []events.Input
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := svc.Record(ctx, batch)
		if err != nil {
			return err
		}
		for _, r := range res {
			switch r.Status {
			case events.Accepted:
				out.Accepted++
			case events.Rejected:
				return fmt.Errorf("%w: event %s: %s: %s", ErrRejected, r.IdempotencyKey, strings.Join(r.Err.Field, "."), r.Err.Message)
			}
		}
		out.Events += len(batch)
		batch = batch[:0]
		return nil
	}
	for _, list := range lists {
		if len(batch)+len(list) > events.MaxBatch {
			if err := flush(); err != nil {
				return err
			}
		}
		for len(list) > events.MaxBatch {
			batch = append(batch, list[:events.MaxBatch]...)
			if err := flush(); err != nil {
				return err
			}
			list = list[events.MaxBatch:]
		}
		batch = append(batch, list...)
	}
	return flush()
}

func refused(what string, err error) error {
	if ue, ok := usererr.From(err); ok {
		return fmt.Errorf("%w: %s: %s: %s", ErrRejected, what, strings.Join(ue[0].Field, "."), ue[0].Message)
	}
	return err
}

// tierCounts counts the demo members of each tier, lowest tier first.
func tierCounts(ctx context.Context, client *ent.Client) ([]TierCount, error) {
	ladder, err := tier.Load(ctx, client)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		TierID int `json:"tier_id"`
		Count  int `json:"count"`
	}
	err = client.Member.Query().Where(entmember.ExternalIDHasPrefix(Prefix)).
		GroupBy(entmember.FieldTierID).Aggregate(ent.Count()).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	byTier := map[int]int{}
	for _, r := range rows {
		byTier[r.TierID] = r.Count
	}
	out := make([]TierCount, len(ladder))
	for i, t := range ladder {
		out[i] = TierCount{Key: t.Key, Name: t.Name, Level: t.Level, Members: byTier[t.ID]}
	}
	return out, nil
}

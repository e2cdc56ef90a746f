package tier

import (
	"context"
	"fmt"
	"slices"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/memberscore"
	"github.com/membergraph/membergraph/internal/audit"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Service changes and simulates a programme's tier table.
type Service struct {
	client *ent.Client
	clock  clock.Clock
}

// NewService returns a Service.
func NewService(client *ent.Client, c clock.Clock) *Service {
	return &Service{client: client, clock: c}
}

// defsOf is the ladder as definitions, for the audit log.
func defsOf(l Ladder) []program.TierDef {
	out := make([]program.TierDef, len(l))
	for i, t := range l {
		d := program.TierDef{Key: t.Key, Name: t.Name, Description: t.Description, MinScore: t.MinScore,
			GiftPoints: t.GiftPoints, GiftBenefits: t.GiftBenefits, YearlyDeduction: t.YearlyDeduction}
		for _, b := range t.Edges.Benefits {
			d.Benefits = append(d.Benefits, b.Key)
		}
		slices.Sort(d.Benefits)
		out[i] = d
	}
	return out
}

// UpdateTable replaces the viewer's tier table: names, thresholds, benefits, gifts and
// deductions of the existing tiers (descriptions stay), given lowest first, checked as a new
// programme's ladder is. The tiers stay the same (members hold them). The change is
// audited; members move at the next settlement, and SimulateTable shows beforehand where
// they would land.
func (s *Service) UpdateTable(ctx context.Context, tiers []program.TierDef) (Ladder, error) {
	ladder, err := Load(ctx, s.client)
	if err != nil {
		return nil, err
	}
	catalogue, err := s.client.Benefit.Query().All(ctx)
	if err != nil {
		return nil, err
	}
	ids, known := map[string]int{}, map[string]bool{}
	for _, b := range catalogue {
		ids[b.Key], known[b.Key] = b.ID, true
	}
	var errs usererr.List
	if len(tiers) != len(ladder) {
		errs.Add(usererr.FailedPrecondition, "input.tiers", "the table has %d tiers; adding or removing tiers is not supported", len(ladder))
	}
	for i, t := range tiers {
		if i < len(ladder) && t.Key != ladder[i].Key {
			errs.Add(usererr.InvalidArgument, fmt.Sprintf("input.tiers.%d.key", i), "tier %d is %s; tiers keep their keys and order", i, ladder[i].Key)
		}
	}
	program.ValidateLadder(&errs, "input.tiers", tiers, known)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	for i := range tiers {
		tiers[i].Description = ladder[i].Description
	}
	err = store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
		for i, t := range tiers {
			u := tx.Tier.UpdateOne(ladder[i]).SetName(t.Name).SetMinScore(t.MinScore).
				SetGiftPoints(t.GiftPoints).SetGiftBenefits(t.GiftBenefits).SetYearlyDeduction(t.YearlyDeduction).ClearBenefits()
			for _, k := range t.Benefits {
				u.AddBenefitIDs(ids[k])
			}
			if err := u.Exec(ctx); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, s.clock.Now(), "updateTierTable", defsOf(ladder), tiers)
	})
	if err != nil {
		return nil, err
	}
	return Load(ctx, s.client)
}

// Bucket is one tier of a what-if: how many members the current table puts there, and how
// many the proposed one would.
type Bucket struct {
	Tier             *ent.Tier
	ProposedMinScore int64
	Current          int
	Proposed         int
}

// SimulateTable is the tier distribution the thresholds would produce on the last settled
// scores, beside the current table's (docs/domain.md §8 "what-if"). Members never settled count
// at score 0. It reads one aggregate, not the members.
func (s *Service) SimulateTable(ctx context.Context, thresholds []int64) ([]Bucket, error) {
	ladder, err := Load(ctx, s.client)
	if err != nil {
		return nil, err
	}
	var errs usererr.List
	if len(thresholds) != len(ladder) {
		errs.Add(usererr.InvalidArgument, "input.thresholds", "give one threshold per tier: %d", len(ladder))
	}
	for i, t := range thresholds {
		if i == 0 && t != 0 || i > 0 && t <= thresholds[i-1] {
			errs.Add(usererr.InvalidArgument, fmt.Sprintf("input.thresholds.%d", i), "thresholds start at 0 and increase strictly")
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	var groups []struct {
		Settled int64 `json:"settled"`
		Count   int   `json:"count"`
	}
	if err := s.client.MemberScore.Query().GroupBy(memberscore.FieldSettled).Aggregate(ent.Count()).Scan(ctx, &groups); err != nil {
		return nil, err
	}
	members, err := s.client.Member.Query().Count(ctx)
	if err != nil {
		return nil, err
	}
	current := make([]int64, len(ladder))
	out := make([]Bucket, len(ladder))
	for i, t := range ladder {
		current[i] = t.MinScore
		out[i] = Bucket{Tier: t, ProposedMinScore: thresholds[i]}
	}
	scored := 0
	place := func(score int64, n int) {
		out[step(current, score)].Current += n
		out[step(thresholds, score)].Proposed += n
	}
	for _, g := range groups {
		place(g.Settled, g.Count)
		scored += g.Count
	}
	place(0, members-scored)
	return out, nil
}

package tier

import (
	"context"
	"fmt"
	"slices"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/memberscore"
	"github.com/membergraph/membergraph/internal/audit"
	"github.com/membergraph/membergraph/internal/clock"
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

// Row is one tier of a table an operator submits, lowest first.
type Row struct {
	Key             string   `json:"key"`
	Name            string   `json:"name"`
	MinScore        int64    `json:"minScore"`
	Benefits        []string `json:"benefits"`
	GiftPoints      int64    `json:"giftPoints"`
	GiftBenefits    []string `json:"giftBenefits"`
	YearlyDeduction int64    `json:"yearlyDeduction"`
}

// rowsOf is the ladder as rows, for the audit log.
func rowsOf(l Ladder) []Row {
	out := make([]Row, len(l))
	for i, t := range l {
		r := Row{Key: t.Key, Name: t.Name, MinScore: t.MinScore, GiftPoints: t.GiftPoints,
			GiftBenefits: t.GiftBenefits, YearlyDeduction: t.YearlyDeduction}
		for _, b := range t.Edges.Benefits {
			r.Benefits = append(r.Benefits, b.Key)
		}
		slices.Sort(r.Benefits)
		out[i] = r
	}
	return out
}

// UpdateTable replaces the viewer's tier table: names, thresholds, benefits, gifts and
// deductions of the existing tiers, given lowest first. Thresholds start at 0 and increase
// strictly; the tiers stay the same (members hold them). The change is audited; members move
// at the next settlement, and SimulateTable shows beforehand where they would land.
func (s *Service) UpdateTable(ctx context.Context, rows []Row) (Ladder, error) {
	ladder, err := Load(ctx, s.client)
	if err != nil {
		return nil, err
	}
	catalogue, err := s.client.Benefit.Query().All(ctx)
	if err != nil {
		return nil, err
	}
	ids := map[string]int{}
	for _, b := range catalogue {
		ids[b.Key] = b.ID
	}
	var errs usererr.List
	if len(rows) != len(ladder) {
		errs.Add(usererr.FailedPrecondition, "input.tiers", "the table has %d tiers; adding or removing tiers is not supported", len(ladder))
	}
	for i, r := range rows {
		f := fmt.Sprintf("input.tiers.%d", i)
		if i < len(ladder) && r.Key != ladder[i].Key {
			errs.Add(usererr.InvalidArgument, f+".key", "tier %d is %s; tiers keep their keys and order", i, ladder[i].Key)
		}
		if r.Name == "" || len(r.Name) > 64 {
			errs.Add(usererr.InvalidArgument, f+".name", "a name of 1–64 characters is required")
		}
		switch {
		case i == 0 && r.MinScore != 0:
			errs.Add(usererr.InvalidArgument, f+".minScore", "the first tier starts at 0, so every member has a tier")
		case i > 0 && r.MinScore <= rows[i-1].MinScore:
			errs.Add(usererr.InvalidArgument, f+".minScore", "thresholds must increase strictly: %d after %d", r.MinScore, rows[i-1].MinScore)
		}
		if r.GiftPoints < 0 || r.GiftPoints > 1_000_000 {
			errs.Add(usererr.InvalidArgument, f+".giftPoints", "giftPoints must be 0–1,000,000")
		}
		if r.YearlyDeduction < 0 {
			errs.Add(usererr.InvalidArgument, f+".yearlyDeduction", "yearlyDeduction must not be negative")
		}
		for _, k := range append(slices.Clone(r.Benefits), r.GiftBenefits...) {
			if _, ok := ids[k]; !ok {
				errs.Add(usererr.InvalidArgument, f+".benefits", "unknown benefit %q", k)
			}
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	err = store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
		for i, r := range rows {
			u := tx.Tier.UpdateOne(ladder[i]).SetName(r.Name).SetMinScore(r.MinScore).SetGiftPoints(r.GiftPoints).
				SetGiftBenefits(r.GiftBenefits).SetYearlyDeduction(r.YearlyDeduction).ClearBenefits()
			for _, k := range r.Benefits {
				u.AddBenefitIDs(ids[k])
			}
			if err := u.Exec(ctx); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, s.clock.Now(), "updateTierTable", rowsOf(ladder), rows)
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
// scores, beside the current table's (DOMAIN.md §8 "what-if"). Members never settled count
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
	out := make([]Bucket, len(ladder))
	proposed := make(Ladder, len(ladder))
	for i, t := range ladder {
		out[i] = Bucket{Tier: t, ProposedMinScore: thresholds[i]}
		proposed[i] = &ent.Tier{ID: i, MinScore: thresholds[i]}
	}
	scored := 0
	place := func(score int64, n int) {
		out[indexOf(ladder, ladder.For(score))].Current += n
		out[proposed.For(score).ID].Proposed += n
	}
	for _, g := range groups {
		place(g.Settled, g.Count)
		scored += g.Count
	}
	place(0, members-scored)
	return out, nil
}

func indexOf(l Ladder, t *ent.Tier) int { return slices.Index(l, t) }

// Package tier is the tier ladder of docs/domain.md §4 "Tiers": which tier a settled score sets,
// what the next tier needs and adds, the operator's changes to the table (validated and
// audited), and the what-if that shows the pyramid a changed table would produce.
package tier

import (
	"context"
	"slices"
	"sort"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/tier"
	"github.com/membergraph/membergraph/internal/store"
)

// Ladder is a programme's tiers, lowest first.
type Ladder []*ent.Tier

// Load reads the ladder of the viewer's programme with each tier's benefits, in
// store.BenefitOrder.
func Load(ctx context.Context, client *ent.Client) (Ladder, error) {
	ts, err := client.Tier.Query().WithBenefits(func(q *ent.BenefitQuery) { q.Order(store.BenefitOrder()...) }).
		Order(ent.Asc(tier.FieldLevel)).All(ctx)
	return Ladder(ts), err
}

// For is the tier a settled score sets: the highest whose threshold it reaches.
func (l Ladder) For(score int64) *ent.Tier {
	i := sort.Search(len(l), func(i int) bool { return l[i].MinScore > score })
	return l[max(i-1, 0)]
}

// step is the index of the highest of the ascending thresholds that score reaches (0 when
// it reaches none: the first threshold is 0).
func step(thresholds []int64, score int64) int {
	return max(sort.Search(len(thresholds), func(i int) bool { return thresholds[i] > score })-1, 0)
}

// ByID finds a tier of the ladder.
func (l Ladder) ByID(id int) *ent.Tier {
	for _, t := range l {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// Next is the tier above t, or nil at the top.
func (l Ladder) Next(t *ent.Tier) *ent.Tier {
	for _, u := range l {
		if u.Level > t.Level {
			return u
		}
	}
	return nil
}

// Adds is what next holds that t lacks: the benefits a member gains by moving up.
func Adds(t, next *ent.Tier) []*ent.Benefit {
	var out []*ent.Benefit
	for _, b := range next.Edges.Benefits {
		if !slices.ContainsFunc(t.Edges.Benefits, func(c *ent.Benefit) bool { return c.ID == b.ID }) {
			out = append(out, b)
		}
	}
	return out
}

// ToNext is the score still needed to reach next from score; 0 when it is reached.
func ToNext(score int64, next *ent.Tier) int64 { return max(next.MinScore-score, 0) }

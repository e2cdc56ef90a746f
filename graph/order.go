package graph

import (
	"context"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/store"
)

// tierBenefits are a tier's benefits in store.BenefitOrder, from the ladder the query has
// read once (every tier of an answer shares it).
func (r *Resolver) tierBenefits(ctx context.Context, t *ent.Tier) ([]*ent.Benefit, error) {
	ladder, err := r.ladder(ctx)
	if err != nil {
		return nil, err
	}
	if lt := ladder.ByID(t.ID); lt != nil {
		return append([]*ent.Benefit{}, lt.Edges.Benefits...), nil
	}
	return t.QueryBenefits().Order(store.BenefitOrder()...).All(ctx)
}

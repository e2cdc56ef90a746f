package graph

import (
	"context"
	"fmt"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/graph/model"
	"github.com/membergraph/membergraph/internal/score/formula"
)

// dimensions is how a score was made, as the API shows it.
func dimensions(b formula.Breakdown) *model.ScoreDimensions {
	c := b.Counts
	return &model.ScoreDimensions{
		Consumption: int(b.Consumption), Activity: int(b.Activity), Account: int(b.AccountPoints),
		Reputation: b.Account.Reputation, Credit: b.Account.Credit,
		Coefficient: coefficient(b.CoefficientPercent), RefundRatePermille: int(b.RefundPermille),
		Counts: &model.ScoreCounts{
			SpendYuan: int(max(c.SpendCents, 0) / 100), Orders: int(c.Orders), PurchaseDays: int(c.PurchaseDays),
			LoginDays: int(c.LoginDays), Reviews: int(c.Reviews), PhotoReviews: int(c.PhotoReviews),
			Answers: int(c.Answers), Shares: int(c.Shares),
			RealNameVerified: b.Account.RealNameVerified, BoundAccounts: b.Account.BoundAccounts,
		},
	}
}

// coefficient shows a percentage as the multiplier it is; display only, never arithmetic.
func coefficient(percent int64) float64 { return float64(percent) / 100 }

// settleWait is how long settleScores waits for a settlement before answering RUNNING.
const settleWait = 20 * time.Second

// tierAndNext is the member's tier and the one above it (nil at the top).
func (r *Resolver) tierAndNext(ctx context.Context, m *ent.Member) (*ent.Tier, *ent.Tier, error) {
	ladder, err := r.ladder(ctx)
	if err != nil {
		return nil, nil, err
	}
	cur := ladder.ByID(m.TierID)
	if cur == nil {
		return nil, nil, fmt.Errorf("member %d holds tier %d, which is not in the ladder", m.ID, m.TierID)
	}
	return cur, ladder.Next(cur), nil
}

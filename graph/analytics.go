package graph

import (
	"context"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/graph/model"
	"github.com/membergraph/membergraph/internal/analytics"
)

// The mappings of internal/analytics' figures to the schema's types (schema/analytics.graphqls).

func share(r analytics.Ratio) *model.Share {
	return &model.Share{Count: int(r.Num), Of: int(r.Den), Value: r.Value()}
}

func period(p analytics.Period) *model.AnalyticsPeriod {
	return &model.AnalyticsPeriod{From: p.From, To: p.To}
}

func periodIn(p model.AnalyticsPeriodInput) analytics.Period {
	return analytics.Period{From: p.From, To: p.To}
}

func funded(fs []analytics.Funded) []*model.FundedPoints {
	out := make([]*model.FundedPoints, len(fs))
	for i, f := range fs {
		out[i] = &model.FundedPoints{Funding: f.Funding, Points: int(f.Points), ValueCents: int(f.ValueCents)}
	}
	return out
}

func penetrationOf(p analytics.Penetration) *model.Penetration {
	out := &model.Penetration{ComputedAt: p.At, Members: int(p.Members), Plus: share(p.Plus),
		Tiers: make([]*model.TierPenetration, len(p.Tiers))}
	for i, t := range p.Tiers {
		out.Tiers[i] = &model.TierPenetration{Tier: t.Tier, AtOrAbove: share(t.Share)}
	}
	return out
}

func pyramidOf(p analytics.Pyramid) *model.TierPyramid {
	band := func(b analytics.Band) *model.PyramidBand {
		return &model.PyramidBand{Tiers: append([]*ent.Tier{}, b.Tiers...), Members: share(b.Share), ExpectedShare: b.Expected}
	}
	out := &model.TierPyramid{ComputedAt: p.At, ActiveMembers: int(p.Active), Tiers: make([]*model.PyramidTier, len(p.Tiers)),
		Head: band(p.Head), Middle: band(p.Middle), Tail: band(p.Tail)}
	for i, t := range p.Tiers {
		out.Tiers[i] = &model.PyramidTier{Tier: t.Tier, Members: share(t.Share)}
	}
	return out
}

func distributionOf(d analytics.Distribution) *model.ScoreDistribution {
	out := &model.ScoreDistribution{ComputedAt: d.At, BucketWidth: int(d.Width), Members: int(d.Members),
		Buckets: make([]*model.ScoreBucket, len(d.Buckets))}
	for i, b := range d.Buckets {
		mb := &model.ScoreBucket{From: int(b.Lo), Members: int(b.Members)}
		if b.Hi != 0 {
			hi := int(b.Hi)
			mb.To = &hi
		}
		out.Buckets[i] = mb
	}
	return out
}

func medalLevelsOf(m analytics.MedalFigures) *model.MedalLevelCounts {
	out := &model.MedalLevelCounts{ComputedAt: m.At, Members: int(m.Members), Medals: make([]*model.MedalLevelCount, len(m.Medals))}
	for i, md := range m.Medals {
		levels := make([]int, len(md.Levels))
		for j, n := range md.Levels {
			levels[j] = int(n)
		}
		out.Medals[i] = &model.MedalLevelCount{Medal: md.Medal, Levels: levels}
	}
	return out
}

func liabilityOf(l analytics.Liability) *model.PointsLiability {
	return &model.PointsLiability{ComputedAt: l.At, Points: int(l.Points), ValueCents: int(l.ValueCents), ByFunder: funded(l.ByFunder),
		DebtPoints: int(l.DebtPoints), DebtValueCents: int(l.DebtValueCents), MembersInDebt: int(l.MembersInDebt)}
}

func expiringOf(e analytics.Expiring) *model.PointsExpiring {
	return &model.PointsExpiring{ComputedAt: e.At, Month: period(e.Month), Points: int(e.Points), ValueCents: int(e.ValueCents),
		ByFunder: funded(e.ByFunder)}
}

func conversionOf(c analytics.Conversion) *model.PlusConversion {
	return &model.PlusConversion{ComputedAt: c.At, Period: period(c.Period), NonMembers: int(c.NonMembers),
		TrialStarted: int(c.TrialStarted), Converted: share(c.Converted)}
}

func renewalOf(r analytics.Renewal) *model.PlusRenewal {
	return &model.PlusRenewal{ComputedAt: r.At, Period: period(r.Period), Renewed: share(r.Renewed), Open: int(r.Open)}
}

// simulation is the what-if of thresholds, as simulateTierTable answers it.
func (r *Resolver) simulation(ctx context.Context, thresholds []int) (*model.TierTableSimulation, error) {
	ts := make([]int64, len(thresholds))
	for i, t := range thresholds {
		ts[i] = int64(t)
	}
	buckets, err := r.tiers.SimulateTable(ctx, ts)
	if err != nil {
		return nil, err
	}
	out := &model.TierTableSimulation{Tiers: make([]*model.TierBucket, len(buckets))}
	for i, b := range buckets {
		out.Members += b.Current
		out.Tiers[i] = &model.TierBucket{Tier: b.Tier, ProposedMinScore: int(b.ProposedMinScore), Current: b.Current, Proposed: b.Proposed}
	}
	return out, nil
}

// Package score is the member score (京享值) of docs/domain.md §4: the provisional score read
// from the activity counters as events arrive, and the monthly settlement that fixes the
// settled score, moves members between tiers and owes upgrade gifts. The formula itself is
// in score/formula.
package score

import (
	"context"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/memberscore"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/score/formula"
)

// Service reads and settles scores.
type Service struct {
	client *ent.Client
	clock  clock.Clock
	ledger *points.Ledger
	cfg    SettleConfig
	obs    Observer
}

// NewService returns a Service; gifts of upgrades are paid through ledger.
func NewService(client *ent.Client, c clock.Clock, ledger *points.Ledger, cfg SettleConfig) *Service {
	return &Service{client: client, clock: c, ledger: ledger, cfg: cfg.withDefaults()}
}

// View is a member's score as the member sees it.
type View struct {
	Settled   int64
	Period    formula.Month // 0 before the first settlement
	SettledAt *time.Time
	// Dimensions is how the settled score was made (in cumulative mode: the last
	// settlement's growth); zero before the first settlement.
	Dimensions formula.Breakdown
	// Provisional is what a settlement today would give, with how it is made.
	Provisional formula.Breakdown
}

// Of reads a member's score: the settled one and the provisional one from the counters.
func (s *Service) Of(ctx context.Context, prog *ent.Program, m *ent.Member) (View, error) {
	loc, err := points.Location(prog.TimeZone)
	if err != nil {
		return View{}, err
	}
	sr := prog.Rules.ScoreRules()
	now := formula.MonthOf(s.clock.Now(), loc)
	row, months, err := s.loadOf(ctx, m, sr, now)
	if err != nil {
		return View{}, err
	}
	st := stateOf(m, row)
	v := View{Provisional: compute(sr, st, activityCounts(months), now.Add(1))}
	if row != nil && row.Period > 0 {
		v.Settled, v.Period, v.SettledAt, v.Dimensions = row.Settled, formula.Month(row.Period), row.SettledAt, row.Breakdown
	}
	return v, nil
}

// Settled is a member's settled score: 0 before its first settlement.
func (s *Service) Settled(ctx context.Context, memberID int) (int64, error) {
	row, err := s.client.MemberScore.Query().Where(memberscore.MemberID(memberID)).
		Select(memberscore.FieldSettled).Only(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	}
	return row.Settled, err
}

// state is what a settlement needs to know of a member beyond its counters.
type state struct {
	memberID  int
	tierID    int
	account   formula.Account
	settled   int64
	period    formula.Month
	counted   formula.Month // cumulative: last month already in settled
	accountIn int64         // cumulative: account points already in settled
	run       int           // the run of period's settlement that wrote settled
	breakdown formula.Breakdown
}

func stateOf(m *ent.Member, row *ent.MemberScore) state {
	st := state{memberID: m.ID, tierID: m.TierID,
		account: formula.Account{RealNameVerified: m.RealNameVerified, BoundAccounts: len(m.BoundAccounts)}}
	if row != nil {
		st.account.Reputation, st.account.Credit = row.Reputation, row.Credit
		st.settled, st.period = row.Settled, formula.Month(row.Period)
		st.counted, st.accountIn = formula.Month(row.CountedThrough), row.AccountPointsCounted
		st.run, st.breakdown = row.SettlementRun, row.Breakdown
	}
	return st
}

// window is the first month a settlement of period counts: the WindowMonths before it
// when rolling; in cumulative mode the first month not yet counted.
func window(sr rules.Score, period formula.Month, st state) formula.Month {
	if sr.Mode == rules.ScoreCumulative {
		if st.counted == 0 {
			return 0
		}
		return st.counted.Add(1)
	}
	return period.Add(-sr.WindowMonths)
}

// compute is the score a settlement of period gives, from counts of the months window
// chose. Cumulative growth adds the new activity (and account points not counted yet) to
// what was settled, after the yearly deduction of settled's tier for each 1 January passed,
// which the caller has applied to st.settled.
func compute(sr rules.Score, st state, c formula.Counts, period formula.Month) formula.Breakdown {
	b := formula.Compute(sr, c, st.account)
	if sr.Mode != rules.ScoreCumulative {
		return b
	}
	b.AccountPoints = max(b.AccountPoints-st.accountIn, 0)
	b.Score = st.settled + formula.Apply(b.Raw(), b.CoefficientPercent)
	return b
}

func activityCounts(rows []*ent.ActivityMonth) formula.Counts {
	var c formula.Counts
	for _, r := range rows {
		c = c.Plus(monthCounts(r))
	}
	return c
}

func monthCounts(r *ent.ActivityMonth) formula.Counts {
	return formula.Counts{
		SpendCents: r.SpendCents, Orders: int64(r.Orders), CompletedOrders: int64(r.CompletedOrders),
		RefundedOrders: int64(r.RefundedOrders), PurchaseDays: formula.Days(r.PurchaseDays), LoginDays: formula.Days(r.LoginDays),
		Reviews: int64(r.Reviews), PhotoReviews: int64(r.PhotoReviews), Answers: int64(r.Answers), Shares: int64(r.Shares),
	}
}

package score

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"time"

	"entgo.io/ent/dialect/sql"
	"golang.org/x/sync/errgroup"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/activitymonth"
	"github.com/membergraph/membergraph/ent/benefitclaim"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/memberscore"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/ent/predicate"
	"github.com/membergraph/membergraph/ent/settlement"
	"github.com/membergraph/membergraph/ent/settlementpartition"
	"github.com/membergraph/membergraph/ent/tierchange"
	"github.com/membergraph/membergraph/ent/tiergift"
	"github.com/membergraph/membergraph/internal/audit"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/score/formula"
	"github.com/membergraph/membergraph/internal/tier"
	"github.com/membergraph/membergraph/internal/usererr"
)

// SettleConfig tunes settlement. Zero fields take the defaults of withDefaults.
type SettleConfig struct {
	// PartitionSize is how many member ids a partition spans (default 10,000).
	PartitionSize int
	// ChunkSize is how many members are read and written together (default 1,000).
	ChunkSize int
	// Workers is how many partitions one Settle call works on at once (default 2).
	Workers int
	// Lease is how long a claimed partition stays a worker's without progress; after it
	// another worker takes the partition over (default 2 minutes).
	Lease time.Duration
	// Worker names this process in the partitions it claims (default host:pid).
	Worker string
	// Logger reports progress and skipped gifts (default slog.Default()).
	Logger *slog.Logger
}

func (c SettleConfig) withDefaults() SettleConfig {
	if c.PartitionSize <= 0 {
		c.PartitionSize = 10_000
	}
	if c.ChunkSize <= 0 {
		c.ChunkSize = 1_000
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.Worker == "" {
		host, _ := os.Hostname()
		c.Worker = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// errLostLease: another worker took the partition over; this worker stops on it.
var errLostLease = errors.New("settlement partition lease lost")

// pollEvery is how often a worker with nothing to claim looks whether the others are done.
const pollEvery = 200 * time.Millisecond

// LatestPeriod is the period a settlement run now would settle: the month of the latest 1st
// of the month in the programme's time zone.
func (s *Service) LatestPeriod(prog *ent.Program) (formula.Month, error) {
	loc, err := points.Location(prog.TimeZone)
	if err != nil {
		return 0, err
	}
	return formula.MonthOf(s.clock.Now(), loc), nil
}

// Settle settles period for the programme: every member who has no settled score for the
// period yet gets one over the months before it, the tier it sets, the tier history and the
// upgrade gifts owed, which DeliverGifts pays afterwards. A period settled already is settled
// again for the members who joined (registered or were imported) since: each re-run is a new
// run of the period's settlement whose counts say what that run did, and a member is settled
// once per period. It is resumable (a crashed run's partitions are taken over once their
// lease ends) and safe to run on several workers at once: each works on the partitions of
// the run it claims and waits for the others.
func (s *Service) Settle(ctx context.Context, programID int, period formula.Month) (*ent.Settlement, error) {
	return s.settle(ctx, programID, period, false)
}

// Resettle settles the latest period again for every member, after a data fix or a rule
// change: rolling scores are recomputed from the activity counters under the current rules
// (cumulative growth, added once, is kept) and tiers follow the current tier table. The
// tier changes it causes are recorded with a reason naming the resettle; an upgrade gift is
// still paid once per tier and calendar year. The run is audited with the viewer of ctx as
// the actor. A period other than the latest is refused.
func (s *Service) Resettle(ctx context.Context, programID int, period formula.Month) (*ent.Settlement, error) {
	return s.settle(ctx, programID, period, true)
}

func (s *Service) settlePeriod(ctx context.Context, programID int, period formula.Month, resettle bool) (*ent.Settlement, error) {
	actor := ctx // who asked, for the audit entry of a resettle
	if _, ok := auth.FromContext(ctx); !ok {
		actor = auth.SystemContext(ctx, programID)
	}
	ctx = auth.SystemContext(ctx, programID)
	prog, err := s.client.Program.Get(ctx, programID)
	if err != nil {
		return nil, err
	}
	loc, err := points.Location(prog.TimeZone)
	if err != nil {
		return nil, err
	}
	if !period.Valid() {
		return nil, usererr.New(usererr.InvalidArgument, "input.period", "period %d is not a month", period)
	}
	if period.Start(loc).After(s.clock.Now()) {
		return nil, usererr.New(usererr.FailedPrecondition, "input.period", "period %s lies in the future", period)
	}
	if latest := formula.MonthOf(s.clock.Now(), loc); resettle && period != latest {
		return nil, usererr.New(usererr.FailedPrecondition, "input.period",
			"only the latest period, %s, can be resettled; %s is not it", latest, period)
	}
	last, err := s.client.Settlement.Query().Where(settlement.StatusEQ(settlement.StatusDONE)).
		Order(ent.Desc(settlement.FieldPeriod)).First(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	if last != nil && last.Period > int(period) {
		return nil, usererr.New(usererr.FailedPrecondition, "input.period",
			"period %s lies before %s, which is settled already", period, formula.Month(last.Period))
	}
	for {
		st, err := s.begin(ctx, actor, programID, period, resettle)
		if err != nil {
			return nil, err
		}
		if st.Status == settlement.StatusRUNNING {
			ladder, err := tier.Load(ctx, s.client)
			if err != nil {
				return nil, err
			}
			run := &run{Service: s, prog: prog, rules: prog.Rules.ScoreRules(), ladder: ladder, st: st, period: period}
			g, gctx := errgroup.WithContext(ctx)
			for w := range s.cfg.Workers {
				worker := fmt.Sprintf("%s/%d", s.cfg.Worker, w)
				g.Go(func() error { return run.work(gctx, worker) })
			}
			if err := g.Wait(); err != nil {
				return nil, err
			}
			if st, err = s.client.Settlement.Get(ctx, st.ID); err != nil {
				return nil, err
			}
		}
		// A resettle that found another run under way joined it; now the period is DONE and
		// the next begin opens the resettle's own run.
		if !resettle || st.Resettle {
			return st, nil
		}
	}
}

// begin opens a run of period's settlement, or finds the run under way, and makes the run's
// partitions.
func (s *Service) begin(ctx, actor context.Context, programID int, period formula.Month, resettle bool) (*ent.Settlement, error) {
	st, err := s.open(ctx, actor, programID, period, resettle)
	if err != nil || st.Status == settlement.StatusDONE || st.Partitions > 0 {
		return st, err
	}
	var agg []struct {
		Min, Max, Count *int
	}
	if err := s.client.Member.Query().Aggregate(ent.Min(member.FieldID), ent.Max(member.FieldID), ent.Count()).Scan(ctx, &agg); err != nil {
		return nil, err
	}
	type span struct{ lo, hi int }
	spans := []span{{0, math.MaxInt64}}
	if len(agg) == 1 && agg[0].Min != nil && agg[0].Count != nil {
		lo, hi, n := *agg[0].Min, *agg[0].Max, *agg[0].Count
		parts := max(1, (n+s.cfg.PartitionSize-1)/s.cfg.PartitionSize)
		width := (hi - lo + parts) / parts
		spans = spans[:0]
		for i := range parts {
			spans = append(spans, span{lo + i*width, lo + (i+1)*width - 1})
		}
		// Members who register meanwhile fall in the last range; the first takes any lower id.
		spans[0].lo, spans[len(spans)-1].hi = 0, math.MaxInt64
	}
	err = s.ledger.WithTx(ctx, func(tx *ent.Tx) error {
		n, err := tx.Settlement.Update().Where(settlement.ID(st.ID), settlement.Run(st.Run), settlement.Partitions(0)).
			SetPartitions(len(spans)).Save(ctx)
		if err != nil || n == 0 {
			return err // n == 0: another worker made them
		}
		bulk := make([]*ent.SettlementPartitionCreate, len(spans))
		for i, sp := range spans {
			bulk[i] = tx.SettlementPartition.Create().SetProgramID(programID).SetSettlementID(st.ID).SetRun(st.Run).
				SetLo(sp.lo).SetHi(sp.hi)
		}
		return tx.SettlementPartition.CreateBulk(bulk...).Exec(ctx)
	})
	if err != nil {
		return nil, err
	}
	return s.client.Settlement.Get(ctx, st.ID)
}

// open returns period's settlement with a run under way: its first run, the run another
// worker has under way (which the caller joins), or, when the period is DONE, its next run.
// A conditional update decides between workers opening the next run at once.
func (s *Service) open(ctx, actor context.Context, programID int, period formula.Month, resettle bool) (*ent.Settlement, error) {
	st, err := s.client.Settlement.Query().Where(settlement.Period(int(period))).Only(ctx)
	if ent.IsNotFound(err) {
		err = s.ledger.WithTx(ctx, func(tx *ent.Tx) error {
			created, err := tx.Settlement.Create().SetProgramID(programID).SetPeriod(int(period)).
				SetStartedAt(s.clock.Now()).SetResettle(resettle).Save(ctx)
			if err != nil {
				return err
			}
			st = created
			if resettle {
				return s.auditResettle(actor, tx, nil, created)
			}
			return nil
		})
		if !ent.IsConstraintError(err) {
			return st, err
		}
		st, err = s.client.Settlement.Query().Where(settlement.Period(int(period))).Only(ctx)
	}
	if err != nil || st.Status == settlement.StatusRUNNING {
		return st, err
	}
	err = s.ledger.WithTx(ctx, func(tx *ent.Tx) error {
		n, err := tx.Settlement.Update().Where(settlement.ID(st.ID), settlement.Run(st.Run), settlement.StatusEQ(settlement.StatusDONE)).
			SetStatus(settlement.StatusRUNNING).SetRun(st.Run + 1).SetResettle(resettle).
			SetPartitions(0).SetMembers(0).SetTierChanges(0).ClearFinishedAt().Save(ctx)
		if err != nil || n == 0 {
			return err // n == 0: another worker opened the next run; the caller joins it
		}
		if resettle {
			next, err := tx.Settlement.Get(ctx, st.ID)
			if err != nil {
				return err
			}
			return s.auditResettle(actor, tx, st, next)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.client.Settlement.Get(ctx, st.ID)
}

// settlementRun is what the audit entry of a resettle records of a run.
type settlementRun struct {
	Period      string `json:"period"`
	Run         int    `json:"run"`
	Resettle    bool   `json:"resettle"`
	Members     int    `json:"members"`
	TierChanges int    `json:"tierChanges"`
}

// auditResettle records, in the transaction that opens it, that a resettle run began:
// before is the run it follows (nil for a period's first run).
func (s *Service) auditResettle(actor context.Context, tx *ent.Tx, before, after *ent.Settlement) error {
	var b any
	if before != nil {
		b = settlementRun{Period: formula.Month(before.Period).String(), Run: before.Run, Resettle: before.Resettle,
			Members: before.Members, TierChanges: before.TierChanges}
	}
	a := settlementRun{Period: formula.Month(after.Period).String(), Run: after.Run, Resettle: true}
	return audit.Record(actor, tx, s.clock.Now(), "resettle", b, a)
}

// run is one Settle call's work on a settlement.
type run struct {
	*Service
	prog   *ent.Program
	rules  rules.Score
	ladder tier.Ladder
	st     *ent.Settlement
	period formula.Month
}

// work claims and settles partitions until none is left, then finishes the settlement once
// every partition is done, waiting for partitions other workers hold.
func (r *run) work(ctx context.Context, worker string) error {
	for {
		p, err := r.claim(ctx, worker)
		if err != nil {
			return err
		}
		if p != nil {
			if err := r.partition(ctx, p, worker); err != nil && !errors.Is(err, errLostLease) {
				return err
			}
			continue
		}
		done, err := r.finish(ctx)
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// claimable: partitions of the run nobody works on, or whose worker let the lease run out.
// Leases are operational time, so they follow the wall clock, not the business clock.
func claimable(st *ent.Settlement) predicate.SettlementPartition {
	return settlementpartition.And(settlementpartition.SettlementID(st.ID), settlementpartition.Run(st.Run), settlementpartition.Or(
		settlementpartition.StatusEQ(settlementpartition.StatusPENDING),
		settlementpartition.And(settlementpartition.StatusEQ(settlementpartition.StatusRUNNING),
			settlementpartition.LeaseUntilLT(time.Now().UTC())),
	))
}

// claim takes a partition for worker; a conditional update decides between racing workers.
// The counts of a partition taken over stay: they are of the chunks its first worker
// committed, whose members the new worker skips.
func (r *run) claim(ctx context.Context, worker string) (*ent.SettlementPartition, error) {
	cands, err := r.client.SettlementPartition.Query().Where(claimable(r.st)).
		Order(ent.Asc(settlementpartition.FieldLo)).Limit(4).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cands {
		n, err := r.client.SettlementPartition.Update().Where(settlementpartition.ID(c.ID), claimable(r.st)).
			SetStatus(settlementpartition.StatusRUNNING).SetWorker(worker).
			SetLeaseUntil(time.Now().UTC().Add(r.cfg.Lease)).Save(ctx)
		if err != nil {
			return nil, err
		}
		if n == 1 {
			return c, nil
		}
	}
	return nil, nil
}

// finish marks the run DONE once every partition of it is; it reports whether it is. A run
// finished, or followed by the next, already is.
func (r *run) finish(ctx context.Context) (bool, error) {
	parts, err := r.client.SettlementPartition.Query().Where(settlementpartition.SettlementID(r.st.ID),
		settlementpartition.Run(r.st.Run)).All(ctx)
	if err != nil {
		return false, err
	}
	var members, changes int
	for _, p := range parts {
		if p.Status != settlementpartition.StatusDONE {
			return false, nil
		}
		members += p.Members
		changes += p.TierChanges
	}
	err = r.client.Settlement.Update().Where(settlement.ID(r.st.ID), settlement.Run(r.st.Run), settlement.StatusEQ(settlement.StatusRUNNING)).
		SetStatus(settlement.StatusDONE).SetFinishedAt(r.clock.Now()).SetMembers(members).SetTierChanges(changes).Exec(ctx)
	return err == nil, err
}

// partition settles the members of p, a chunk at a time; each chunk commits with a renewal
// of the lease, so a worker that lost its partition writes nothing more.
func (r *run) partition(ctx context.Context, p *ent.SettlementPartition, worker string) error {
	cursor := p.Lo - 1
	if p.Lo == 0 {
		cursor = -1
	}
	for {
		q := r.client.Member.Query().Where(member.IDGT(cursor), member.IDLTE(p.Hi))
		if !r.st.Resettle {
			q.Where(unsettled(r.period))
		}
		ms, err := q.Order(ent.Asc(member.FieldID)).Limit(r.cfg.ChunkSize).
			Select(member.FieldID, member.FieldTierID, member.FieldRealNameVerified, member.FieldBoundAccounts).All(ctx)
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			break
		}
		cursor = ms[len(ms)-1].ID
		if err := r.chunk(ctx, p, worker, ms); err != nil {
			return err
		}
	}
	return r.client.SettlementPartition.Update().Where(settlementpartition.ID(p.ID), settlementpartition.Worker(worker),
		settlementpartition.StatusEQ(settlementpartition.StatusRUNNING)).SetStatus(settlementpartition.StatusDONE).Exec(ctx)
}

// unsettled: members without a settled score for period (or a later one).
func unsettled(period formula.Month) predicate.Member {
	return func(sel *sql.Selector) {
		t := sql.Table(memberscore.Table)
		sel.Where(sql.NotExists(sql.Select(t.C(memberscore.FieldID)).From(t).Where(sql.And(
			sql.ColumnsEQ(t.C(memberscore.FieldMemberID), sel.C(member.FieldID)),
			sql.GTE(t.C(memberscore.FieldPeriod), int(period)),
		))))
	}
}

// settled is one member's result.
type settled struct {
	state
	b    formula.Breakdown
	from *ent.Tier
	to   *ent.Tier
	// kept: a resettle of cumulative growth keeps the settled score (growth is added once).
	kept bool
}

func (r *run) chunk(ctx context.Context, p *ent.SettlementPartition, worker string, ms []*ent.Member) error {
	ids := make([]int, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	rows, err := r.client.MemberScore.Query().Where(memberscore.MemberIDIn(ids...)).All(ctx)
	if err != nil {
		return err
	}
	byMember := make(map[int]*ent.MemberScore, len(rows))
	for _, row := range rows {
		byMember[row.MemberID] = row
	}
	var states []state
	from := r.period
	for _, m := range ms {
		st := stateOf(m, byMember[m.ID])
		if st.period > r.period || st.period == r.period && (!r.st.Resettle || st.run >= r.st.Run) {
			continue // settled for this period already (by this run, when it was taken over after a crash)
		}
		states = append(states, st)
		from = min(from, window(r.rules, r.period, st))
	}
	months, err := r.client.ActivityMonth.Query().Where(activitymonth.MemberIDIn(ids...),
		activitymonth.MonthGTE(int(from)), activitymonth.MonthLT(int(r.period))).All(ctx)
	if err != nil {
		return err
	}
	monthsOf := make(map[int][]*ent.ActivityMonth, len(states))
	for _, m := range months {
		monthsOf[m.MemberID] = append(monthsOf[m.MemberID], m)
	}
	results := make([]settled, 0, len(states))
	for _, st := range states {
		first := window(r.rules, r.period, st)
		c := formula.Counts{}
		for _, m := range monthsOf[st.memberID] {
			if formula.Month(m.Month) >= first {
				c = c.Plus(monthCounts(m))
			}
		}
		res := settled{state: st, from: r.ladder.ByID(st.tierID)}
		if r.rules.Mode == rules.ScoreCumulative && st.period == r.period {
			res.b, res.kept = st.breakdown, true
			res.b.Score = st.settled
			res.to = r.ladder.For(res.b.Score)
			results = append(results, res)
			continue
		}
		if r.rules.Mode == rules.ScoreCumulative && st.period != 0 && res.from != nil {
			if years := r.period.Year() - st.period.Year(); years > 0 {
				res.settled = max(0, res.settled-res.from.YearlyDeduction*int64(years))
			}
		}
		res.b = compute(r.rules, res.state, c, r.period)
		res.to = r.ladder.For(res.b.Score)
		results = append(results, res)
	}
	return r.ledger.WithTx(ctx, func(tx *ent.Tx) error { return r.write(ctx, tx, p, worker, results) })
}

// write commits a chunk's results: scores, tiers, history and the gifts owed.
func (r *run) write(ctx context.Context, tx *ent.Tx, p *ent.SettlementPartition, worker string, results []settled) error {
	now := r.clock.Now()
	var changes []*ent.TierChangeCreate
	var gifts []*ent.TierGiftCreate
	var told []outbox.Message
	moves := map[int][]int{} // tier → members moving to it
	scores := make([]*ent.MemberScoreCreate, len(results))
	for i, res := range results {
		c := tx.MemberScore.Create().SetProgramID(r.prog.ID).SetMemberID(res.memberID).SetSettled(res.b.Score).
			SetPeriod(int(r.period)).SetSettledAt(now).SetBreakdown(res.b).SetSettlementRun(r.st.Run)
		if r.rules.Mode == rules.ScoreCumulative {
			counted := res.accountIn + res.b.AccountPoints
			if res.kept {
				counted = res.accountIn
			}
			c.SetCountedThrough(int(r.period.Add(-1))).SetAccountPointsCounted(counted)
		}
		scores[i] = c
		if res.from != nil && res.to.ID == res.from.ID {
			continue
		}
		moves[res.to.ID] = append(moves[res.to.ID], res.memberID)
		up := res.from == nil || res.to.Level > res.from.Level
		dir, reason := tierchange.DirectionUP, fmt.Sprintf("Score %d settled on %s reaches %s (from %d)", res.b.Score, r.period, res.to.Name, res.to.MinScore)
		if !up {
			dir = tierchange.DirectionDOWN
			reason = fmt.Sprintf("Score %d settled on %s is below %s (from %d)", res.b.Score, r.period, res.from.Name, res.from.MinScore)
		}
		if r.st.Resettle {
			reason = "Resettle: " + reason
		}
		ch := tx.TierChange.Create().SetProgramID(r.prog.ID).SetMemberID(res.memberID).SetToTierID(res.to.ID).
			SetPeriod(int(r.period)).SetRun(r.st.Run).SetDirection(dir).SetScore(res.b.Score).SetReason(reason).SetCreatedAt(now)
		if res.from != nil {
			ch.SetFromTierID(res.from.ID)
		}
		changes = append(changes, ch)
		tc := TierChange{To: res.to.Key, Direction: string(dir), Score: res.b.Score, Period: r.period.String()}
		if res.from != nil {
			tc.From = res.from.Key
		}
		told = append(told, outbox.Message{ProgramID: r.prog.ID, MemberID: res.memberID, Type: outbox.TierChanged, Data: tc, At: now})
		if up && (res.to.GiftPoints > 0 || len(res.to.GiftBenefits) > 0) {
			gifts = append(gifts, tx.TierGift.Create().SetProgramID(r.prog.ID).SetMemberID(res.memberID).SetTierID(res.to.ID).
				SetYear(r.period.Year()).SetPoints(res.to.GiftPoints).SetBenefits(res.to.GiftBenefits).SetCreatedAt(now))
		}
	}
	n, err := tx.SettlementPartition.Update().Where(settlementpartition.ID(p.ID), settlementpartition.Worker(worker),
		settlementpartition.StatusEQ(settlementpartition.StatusRUNNING)).
		SetLeaseUntil(time.Now().UTC().Add(r.cfg.Lease)).AddMembers(len(results)).AddTierChanges(len(changes)).Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return errLostLease
	}
	if len(scores) > 0 {
		err := tx.MemberScore.CreateBulk(scores...).OnConflictColumns(memberscore.FieldMemberID).
			Update(func(u *ent.MemberScoreUpsert) {
				u.UpdateSettled().UpdatePeriod().UpdateSettledAt().UpdateBreakdown().UpdateCountedThrough().UpdateAccountPointsCounted().
					UpdateSettlementRun()
			}).Exec(ctx)
		if err != nil {
			return err
		}
	}
	for to, ids := range moves {
		if err := tx.Member.Update().Where(member.IDIn(ids...)).SetTierID(to).Exec(ctx); err != nil {
			return err
		}
	}
	if len(changes) > 0 {
		if err := tx.TierChange.CreateBulk(changes...).OnConflictColumns(tierchange.FieldMemberID, tierchange.FieldPeriod, tierchange.FieldRun).DoNothing().Exec(ctx); err != nil {
			return err
		}
	}
	if err := outbox.Write(ctx, tx, told); err != nil {
		return err
	}
	if len(gifts) > 0 {
		return tx.TierGift.CreateBulk(gifts...).OnConflictColumns(tiergift.FieldMemberID, tiergift.FieldTierID, tiergift.FieldYear).DoNothing().Exec(ctx)
	}
	return nil
}

// DeliverGifts pays the upgrade gifts settlements owe: the points through the ledger and the
// coupons as benefit claims, each gift in one transaction under the member's lock, so a gift
// is delivered once however many workers deliver. It returns how many it delivered; a gift
// that cannot be delivered is logged and left pending.
func (s *Service) DeliverGifts(ctx context.Context, programID int) (int, error) {
	ctx = auth.SystemContext(ctx, programID)
	prog, err := s.client.Program.Get(ctx, programID)
	if err != nil {
		return 0, err
	}
	ladder, err := tier.Load(ctx, s.client)
	if err != nil {
		return 0, err
	}
	catalogue, err := s.client.Benefit.Query().All(ctx)
	if err != nil {
		return 0, err
	}
	benefits := map[string]int{}
	for _, b := range catalogue {
		benefits[b.Key] = b.ID
	}
	delivered, cursor := 0, 0
	for {
		gifts, err := s.client.TierGift.Query().Where(tiergift.StatusEQ(tiergift.StatusPENDING), tiergift.IDGT(cursor)).
			Order(ent.Asc(tiergift.FieldID)).Limit(200).All(ctx)
		if err != nil || len(gifts) == 0 {
			return delivered, err
		}
		for _, g := range gifts {
			cursor = g.ID
			ok, err := s.deliver(ctx, prog, ladder, benefits, g)
			if err != nil {
				if ctx.Err() != nil {
					return delivered, ctx.Err()
				}
				s.cfg.Logger.Error("upgrade gift not delivered", "gift", g.ID, "member", g.MemberID, "err", err)
				continue
			}
			if ok {
				delivered++
			}
		}
	}
}

func (s *Service) deliver(ctx context.Context, prog *ent.Program, ladder tier.Ladder, benefits map[string]int, g *ent.TierGift) (bool, error) {
	var ok bool
	err := s.ledger.WithTx(ctx, func(tx *ent.Tx) error {
		b, err := s.ledger.Open(ctx, tx, prog, g.MemberID)
		if err != nil {
			return err
		}
		n, err := tx.TierGift.Update().Where(tiergift.ID(g.ID), tiergift.StatusEQ(tiergift.StatusPENDING)).
			SetStatus(tiergift.StatusGRANTED).SetGrantedAt(b.Now).Save(ctx)
		if ok = n == 1; err != nil || !ok {
			return err // !ok: another worker delivered it
		}
		name := fmt.Sprint(g.TierID)
		if t := ladder.ByID(g.TierID); t != nil {
			name = t.Name
		}
		if g.Points > 0 {
			_, err := b.Credit(ctx, points.Grant{Kind: pointentry.KindTIER_GIFT, Amount: g.Points, Funding: points.FundPlatform,
				Description: fmt.Sprintf("Upgrade gift: reached %s in %d", name, g.Year)}, b.Now, nil)
			if err != nil {
				return err
			}
		}
		for _, key := range g.Benefits {
			id, found := benefits[key]
			if !found {
				return fmt.Errorf("gift benefit %q is not in the catalogue", key)
			}
			err := tx.BenefitClaim.Create().SetProgramID(prog.ID).SetMemberID(g.MemberID).SetBenefitID(id).
				SetIdempotencyKey(fmt.Sprintf("tier-gift:%d:%s", g.ID, key)).SetPeriod("").
				SetSource(benefitclaim.SourceTIER_GIFT).SetClaimedAt(b.Now).Exec(ctx)
			if err != nil {
				return err
			}
		}
		return nil
	})
	return ok, err
}

// SettleAll settles the latest period of every programme for the members not yet settled
// for it (all of them on the 1st; those who joined since later on), and delivers gifts left
// pending (by a crash between a settlement and its delivery).
func (s *Service) SettleAll(ctx context.Context) error {
	progs, err := s.client.Program.Query().All(auth.SystemContext(ctx, 0))
	if err != nil {
		return err
	}
	for _, p := range progs {
		period, err := s.LatestPeriod(p)
		if err != nil {
			return err
		}
		due, err := s.due(ctx, p.ID, period)
		if err != nil {
			return fmt.Errorf("programme %s, period %s: %w", p.Key, period, err)
		}
		if due {
			began := s.clock.Now()
			st, err := s.Settle(ctx, p.ID, period)
			if err != nil {
				return fmt.Errorf("programme %s, period %s: %w", p.Key, period, err)
			}
			if st.FinishedAt != nil && !st.FinishedAt.Before(began) { // this run finished it
				s.cfg.Logger.Info("scores settled", "program", p.Key, "period", period.String(), "run", st.Run,
					"members", st.Members, "tierChanges", st.TierChanges)
			}
		}
		if _, err := s.DeliverGifts(ctx, p.ID); err != nil {
			return err
		}
	}
	return nil
}

// due reports whether period's settlement has work: it is not DONE, or members joined
// since it was.
func (s *Service) due(ctx context.Context, programID int, period formula.Month) (bool, error) {
	ctx = auth.SystemContext(ctx, programID)
	st, err := s.client.Settlement.Query().Where(settlement.Period(int(period))).Only(ctx)
	if ent.IsNotFound(err) {
		return true, nil
	}
	if err != nil || st.Status != settlement.StatusDONE {
		return err == nil, err
	}
	return s.client.Member.Query().Where(unsettled(period)).Exist(ctx)
}

// RunSettlement runs SettleAll now and then every interval until ctx ends: the in-server
// monthly job, which also settles the members who joined since within an interval. A period
// with nobody left to settle costs two queries; every server runs the job, and their runs
// share the partitions.
func (s *Service) RunSettlement(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.SettleAll(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("score settlement failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// TierChange is the change of a tier.changed outbox message: the tiers by key (From empty
// for a member's first tier), UP or DOWN, and the settled score and period that decided it.
type TierChange struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Direction string `json:"direction"`
	Score     int64  `json:"score"`
	Period    string `json:"period"`
}

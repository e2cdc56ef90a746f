package score

import (
	"context"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/settlement"
	"github.com/membergraph/membergraph/internal/audit"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/score/formula"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/usererr"
)

// UpdateRules replaces the viewer's programme's score settings (mode, window, weights,
// coefficient) after validating them, and audits the change. The next settlement uses them.
func (s *Service) UpdateRules(ctx context.Context, sr rules.Score) (rules.Score, error) {
	if err := sr.Validate(); err != nil {
		return rules.Score{}, usererr.New(usererr.InvalidArgument, "input", "%v", err)
	}
	v, _ := auth.FromContext(ctx)
	err := store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
		prog, err := tx.Program.Get(ctx, v.ProgramID)
		if err != nil {
			return err
		}
		before := prog.Rules.ScoreRules()
		r := prog.Rules
		r.Score = sr
		if err := tx.Program.UpdateOne(prog).SetRules(r).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.clock.Now(), "updateScoreRules", before, sr)
	})
	return sr, err
}

// SettleWithin starts a run of period's settlement for the viewer's programme (a Resettle
// when resettle is set, else a Settle) and waits up to wait for it: a small programme gets
// its DONE settlement back, a large one the RUNNING settlement, which goes on in the
// background (and is joined, not repeated, by a second call). period 0 means LatestPeriod.
func (s *Service) SettleWithin(ctx context.Context, period formula.Month, resettle bool, wait time.Duration) (*ent.Settlement, error) {
	v, _ := auth.FromContext(ctx)
	if period == 0 {
		prog, err := s.client.Program.Get(ctx, v.ProgramID)
		if err != nil {
			return nil, err
		}
		if period, err = s.LatestPeriod(prog); err != nil {
			return nil, err
		}
	}
	type result struct {
		st  *ent.Settlement
		err error
	}
	done := make(chan result, 1)
	go func() {
		bg := context.WithoutCancel(ctx)
		st, err := s.settle(bg, v.ProgramID, period, resettle)
		if err == nil {
			_, err = s.DeliverGifts(bg, v.ProgramID)
		}
		if err != nil {
			s.cfg.Logger.Error("settlement failed", "period", period.String(), "err", err)
		}
		done <- result{st, err}
	}()
	select {
	case r := <-done:
		return r.st, r.err
	case <-time.After(wait):
		return s.client.Settlement.Query().Where(settlement.Period(int(period))).Only(auth.SystemContext(ctx, v.ProgramID))
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

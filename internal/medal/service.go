package medal

import (
	"context"
	"log/slog"
	"time"

	"entgo.io/ent/dialect/sql"
	"golang.org/x/sync/errgroup"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/benefit"
	"github.com/membergraph/membergraph/ent/membermedal"
	"github.com/membergraph/membergraph/ent/predicate"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/points"
)

// Service reads medals and runs their daily re-evaluation.
type Service struct {
	client *ent.Client
	ledger *points.Ledger
}

// NewService returns a Service; re-evaluation locks members through ledger, like events.
func NewService(client *ent.Client, ledger *points.Ledger) *Service {
	return &Service{client: client, ledger: ledger}
}

// Status is one medal as a member sees it.
type Status struct {
	Medal   *ent.Medal
	Level   int   // 0 when not earned
	Current int64 // yuan or count over the window
	// NextLevelAt is the value of the next level; nil at level 5.
	NextLevelAt *int64
	// Benefits are those of the levels reached.
	Benefits []*ent.Benefit
}

// Of lists every medal of the catalogue for m, earned or not, with its progress. It costs
// three queries whatever the catalogue's size: the catalogue, the benefits, and the
// progress (category spend and counts).
func (s *Service) Of(ctx context.Context, prog *ent.Program, m *ent.Member) ([]Status, error) {
	cat, err := Load(ctx, s.client)
	if err != nil {
		return nil, err
	}
	catalogue, err := s.client.Benefit.Query().Order(ent.Asc(benefit.FieldKey)).All(ctx)
	if err != nil {
		return nil, err
	}
	return s.OfCatalogue(ctx, prog, m, cat, catalogue)
}

// OfCatalogue is Of with the programme's medal and benefit catalogues given, as a reader
// that holds them already (the API's per-programme cache) has them: one query, the progress.
func (s *Service) OfCatalogue(ctx context.Context, prog *ent.Program, m *ent.Member, cat Catalogue, catalogue []*ent.Benefit) ([]Status, error) {
	loc, err := points.Location(prog.TimeZone)
	if err != nil {
		return nil, err
	}
	benefits := map[string]*ent.Benefit{}
	for _, b := range catalogue {
		benefits[b.Key] = b
	}
	from, to := Window(s.ledger.Clock().Now(), loc)
	vals, _, err := values(ctx, s.client.CategoryMonth, []int{m.ID}, from, to, nil)
	if err != nil {
		return nil, err
	}
	out := make([]Status, len(cat))
	for i, md := range cat {
		st := Status{Medal: md, Current: vals[m.ID][md.Key]}
		st.Level = Level(md.Thresholds, st.Current)
		if st.Level < len(md.Thresholds) {
			st.NextLevelAt = &md.Thresholds[st.Level]
		}
		for l := 0; l < st.Level && l < len(md.LevelBenefits); l++ {
			for _, k := range md.LevelBenefits[l] {
				if b := benefits[k]; b != nil {
					st.Benefits = append(st.Benefits, b)
				}
			}
		}
		out[i] = st
	}
	return out, nil
}

// Leaders pages through the members holding a medal, highest level first: the category
// teams' high-value members.
func (s *Service) Leaders(key string) *ent.MemberMedalQuery {
	return s.client.MemberMedal.Query().Where(membermedal.MedalKey(key), membermedal.LevelGT(0))
}

// chunk is how many medal holders the re-evaluation reads at once.
const chunk = 500

// Reevaluate lowers (or raises) the stored levels of the programme's medal holders with ids
// in [lo, hi] to what their last 12 months hold now: the daily job that lets old activity
// fall out of the window. A member whose levels moved is re-evaluated under its lock, in its
// own transaction, so concurrent runs and events never record a change twice. It returns
// how many levels changed.
func (s *Service) Reevaluate(ctx context.Context, programID, lo, hi int) (int, error) {
	ctx = auth.SystemContext(ctx, programID)
	prog, err := s.client.Program.Get(ctx, programID)
	if err != nil {
		return 0, err
	}
	loc, err := points.Location(prog.TimeZone)
	if err != nil {
		return 0, err
	}
	cat, err := Load(ctx, s.client)
	if err != nil {
		return 0, err
	}
	changed, cursor := 0, lo-1
	for {
		rows, err := s.client.MemberMedal.Query().Where(predicate.MemberMedal(sql.FieldGT(membermedal.FieldMemberID, cursor)),
			predicate.MemberMedal(sql.FieldLTE(membermedal.FieldMemberID, hi)),
			membermedal.LevelGT(0)).Order(ent.Asc(membermedal.FieldMemberID)).Limit(chunk).All(ctx)
		if err != nil || len(rows) == 0 {
			return changed, err
		}
		held := map[int]map[string]int{}
		var ids []int
		for _, r := range rows {
			if held[r.MemberID] == nil {
				held[r.MemberID] = map[string]int{}
				ids = append(ids, r.MemberID)
			}
			held[r.MemberID][r.MedalKey] = r.Level
		}
		if len(rows) == chunk && len(ids) > 1 {
			ids = ids[:len(ids)-1] // the last member may have rows beyond the chunk
		}
		cursor = ids[len(ids)-1]
		now := s.ledger.Clock().Now()
		from, to := Window(now, loc)
		vals, _, err := values(ctx, s.client.CategoryMonth, ids, from, to, nil)
		if err != nil {
			return changed, err
		}
		for _, id := range ids {
			var stale []string
			for key, level := range held[id] {
				if m := cat.ByKey(key); m != nil && Level(m.Thresholds, vals[id][key]) != level {
					stale = append(stale, key)
				}
			}
			if len(stale) == 0 {
				continue
			}
			err := s.ledger.WithTx(ctx, func(tx *ent.Tx) error {
				b, err := s.ledger.Open(ctx, tx, prog, id)
				if err != nil {
					return err
				}
				n, err := Evaluate(ctx, tx, cat, programID, id, b.Now, loc, stale)
				changed += n
				return err
			})
			if err != nil {
				return changed, err
			}
		}
	}
}

// ReevaluateAll runs Reevaluate over every programme, each split into workers member
// ranges run side by side.
func (s *Service) ReevaluateAll(ctx context.Context, workers int) (int, error) {
	progs, err := s.client.Program.Query().All(auth.SystemContext(ctx, 0))
	if err != nil {
		return 0, err
	}
	total := 0
	for _, p := range progs {
		sys := auth.SystemContext(ctx, p.ID)
		var agg []struct{ Min, Max *int }
		if err := s.client.MemberMedal.Query().Aggregate(ent.Min(membermedal.FieldMemberID), ent.Max(membermedal.FieldMemberID)).Scan(sys, &agg); err != nil {
			return total, err
		}
		if len(agg) == 0 || agg[0].Min == nil {
			continue
		}
		lo, hi := *agg[0].Min, *agg[0].Max
		width := (hi-lo)/workers + 1
		counts := make([]int, workers)
		g, gctx := errgroup.WithContext(ctx)
		for w := range workers {
			g.Go(func() error {
				n, err := s.Reevaluate(gctx, p.ID, lo+w*width, min(lo+(w+1)*width-1, hi))
				counts[w] = n
				return err
			})
		}
		err := g.Wait()
		for _, n := range counts {
			total += n
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// RunReevaluation runs ReevaluateAll now and then every interval until ctx ends.
func (s *Service) RunReevaluation(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.ReevaluateAll(ctx, 2)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("medal re-evaluation failed", "err", err)
		case n > 0:
			logger.Info("medal levels re-evaluated", "changes", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

package events

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/points"
)

// CatalogueTTL is Config.CatalogueTTL's default. It bounds how long a batch may be decided with a programme's rules, medal
// catalogue and benefit ids read by this process after someone else changed them (another
// replica, the CLI): changes made through this process's client drop the cached copy when
// they commit, so the next batch reads them again. It is the query cache's bound
// (graph.CatalogueTTL): across replicas a change reaches ingestion when it reaches the API.
const CatalogueTTL = 5 * time.Second

// batchEnv is what every slice of a batch shares, read once before any transaction (and
// kept for the programme's next batches, see catalogues). Read-only once made.
type batchEnv struct {
	gen      uint64
	read     time.Time
	prog     *ent.Program
	loc      *time.Location
	medals   medal.Catalogue
	benefits map[string]int // benefit key → id, for the medal levels' grants
}

// catalogues caches each programme's batchEnv: the three reads it takes (programme, medals,
// benefits) were three of a batch's twenty statements, the same for every batch.
type catalogues struct {
	gen *atomic.Uint64 // the client's, moved by every committed catalogue change
	mu  sync.Mutex
	by  map[int]*batchEnv
}

// gens holds one generation counter per client, hooked into its mutations once however
// many services share the client (the model tests make one per sequence).
var gens sync.Map // *ent.Client → *atomic.Uint64

func newCatalogues(client *ent.Client) *catalogues {
	gen := new(atomic.Uint64)
	if prev, loaded := gens.LoadOrStore(client, gen); loaded {
		gen = prev.(*atomic.Uint64)
	} else {
		client.Use(invalidate(gen))
	}
	return &catalogues{gen: gen, by: map[int]*batchEnv{}}
}

// invalidate moves gen when a programme, medal or benefit row changes: at once, and again
// when its transaction commits, so that a copy read while the transaction was open (the old
// rows) is dropped too.
func invalidate(gen *atomic.Uint64) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			switch m.Type() {
			case ent.TypeProgram, ent.TypeMedal, ent.TypeBenefit:
			default:
				return v, err
			}
			gen.Add(1)
			if in, ok := m.(interface{ Tx() (*ent.Tx, error) }); ok {
				if tx, txErr := in.Tx(); txErr == nil {
					tx.OnCommit(func(next ent.Committer) ent.Committer {
						return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
							defer gen.Add(1)
							return next.Commit(ctx, tx)
						})
					})
				}
			}
			return v, err
		})
	}
}

// env is programID's batchEnv, read again when it changed or is older than CatalogueTTL.
func (s *Service) env(ctx context.Context, programID int) (*batchEnv, error) {
	c := s.catalogues
	gen := c.gen.Load()
	c.mu.Lock()
	env := c.by[programID]
	c.mu.Unlock()
	if env != nil && env.gen == gen && time.Since(env.read) < s.cfg.CatalogueTTL {
		return env, nil
	}
	env = &batchEnv{gen: gen, read: time.Now()}
	var err error
	if env.prog, err = s.client.Program.Get(ctx, programID); err != nil {
		return nil, err
	}
	if env.loc, err = points.Location(env.prog.TimeZone); err != nil {
		return nil, fmt.Errorf("programme %s: %w", env.prog.Key, err)
	}
	if env.medals, err = medal.Load(ctx, s.client); err != nil {
		return nil, err
	}
	if env.benefits, err = s.benefitIDs(ctx, env.medals); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if old := c.by[programID]; old == nil || old.gen <= gen {
		c.by[programID] = env
	}
	c.mu.Unlock()
	return env, nil
}

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
	"github.com/membergraph/membergraph/internal/program"
)

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

func newCatalogues(client *ent.Client) *catalogues {
	return &catalogues{gen: program.Generation(client), by: map[int]*batchEnv{}}
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

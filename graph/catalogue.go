package graph

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/benefit"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/tier"
)

// catalogue is what every member of a programme shares and a profile read would otherwise
// read per request: the programme (its rules), the tier ladder with its benefits, the medal
// catalogue and the benefit catalogue (by key). Programme data is readable by every viewer of
// the programme (rule.ProgramDataPolicy), so one copy serves every role. Read-only once made.
type catalogue struct {
	gen      uint64
	read     time.Time
	program  *ent.Program
	ladder   tier.Ladder
	medals   medal.Catalogue
	benefits []*ent.Benefit
}

// catalogues caches each programme's catalogue for queries. gen moves after every committed
// change to a programme, tier, medal or benefit row made through the client (an ent hook),
// and a catalogue read under an older gen is not used again.
type catalogues struct {
	client   *ent.Client
	programs *program.Service
	gen      *atomic.Uint64 // the client's catalogue generation (program.Generation)
	mu       sync.Mutex
	by       map[int]*catalogue
}

func newCatalogues(client *ent.Client, programs *program.Service) *catalogues {
	return &catalogues{client: client, programs: programs, gen: program.Generation(client), by: map[int]*catalogue{}}
}

// of is the catalogue of the viewer's programme, read again when it changed or is older than
// program.CatalogueTTL.
func (c *catalogues) of(ctx context.Context) (*catalogue, error) {
	v, _ := auth.FromContext(ctx)
	gen := c.gen.Load()
	c.mu.Lock()
	cat := c.by[v.ProgramID]
	c.mu.Unlock()
	if cat != nil && cat.gen == gen && time.Since(cat.read) < program.CatalogueTTL {
		return cat, nil
	}
	cat = &catalogue{gen: gen, read: time.Now()}
	var err error
	if cat.program, err = c.programs.Current(ctx); err != nil {
		return nil, err
	}
	if cat.ladder, err = tier.Load(ctx, c.client); err != nil {
		return nil, err
	}
	if cat.medals, err = medal.Load(ctx, c.client); err != nil {
		return nil, err
	}
	if cat.benefits, err = c.client.Benefit.Query().Order(ent.Asc(benefit.FieldKey)).All(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if old := c.by[v.ProgramID]; old == nil || old.gen <= gen {
		c.by[v.ProgramID] = cat
	}
	c.mu.Unlock()
	return cat, nil
}

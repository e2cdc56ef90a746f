package program

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/membergraph/membergraph/ent"
)

// CatalogueTTL bounds how long a cache of a programme's catalogue (its rules, tiers, medals
// and benefits) may be used after someone else changed it (another replica, the CLI): this
// process's own changes move Generation when they commit, so its next read sees them. The
// API's queries and event ingestion share the bound, so across replicas a change reaches
// ingestion when it reaches the API.
const CatalogueTTL = 5 * time.Second

// generations holds one counter per client, hooked into its mutations once however many
// services and handlers share the client (the model tests make one per sequence).
var generations sync.Map // *ent.Client → *atomic.Uint64

// Generation is client's catalogue generation: it moves when a programme, tier, medal or
// benefit row changes through client, at once and again when the change's transaction
// commits, so a copy read while the transaction was open (the old rows) is dropped too. A
// cache keeps the generation it read under and reads again when it has moved.
func Generation(client *ent.Client) *atomic.Uint64 {
	gen := new(atomic.Uint64)
	if prev, loaded := generations.LoadOrStore(client, gen); loaded {
		return prev.(*atomic.Uint64)
	}
	client.Use(moveOnChange(gen))
	return gen
}

func moveOnChange(gen *atomic.Uint64) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			switch m.Type() {
			case ent.TypeProgram, ent.TypeTier, ent.TypeMedal, ent.TypeBenefit:
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

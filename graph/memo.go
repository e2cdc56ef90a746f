package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/tier"
)

// memo holds what every member of a query's answer shares, read once per query instead of
// once per field and member: the viewer's programme and its tier ladder. Mutations get none,
// so a mutation never answers from what it has just changed.
type memo struct {
	mu      sync.Mutex
	program *ent.Program
	ladder  tier.Ladder
}

type memoKey struct{}

// withMemo gives each query operation its memo.
func withMemo(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if oc := graphql.GetOperationContext(ctx); oc != nil && oc.Operation != nil && oc.Operation.Operation == ast.Query {
		ctx = context.WithValue(ctx, memoKey{}, &memo{})
	}
	return next(ctx)
}

// program is the viewer's programme, read once per query.
func (r *Resolver) program(ctx context.Context) (*ent.Program, error) {
	m, ok := ctx.Value(memoKey{}).(*memo)
	if !ok {
		return r.programs.Current(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.program == nil {
		p, err := r.programs.Current(ctx)
		if err != nil {
			return nil, err
		}
		m.program = p
	}
	return m.program, nil
}

// ladder is the viewer's tier ladder with its benefits, read once per query.
func (r *Resolver) ladder(ctx context.Context) (tier.Ladder, error) {
	m, ok := ctx.Value(memoKey{}).(*memo)
	if !ok {
		return tier.Load(ctx, r.client)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ladder == nil {
		l, err := tier.Load(ctx, r.client)
		if err != nil {
			return nil, err
		}
		m.ladder = l
	}
	return m.ladder, nil
}

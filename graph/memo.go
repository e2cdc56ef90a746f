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
// once per field and member: the viewer's programme catalogue (the programme, its tier
// ladder, medals and benefits), taken from the process's cache (catalogue.go) so that one
// query answers from one snapshot. Mutations get none, so a mutation never answers from what
// it has just changed.
type memo struct {
	mu  sync.Mutex
	cat *catalogue
}

type memoKey struct{}

// withMemo gives each query operation its memo.
func withMemo(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if oc := graphql.GetOperationContext(ctx); oc != nil && oc.Operation != nil && oc.Operation.Operation == ast.Query {
		ctx = context.WithValue(ctx, memoKey{}, &memo{})
	}
	return next(ctx)
}

// catalogue is the query's snapshot of the viewer's programme catalogue; nil outside a query.
func (r *Resolver) catalogue(ctx context.Context) (*catalogue, error) {
	m, ok := ctx.Value(memoKey{}).(*memo)
	if !ok {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cat == nil {
		c, err := r.catalogues.of(ctx)
		if err != nil {
			return nil, err
		}
		m.cat = c
	}
	return m.cat, nil
}

// program is the viewer's programme: a query's snapshot, or read now in a mutation.
func (r *Resolver) program(ctx context.Context) (*ent.Program, error) {
	c, err := r.catalogue(ctx)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return r.programs.Current(ctx)
	}
	return c.program, nil
}

// ladder is the viewer's tier ladder with its benefits: a query's snapshot, or read now.
func (r *Resolver) ladder(ctx context.Context) (tier.Ladder, error) {
	c, err := r.catalogue(ctx)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return tier.Load(ctx, r.client)
	}
	return c.ladder, nil
}

// withTier gives a member read in a query its tier from the query's ladder, so that
// Member.tier costs no statement of its own (ent's edge answers from Edges.Tier when set).
func (r *Resolver) withTier(ctx context.Context, m *ent.Member, err error) (*ent.Member, error) {
	if err != nil || m == nil {
		return m, err
	}
	c, err := r.catalogue(ctx)
	if err != nil || c == nil {
		return m, err
	}
	m.Edges.Tier = c.ladder.ByID(m.TierID)
	return m, nil
}

package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/membergraph/membergraph/graph/model"
	"github.com/membergraph/membergraph/internal/auth"
)

// authDirective implements @auth(requires: [Role!]!). Row-level rules still apply beneath
// it (ent/schema/rule); this only keeps roles away from operations not meant for them.
func authDirective(ctx context.Context, _ any, next graphql.Resolver, requires []model.Role) (any, error) {
	v, ok := auth.FromContext(ctx)
	if !ok {
		return nil, gqlErr(ctx, CodeUnauthenticated, "authentication required")
	}
	for _, r := range requires {
		if v.Is(auth.Role(r)) {
			return next(ctx)
		}
	}
	return nil, gqlErr(ctx, CodeForbidden, "this field is not available to a "+string(v.Role)+" token")
}

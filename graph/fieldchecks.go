package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// fieldChecks is the field middleware: refuseOversizedInput around refuseMalformedInput
// around paginate, the order they had as three AroundFields (the last registered runs
// outermost), run only for the fields they can concern — a mutation, or a field that takes
// arguments. gqlgen calls field middleware for every field of an answer, each of a profile's
// 26 medals' scalars too, and every registered middleware costs closures per field; a field
// neither paged, sized nor a mutation goes straight to its value (issue 14, profile read).
// Fields that read a struct field without arguments do not even call it: generated.go sends
// them through resolvePlainField (graph/internal/inorder), which counts on this pass-through;
// a field middleware that must see every field would need that rewrite taken out.
func fieldChecks(schema *ast.Schema) graphql.FieldMiddleware {
	oversized := refuseOversizedInput(schema)
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc != nil && fc.Object != "Mutation" && len(fc.Field.Arguments) == 0 &&
			(fc.Field.Definition == nil || len(fc.Field.Definition.Arguments) == 0) {
			return next(ctx)
		}
		return oversized(ctx, func(ctx context.Context) (any, error) {
			return refuseMalformedInput(ctx, func(ctx context.Context) (any, error) {
				return paginate(ctx, next)
			})
		})
	}
}

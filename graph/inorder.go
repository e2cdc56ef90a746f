package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// marshalInOrder is graphql.MarshalSliceConcurrently without the goroutines, for the lists of
// objects with no resolver beneath them (graph/internal/inorder puts it in generated.go):
// each element gets the same field context with its index, a panic is recovered into the
// element's error and turns the list into null, as there, after every element has run.
func marshalInOrder(ctx context.Context, length int, _ int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	ret := make(graphql.Array, length)
	failed := false
	for i := range length {
		idx := i
		childCtx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &idx})
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(childCtx, graphql.Recover(childCtx, r))
					failed = true
				}
			}()
			ret[i] = marshalElement(childCtx, i)
		}()
	}
	if failed {
		return nil
	}
	return ret
}

package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
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

// resolvePlainField is graphql.ResolveField for a field that reads a struct field of its
// object and takes no argument (graph/internal/inorder puts it in generated.go for those):
// the same field context, recovery, null and type checks, without the field middleware
// chain, which for such a field is fieldChecks passing it straight through (fieldchecks.go) —
// per field a closure chain, on a profile's 26 medals about two hundred of them. A field with
// arguments or directives still takes gqlgen's path.
func resolvePlainField[T any](ctx context.Context, oc *graphql.OperationContext, field graphql.CollectedField,
	initializeFieldContext func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error),
	fieldResolver func(ctx context.Context) (any, error),
	middlewareChain func(ctx context.Context, next graphql.Resolver) graphql.Resolver,
	marshal func(ctx context.Context, sel ast.SelectionSet, v T) graphql.Marshaler,
	recoverFromPanic bool, nonNull bool) (ret graphql.Marshaler) {
	// fieldChecks' own test for the fields it lets through (no Mutation field is a struct's).
	if middlewareChain != nil || len(field.Arguments) > 0 || field.Definition != nil && len(field.Definition.Arguments) > 0 {
		return graphql.ResolveField(ctx, oc, field, initializeFieldContext, fieldResolver, middlewareChain, marshal, recoverFromPanic, nonNull)
	}
	fc, err := initializeFieldContext(ctx, field)
	if err != nil {
		return graphql.Null
	}
	ctx = graphql.WithFieldContext(ctx, fc)
	if recoverFromPanic {
		defer func() {
			if r := recover(); r != nil {
				oc.Error(ctx, oc.Recover(ctx, r))
				ret = graphql.Null
			}
		}()
	}
	res, err := fieldResolver(ctx)
	if err != nil {
		oc.Error(ctx, graphql.AddFieldLocationToError(ctx, err))
		return graphql.Null
	}
	if res == nil {
		if nonNull && !graphql.HasFieldError(ctx, fc) {
			oc.Errorf(ctx, "must not be null")
		}
		return graphql.Null
	}
	v, ok := res.(T)
	if !ok {
		var t T
		oc.Errorf(ctx, `unexpected type %T from middleware/directive chain, should be %T`, res, t)
		return graphql.Null
	}
	fc.Result = v
	return marshal(ctx, field.Selections, v)
}

package graph

import (
	"context"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/membergraph/membergraph/graph/model"
	"github.com/membergraph/membergraph/graph/scalar"
	"github.com/membergraph/membergraph/internal/usererr"
)

// mutationPayloads maps each mutation whose payload carries userErrors to the payload's Go
// type, read off MutationResolver so that a new mutation needs no entry.
var mutationPayloads = func() map[string]reflect.Type {
	userErrors := reflect.TypeOf([]*model.UserError(nil))
	t := reflect.TypeOf((*MutationResolver)(nil)).Elem()
	m := map[string]reflect.Type{}
	for i := range t.NumMethod() {
		meth := t.Method(i)
		out := meth.Type.Out(0)
		if out.Kind() != reflect.Pointer || out.Elem().Kind() != reflect.Struct {
			continue
		}
		if f, ok := out.Elem().FieldByName("UserErrors"); ok && f.Type == userErrors {
			m[strings.ToLower(meth.Name)] = out.Elem()
		}
	}
	return m
}()

// deferInputErrors lets a mutation with userErrors read its whole input even when a value
// in it is malformed (see scalar.Deferred); refuseMalformedInput then answers for it.
func deferInputErrors(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	oc := graphql.GetOperationContext(ctx)
	rfc := graphql.GetRootFieldContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Mutation || rfc == nil {
		return next(ctx)
	}
	if _, ok := mutationPayloads[strings.ToLower(rfc.Field.Name)]; !ok {
		return next(ctx)
	}
	ctx, _ = scalar.WithDeferred(ctx)
	return next(ctx)
}

// refuseMalformedInput answers a mutation whose input held malformed values with a payload
// of INVALID_ARGUMENT userErrors naming each, and does not run it.
func refuseMalformedInput(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	d := scalar.DeferredFrom(ctx)
	if d == nil || fc == nil || fc.Object != "Mutation" {
		return next(ctx)
	}
	refused := d.Refusals()
	typ, ok := mutationPayloads[strings.ToLower(fc.Field.Name)]
	if len(refused) == 0 || !ok {
		return next(ctx)
	}
	ue := make([]*model.UserError, len(refused))
	for i, r := range refused {
		// below the mutation itself: input, …
		ue[i] = &model.UserError{Field: fieldNames(r.Path[1:]), Message: r.Err.Reason, Code: model.UserErrorCode(usererr.InvalidArgument)}
	}
	return refuseInput(ctx, fc, typ, ue)
}

// refuseInput answers mutation fc with a payload (of Go type typ) holding only ue, without
// running it.
func refuseInput(ctx context.Context, fc *graphql.FieldContext, typ reflect.Type, ue []*model.UserError) (any, error) {
	p := reflect.New(typ)
	p.Elem().FieldByName("UserErrors").Set(reflect.ValueOf(ue))
	return behindAuth(ctx, fc, func(context.Context) (any, error) { return p.Interface(), nil })
}

// behindAuth answers for field fc with refuse once the field's @auth admits the caller.
// Field middleware runs outside the field's directives: a role that may not use the field
// learns FORBIDDEN, not what was wrong with its input.
func behindAuth(ctx context.Context, fc *graphql.FieldContext, refuse graphql.Resolver) (any, error) {
	if dir := fc.Field.Definition.Directives.ForName("auth"); dir != nil {
		var roles []model.Role
		list, _ := dir.ArgumentMap(nil)["requires"].([]any)
		for _, r := range list {
			s, _ := r.(string)
			roles = append(roles, model.Role(s))
		}
		return authDirective(ctx, nil, refuse, roles)
	}
	return refuse(ctx)
}

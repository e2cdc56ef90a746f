package graph

import (
	"context"
	"fmt"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Page sizes of every connection.
const (
	MaxPageSize     = 100
	DefaultPageSize = 20
)

// paginate enforces the page-size rules on every field that takes first/last: negative or
// above MaxPageSize is refused, and a page with neither gets DefaultPageSize. It runs before
// the resolver, so no connection can forget it.
func paginate(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Definition == nil || fc.Field.Definition.Arguments.ForName("first") == nil {
		return next(ctx)
	}
	first, _ := fc.Args["first"].(*int)
	last, _ := fc.Args["last"].(*int)
	for name, n := range map[string]*int{"first": first, "last": last} {
		if n != nil && (*n < 0 || *n > MaxPageSize) {
			e := gqlErr(ctx, CodeBadUserInput, fmt.Sprintf("argument %s: must be between 0 and %d, got %d", name, MaxPageSize, *n))
			e.Extensions["argument"] = name
			return nil, e
		}
	}
	if first == nil && last == nil {
		n := DefaultPageSize
		before, _ := fc.Args["before"].(*entgql.Cursor[int])
		after, _ := fc.Args["after"].(*entgql.Cursor[int])
		if before != nil && after == nil {
			fc.Args["last"] = &n
		} else {
			fc.Args["first"] = &n
		}
	}
	return next(ctx)
}

// pageComplexity is the cost of a connection field: its page size times the cost of one
// item, so that aliasing many large pages exceeds the complexity limit.
func pageComplexity(child int, first, last *int) int {
	n := DefaultPageSize
	switch {
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	if n < 1 {
		n = 1
	}
	return 1 + n*child
}

// depthLimit refuses operations nested deeper than Max levels; introspection fields are not
// counted, so GraphiQL's schema query passes.
type depthLimit struct{ Max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, 0, map[string]bool{}); depth > d.Max {
		return &gqlerror.Error{
			Message:    fmt.Sprintf("operation is %d levels deep, more than the limit of %d", depth, d.Max),
			Extensions: map[string]any{"code": "DEPTH_LIMIT_EXCEEDED"},
		}
	}
	return nil
}

func selectionDepth(set ast.SelectionSet, depth int, visiting map[string]bool) int {
	deepest := depth
	for _, s := range set {
		var d int
		switch s := s.(type) {
		case *ast.Field:
			if len(s.Name) > 1 && s.Name[:2] == "__" {
				continue
			}
			d = selectionDepth(s.SelectionSet, depth+1, visiting)
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, depth, visiting)
		case *ast.FragmentSpread:
			// Validation has refused fragment cycles already; the guard keeps this safe
			// for documents it has not seen.
			if s.Definition == nil || visiting[s.Name] {
				continue
			}
			visiting[s.Name] = true
			d = selectionDepth(s.Definition.SelectionSet, depth, visiting)
			delete(visiting, s.Name)
		}
		if d > deepest {
			deepest = d
		}
	}
	return deepest
}

// noIntrospection refuses schema introspection in production with a clear error before the
// operation runs (gqlgen would otherwise fail each field with an unclassified error).
type noIntrospection struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = noIntrospection{}

func (noIntrospection) ExtensionName() string                   { return "NoIntrospection" }
func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }
func (noIntrospection) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	for _, s := range oc.Operation.SelectionSet {
		if f, ok := s.(*ast.Field); ok && (f.Name == "__schema" || f.Name == "__type") {
			return &gqlerror.Error{Message: "introspection is disabled on this server", Extensions: map[string]any{"code": "INTROSPECTION_DISABLED"}}
		}
	}
	return nil
}

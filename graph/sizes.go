package graph

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/membergraph/membergraph/graph/model"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Bounds of free-form input, for every argument of every field at any depth. The domain's
// rules are tighter for most values (an externalId is at most 64 characters, a batch 500
// events); these bound what reaches them at all, and what a value no rule reads, such as a
// partner claim's params, can make the server keep.
const (
	MaxInputStringBytes = 1024 // any string, e.g. a ConfigEntryInput value
	MaxInputListItems   = 1000 // any list
	MaxEntryKeyBytes    = 64   // a ConfigEntryInput key (claim params, a partner's configuration)
	MaxInputEntries     = 50   // a list of ConfigEntryInput (claimPartnerBenefit takes at most 20)
	maxSizeRefusals     = 10   // a refusal names at most this many values
)

// entryType is the input type of free-form key/value pairs.
const entryType = "ConfigEntryInput"

// oversize is one value beyond its bound and where it is, from the argument down.
type oversize struct {
	path   ast.Path
	reason string
}

// sizeCheck walks argument values as sent (the document's literals with the variables put
// in) along their types in the schema, so each input field is named as the schema names it.
type sizeCheck struct {
	schema *ast.Schema
	found  []oversize
}

// oversized lists the values of a field's arguments beyond their bounds, in the order of the
// schema's arguments and input fields.
func oversized(schema *ast.Schema, f *ast.Field, vars map[string]any) []oversize {
	if f.Definition == nil {
		return nil
	}
	c := sizeCheck{schema: schema}
	values := f.ArgumentMap(vars)
	for _, arg := range f.Definition.Arguments {
		if v, ok := values[arg.Name]; ok {
			c.value(ast.Path{ast.PathName(arg.Name)}, arg.Type, v, MaxInputStringBytes)
		}
	}
	return c.found
}

func (c *sizeCheck) refuse(path ast.Path, format string, args ...any) {
	if len(c.found) < maxSizeRefusals {
		c.found = append(c.found, oversize{append(ast.Path(nil), path...), fmt.Sprintf(format, args...)})
	}
}

// value checks v of type t; maxString is the bound of a string in this place.
func (c *sizeCheck) value(path ast.Path, t *ast.Type, v any, maxString int) {
	if len(c.found) >= maxSizeRefusals || t == nil {
		return
	}
	switch v := v.(type) {
	case string:
		if len(v) > maxString {
			c.refuse(path, "at most %d bytes, got %d", maxString, len(v))
		}
	case []any:
		elem := t.Elem
		if elem == nil {
			elem = t // a list given where one value is expected: validation refuses it
		}
		limit := MaxInputListItems
		if elem.Name() == entryType {
			limit = MaxInputEntries
		}
		if len(v) > limit {
			c.refuse(path, "at most %d items, got %d", limit, len(v))
			return
		}
		for i, item := range v {
			c.value(append(path, ast.PathIndex(i)), elem, item, maxString)
		}
	case map[string]any:
		def := c.schema.Types[t.Name()]
		if def == nil || def.Kind != ast.InputObject {
			return
		}
		for _, f := range def.Fields {
			fv, ok := v[f.Name]
			if !ok {
				continue
			}
			limit := MaxInputStringBytes
			if def.Name == entryType && f.Name == "key" {
				limit = MaxEntryKeyBytes
			}
			c.value(append(path, ast.PathName(f.Name)), f.Type, fv, limit)
		}
	}
}

// refuseOversizedInput refuses a field whose arguments hold a value beyond the bounds above,
// before its resolver runs, so nothing of it is stored. A mutation with userErrors answers
// INVALID_ARGUMENT naming each value (input.params.0.value); any other field fails with
// BAD_USER_INPUT naming the first.
func refuseOversizedInput(schema *ast.Schema) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc == nil || len(fc.Field.Arguments) == 0 {
			return next(ctx)
		}
		found := oversized(schema, fc.Field.Field, graphql.GetOperationContext(ctx).Variables)
		if len(found) == 0 {
			return next(ctx)
		}
		if typ, ok := mutationPayloads[strings.ToLower(fc.Field.Name)]; ok && fc.Object == "Mutation" {
			ue := make([]*model.UserError, len(found))
			for i, o := range found {
				ue[i] = &model.UserError{Field: fieldNames(o.path), Message: o.reason, Code: model.UserErrorCode(usererr.InvalidArgument)}
			}
			return refuseInput(ctx, fc, typ, ue)
		}
		return behindAuth(ctx, fc, func(ctx context.Context) (any, error) {
			return nil, badArgument(ctx, strings.Join(fieldNames(found[0].path), "."), errors.New(found[0].reason))
		})
	}
}

// fieldNames spells a path below a field as userErrors' field does: ["input", "params", "0"].
func fieldNames(p ast.Path) []string {
	field := []string{}
	for _, el := range p {
		switch el := el.(type) {
		case ast.PathName:
			field = append(field, string(el))
		case ast.PathIndex:
			field = append(field, strconv.Itoa(int(el)))
		}
	}
	return field
}

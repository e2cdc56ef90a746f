package graph

import (
	"context"
	"fmt"
	"strings"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// Codes of the document limits (extensions.code), beside gqlgen's COMPLEXITY_LIMIT_EXCEEDED;
// the schema's ErrorCode enum documents them.
const (
	CodeSelectionLimit = "SELECTION_LIMIT_EXCEEDED" // more selections than ServerConfig.SelectionLimit
	CodeMutationLimit  = "MUTATION_LIMIT_EXCEEDED"  // more mutation fields than ServerConfig.MutationLimit
	CodeDepthLimit     = "DEPTH_LIMIT_EXCEEDED"     // nested deeper than ServerConfig.DepthLimit
)

// Defaults of ServerConfig's document limits (serve's --selection-limit, --mutation-limit,
// --complexity-limit, --depth-limit). A legitimate document selects a few hundred fields at
// most, GraphiQL's schema query about 150; a request runs a handful of mutations.
const (
	DefaultSelectionLimit  = 5000
	DefaultMutationLimit   = 10
	DefaultComplexityLimit = 5000
	DefaultDepthLimit      = 12
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
	w := depthWalk{fragments: map[string]int{}, visiting: map[string]bool{}}
	if depth := w.set(oc.Operation.SelectionSet, 0); depth > d.Max {
		return &gqlerror.Error{
			Message:    fmt.Sprintf("operation is %d levels deep, more than the limit of %d", depth, d.Max),
			Extensions: map[string]any{"code": CodeDepthLimit},
		}
	}
	return nil
}

// depthWalk finds an operation's depth, each fragment's own depth measured once: a spread
// at depth d reaches d plus its fragment's depth, wherever it is.
type depthWalk struct {
	fragments map[string]int
	visiting  map[string]bool
}

func (w *depthWalk) set(set ast.SelectionSet, depth int) int {
	deepest := depth
	for _, s := range set {
		var d int
		switch s := s.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue
			}
			d = w.set(s.SelectionSet, depth+1)
		case *ast.InlineFragment:
			d = w.set(s.SelectionSet, depth)
		case *ast.FragmentSpread:
			d = depth + w.fragment(s)
		}
		deepest = max(deepest, d)
	}
	return deepest
}

func (w *depthWalk) fragment(s *ast.FragmentSpread) int {
	if d, ok := w.fragments[s.Name]; ok {
		return d
	}
	// Validation has refused fragment cycles already; the guard keeps this safe for
	// documents it has not seen.
	if s.Definition == nil || w.visiting[s.Name] {
		return 0
	}
	w.visiting[s.Name] = true
	d := w.set(s.Definition.SelectionSet, 0)
	delete(w.visiting, s.Name)
	w.fragments[s.Name] = d
	return d
}

// selectionLimit refuses a document that selects more than Max fields, inline fragments and
// fragment spreads once every spread is expanded, before gqlgen validates it. Validation,
// the complexity and depth limits and execution all walk the expanded tree, and fragments
// that each spread the one before twice double it per level: 26 of them, 1 KB of query,
// cost 13 s of CPU before the complexity limit refused them. The count itself sizes each
// fragment once, so it costs what parsing costs.
type selectionLimit struct {
	Max int
	// validated holds the documents gqlgen has validated, which all passed this limit
	// (the same Max) already: a repeated query is not parsed twice.
	validated graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = selectionLimit{}

func (selectionLimit) ExtensionName() string                   { return "SelectionLimit" }
func (selectionLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (l selectionLimit) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if _, ok := l.validated.Get(ctx, p.Query); ok {
		return nil
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: p.Query})
	if err != nil {
		return nil // gqlgen parses it again and answers GRAPHQL_PARSE_FAILED
	}
	return checkSelections(doc, l.Max)
}

// checkSelections is selectionLimit's verdict on a parsed, not yet validated document.
func checkSelections(doc *ast.QueryDocument, limit int) *gqlerror.Error {
	c := selectionCount{max: limit, fragments: map[string]*ast.FragmentDefinition{}, size: map[string]int{}, onPath: map[string]bool{}}
	for _, f := range doc.Fragments {
		if c.fragments[f.Name] == nil {
			c.fragments[f.Name] = f
		}
	}
	total := 0
	for _, op := range doc.Operations {
		total = c.add(total, c.set(op.SelectionSet))
	}
	// Validation walks every fragment, also one no operation spreads (which it then
	// refuses) and a second of the same name.
	for _, f := range doc.Fragments {
		switch {
		case c.fragments[f.Name] != f:
			total = c.add(total, c.set(f.SelectionSet))
		default:
			total = c.add(total, c.fragment(f.Name, true))
		}
	}
	if c.cycle != "" {
		return &gqlerror.Error{
			Message:    fmt.Sprintf("Cannot spread fragment %q within itself.", c.cycle),
			Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"},
		}
	}
	if total > limit {
		return &gqlerror.Error{
			Message: fmt.Sprintf("the document selects more than %d fields, inline fragments and fragment spreads "+
				"once its fragments are expanded (the limit); select less or spread each fragment fewer times", limit),
			Extensions: map[string]any{"code": CodeSelectionLimit},
		}
	}
	return nil
}

// selectionCount sizes selection sets with fragments expanded. Sizes saturate just above
// max, so no document can overflow them, and a walk stops as soon as it is over.
type selectionCount struct {
	max       int
	fragments map[string]*ast.FragmentDefinition
	size      map[string]int // the expanded size of each fragment sized so far
	onPath    map[string]bool
	cycle     string // a fragment found spreading itself
}

func (c *selectionCount) add(a, b int) int { return min(a+b, c.max+1) }

func (c *selectionCount) set(set ast.SelectionSet) int {
	n := 0
	for _, s := range set {
		n = c.add(n, 1)
		switch s := s.(type) {
		case *ast.Field:
			n = c.add(n, c.set(s.SelectionSet))
		case *ast.InlineFragment:
			n = c.add(n, c.set(s.SelectionSet))
		case *ast.FragmentSpread:
			n = c.add(n, c.fragment(s.Name, false))
		}
		if n > c.max {
			break
		}
	}
	return n
}

// fragment is the expanded size of a spread of the named fragment. A fragment is sized once;
// after that a spread of it costs nothing to count. With unspread, it is 0 for a fragment
// sized already (every spread of it has been counted) and the size of one never spread.
func (c *selectionCount) fragment(name string, unspread bool) int {
	if n, ok := c.size[name]; ok {
		if unspread {
			return 0
		}
		return n
	}
	f := c.fragments[name]
	if f == nil {
		return 0 // validation names the unknown fragment
	}
	if c.onPath[name] {
		c.cycle = name
		return c.max + 1
	}
	c.onPath[name] = true
	n := c.set(f.SelectionSet)
	delete(c.onPath, name)
	c.size[name] = n
	return n
}

// mutationLimit refuses an operation that runs more than Max mutation fields (aliases of one
// mutation count each): every one is a write with its own transaction, and a single request
// should not queue an unbounded number of them.
type mutationLimit struct{ Max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = mutationLimit{}

func (mutationLimit) ExtensionName() string                   { return "MutationLimit" }
func (mutationLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (l mutationLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Mutation {
		return nil
	}
	// Collected as the executor will run them: a field selected twice under one response
	// name runs once, @skip and @include are applied.
	if n := len(graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Mutation"})); n > l.Max {
		return &gqlerror.Error{
			Message:    fmt.Sprintf("the operation runs %d mutations, more than the limit of %d per request; send them in several requests", n, l.Max),
			Extensions: map[string]any{"code": CodeMutationLimit},
		}
	}
	return nil
}

// rulesWithoutSuggestions are gqlparser's default rules with each one that would add "Did
// you mean …" (for an argument, type, enum value or input field) swapped in place for its
// variant that does not, so that in production an error tells nothing of the schema beyond
// what the document named. The rule for fields gqlgen swaps itself (SetDisableSuggestion).
func rulesWithoutSuggestions() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, swap := range [][2]core.Rule{
		{rules.KnownArgumentNamesRule, rules.KnownArgumentNamesRuleWithoutSuggestions},
		{rules.KnownTypeNamesRule, rules.KnownTypeNamesRuleWithoutSuggestions},
		{rules.ScalarLeafsRule, rules.ScalarLeafsRuleWithoutSuggestions},
		{rules.ValuesOfCorrectTypeRule, rules.ValuesOfCorrectTypeRuleWithoutSuggestions},
	} {
		r.ReplaceRule(swap[0].Name, swap[1].RuleFunc)
	}
	return r
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

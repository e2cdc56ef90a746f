package scalar

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Deferred collects the malformed values of one mutation's input. gqlgen reads a field's
// arguments before anything else runs and drops the whole field at the first value it
// cannot read; a mutation instead answers such values as userErrors in its payload, like
// every other mistake in its input, so while a Deferred is in the context a malformed value
// is recorded here and read as its zero value, and the mutation is not run.
type Deferred struct {
	mu   sync.Mutex
	errs []Refusal
}

// Refusal is one malformed value and where it was, from the root field down, e.g.
// registerMember.input.birthday.
type Refusal struct {
	Path ast.Path
	Err  *Error
}

type deferredKey struct{}

// WithDeferred returns a context in which malformed values are collected in d.
func WithDeferred(ctx context.Context) (context.Context, *Deferred) {
	d := &Deferred{}
	return context.WithValue(ctx, deferredKey{}, d), d
}

// DeferredFrom returns the collector of ctx, or nil.
func DeferredFrom(ctx context.Context) *Deferred {
	d, _ := ctx.Value(deferredKey{}).(*Deferred)
	return d
}

// Refusals lists the values refused so far, in the order they were read.
func (d *Deferred) Refusals() []Refusal {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Refusal(nil), d.errs...)
}

// refuse reports a malformed value: to the context's collector when there is one (and the
// value reads as zero), else as the error gqlgen answers for the argument.
func refuse(ctx context.Context, e *Error) error {
	d := DeferredFrom(ctx)
	if d == nil {
		return e
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.errs = append(d.errs, Refusal{Path: graphql.GetPath(ctx), Err: e})
	return nil
}

// Package page is keyset paging for the connections the store layers serve by hand: a
// Relay request (first/after or last/before) over rows ordered newest first by an instant
// and then by id. Keys, not offsets, so a page never skips or repeats a row when rows are
// written between two requests; the id makes the order total when instants tie.
package page

import (
	"errors"
	"slices"
	"time"
)

// ErrFirstAndLast refuses a request that gives both page sizes: Relay leaves its meaning
// open, so the API does not guess.
var ErrFirstAndLast = errors.New("give first or last, not both")

// Key is a row's place in the order.
type Key struct {
	At time.Time
	ID int
}

// Request is one page: at most First rows after After, or the Last rows before Before.
type Request struct {
	After, Before *Key
	First, Last   *int
	// Total asks for the count of every row of the connection (one statement more).
	Total bool
}

// Validate refuses what no order can answer.
func (r Request) Validate() error {
	if r.First != nil && r.Last != nil {
		return ErrFirstAndLast
	}
	return nil
}

// Backward reports whether to read oldest first, as a last-n page does (Trim turns the
// rows back).
func (r Request) Backward() bool { return r.Last != nil }

// Limit is how many rows to read: one more than the page, to learn whether more follow;
// 0 for no limit.
func (r Request) Limit() int {
	switch {
	case r.First != nil:
		return *r.First + 1
	case r.Last != nil:
		return *r.Last + 1
	}
	return 0
}

// Page is a page of rows, newest first.
type Page[T any] struct {
	Items                        []T
	HasNextPage, HasPreviousPage bool
	TotalCount                   int // when Request.Total
}

// Trim cuts rows read in query order (Backward or not) down to the page. As Relay asks, a
// page after a cursor has a previous page and one before a cursor a next one.
func Trim[T any](r Request, rows []T) Page[T] {
	p := Page[T]{HasNextPage: r.Before != nil, HasPreviousPage: r.After != nil}
	switch {
	case r.Last != nil:
		if len(rows) > *r.Last {
			rows, p.HasPreviousPage = rows[:*r.Last], true
		}
		slices.Reverse(rows)
	case r.First != nil:
		if len(rows) > *r.First {
			rows, p.HasNextPage = rows[:*r.First], true
		}
	}
	p.Items = rows
	return p
}

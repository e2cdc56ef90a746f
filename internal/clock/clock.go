// Package clock is the injected source of time: business rules never call time.Now, so tests
// can run months in milliseconds.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time. Implementations are safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// System is the wall clock.
type System struct{}

// Now returns the current time in UTC.
func (System) Now() time.Time { return time.Now().UTC() }

// Offset is the wall clock moved by a fixed amount: it runs at the wall clock's pace from
// another instant. It lets a server rehearse a programme on a chosen date (the README's
// examples are written for one) while timers, leases and token lifetimes keep the wall clock.
type Offset struct{ d time.Duration }

// StartingAt returns an Offset clock that reads at now.
func StartingAt(at time.Time) Offset { return Offset{d: time.Until(at)} }

// Now returns the wall clock's time moved by the offset, in UTC.
func (o Offset) Now() time.Time { return time.Now().Add(o.d).UTC() }

// Manual is a clock that moves only when told; the zero value is not usable.
type Manual struct {
	mu  sync.Mutex
	now time.Time
}

// NewManual returns a clock standing at t.
func NewManual(t time.Time) *Manual { return &Manual{now: t.UTC()} }

// Now returns the clock's time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Advance moves the clock forward by d.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	m.mu.Unlock()
}

// Set moves the clock to t.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	m.now = t.UTC()
	m.mu.Unlock()
}

// Package activity keeps what the score and the medals count: one row of counters per member
// and programme-local month (and one per month and category for the spend), moved in the
// transaction of the events that change them (batch.go), and the account facts (real name,
// bound accounts, risk signals) that events report. A score reads a dozen rows instead of a
// year of events.
package activity

import (
	"time"

	"github.com/membergraph/membergraph/internal/events/payload"
)

// Event is an accepted event as the counters see it.
type Event struct {
	Kind       payload.Kind
	OccurredAt time.Time
	Body       payload.Body
	// Repeat: the event repeats one already counted (a second review of the same line, a
	// second check-in the same day); it is stored but adds nothing.
	Repeat bool
}

// dayBit is the bit of t's programme-local day of the month.
func dayBit(t time.Time, loc *time.Location) int64 { return 1 << (t.In(loc).Day() - 1) }

func one(b bool) int {
	if b {
		return 1
	}
	return 0
}

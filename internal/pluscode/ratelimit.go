package pluscode

import "time"

// Limit is the redemption rate limit of docs/domain.md §5 "Codes": Failures failed
// redemptions by one member within Window lock that member's redemptions for Lock, counted
// from the last of them. Refusals while locked are not failures, so a lock does not feed
// itself.
type Limit struct {
	Failures int           // default 5
	Window   time.Duration // default 1 hour
	Lock     time.Duration // default 1 hour
}

// DefaultLimit is the preset's rate limit.
var DefaultLimit = Limit{Failures: 5, Window: time.Hour, Lock: time.Hour}

// Lookback is how far back a member's failures can matter to LockedUntil; older ones may be
// forgotten.
func (l Limit) Lookback() time.Duration { return l.Window + l.Lock }

// LockedUntil is when the member's redemptions unlock given its latest failures (newest
// first, at least l.Failures of them when there are that many); the zero time when they
// are not locked at now. Locked: the l.Failures newest lie within l.Window and the newest
// is less than l.Lock ago.
func (l Limit) LockedUntil(newestFirst []time.Time, now time.Time) time.Time {
	if l.Failures <= 0 || len(newestFirst) < l.Failures {
		return time.Time{}
	}
	newest, oldest := newestFirst[0], newestFirst[l.Failures-1]
	if newest.Sub(oldest) >= l.Window {
		return time.Time{}
	}
	until := newest.Add(l.Lock)
	if !now.Before(until) {
		return time.Time{}
	}
	return until
}

// Package amount holds the bounds of every amount the platform takes or keeps (points and
// cents) and the checked arithmetic on them, so that no sum or product silently wraps.
//
// Every bound lies below GraphQL's 32-bit Int (2^31−1), the type the API carries amounts
// in, and so far below 2^53, the largest integer a JavaScript client holds exactly: an
// amount accepted is one every client can read back. docs/domain.md §2 "Bounds" lists them.
package amount

import (
	"errors"
	"math"
	"math/bits"
	"strings"

	"github.com/membergraph/membergraph/internal/usererr"
)

const (
	// MaxCents bounds money in cents: one order line's paidCents, an order's settlement
	// amount (orderAmountCents, and the sum of a completed order's lines), a price or a
	// reported partner amount. ¥10,000,000: beyond it the commerce side has a bug.
	MaxCents int64 = 1_000_000_000
	// MaxPoints bounds the points of one operation: a spend, an adjustment (either way),
	// a store or partner grant, a budget's funding, what one event earns.
	MaxPoints int64 = 1_000_000_000
	// MaxBalance bounds what an account holds: a member's points (and debt), a store's or
	// a partner's budget in total. A credit that would take a balance beyond it is refused.
	MaxBalance int64 = 2_000_000_000
	// MaxInt is GraphQL's Int: a signed 32-bit integer (the spec's bound, which the API
	// enforces on every Int it reads).
	MaxInt int64 = math.MaxInt32
)

// ErrOverflow: a result does not fit in an int64.
var ErrOverflow = errors.New("amount overflows")

// Add is a+b, or ErrOverflow.
func Add(a, b int64) (int64, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, ErrOverflow
	}
	return s, nil
}

// Sum adds vs, or returns ErrOverflow.
func Sum(vs ...int64) (int64, error) {
	var s int64
	var err error
	for _, v := range vs {
		if s, err = Add(s, v); err != nil {
			return 0, err
		}
	}
	return s, nil
}

// Mul is a·b, or ErrOverflow.
func Mul(a, b int64) (int64, error) {
	if a == 0 || b == 0 {
		return 0, nil
	}
	p := a * b
	if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, ErrOverflow
	}
	return p, nil
}

// MulDiv is ⌊a·b/c⌋ for a, b ≥ 0 and c > 0, exact through a 128-bit product, so a rate
// applied to an amount never wraps on the way; ErrOverflow when the quotient does not fit
// or an operand is out of its domain.
func MulDiv(a, b, c int64) (int64, error) {
	if a < 0 || b < 0 || c <= 0 {
		return 0, ErrOverflow
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) { // the quotient would not fit in 64 bits (and Div64 would panic)
		return 0, ErrOverflow
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	if q > math.MaxInt64 {
		return 0, ErrOverflow
	}
	return int64(q), nil
}

// Within reports whether lo ≤ v ≤ hi.
func Within(v, lo, hi int64) bool { return lo <= v && v <= hi }

// CheckPoints refuses at field a number of points outside least..MaxPoints: least is 1
// for what only adds or only takes, −MaxPoints for an adjustment either way.
func CheckPoints(errs *usererr.List, field string, n, least int64) {
	if !Within(n, least, MaxPoints) {
		errs.Add(usererr.InvalidArgument, field, "points must be %d to %d, got %d", least, MaxPoints, n)
	}
}

// CheckCents refuses at field an amount of money outside least..MaxCents.
func CheckCents(errs *usererr.List, field string, cents, least int64) {
	if !Within(cents, least, MaxCents) {
		errs.Add(usererr.InvalidArgument, field, "%s must be %d to %d cents (¥%d), got %d",
			field[strings.LastIndexByte(field, '.')+1:], least, MaxCents, MaxCents/100, cents)
	}
}

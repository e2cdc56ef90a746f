package amount

import (
	"errors"
	"math"
	"testing"
)

func TestCheckedArithmetic(t *testing.T) {
	for _, c := range []struct {
		name    string
		got     func() (int64, error)
		want    int64
		overflo bool
	}{
		{"add", func() (int64, error) { return Add(2, 3) }, 5, false},
		{"add overflows", func() (int64, error) { return Add(math.MaxInt64, 1) }, 0, true},
		{"add underflows", func() (int64, error) { return Add(math.MinInt64, -1) }, 0, true},
		{"sum", func() (int64, error) { return Sum(1, 2, 3) }, 6, false},
		{"sum overflows", func() (int64, error) { return Sum(math.MaxInt64/2, math.MaxInt64/2, 2) }, 0, true},
		{"mul", func() (int64, error) { return Mul(-4, 5) }, -20, false},
		{"mul overflows", func() (int64, error) { return Mul(1<<32, 1<<31) }, 0, true},
		{"mul min by -1", func() (int64, error) { return Mul(math.MinInt64, -1) }, 0, true},
		// The quote: 1,844,674,407,370,956 cents · 50 % · 100 points/¥ / 10,000 wraps
		// an int64 product but not the 128-bit one.
		{"muldiv past int64 product", func() (int64, error) { return MulDiv(1844674407370956, 50*100, 10000) }, 922337203685478, false},
		{"muldiv quotient too big", func() (int64, error) { return MulDiv(math.MaxInt64, 4, 2) }, 0, true},
		{"muldiv negative", func() (int64, error) { return MulDiv(-1, 4, 2) }, 0, true},
		{"muldiv zero divisor", func() (int64, error) { return MulDiv(1, 4, 0) }, 0, true},
	} {
		got, err := c.got()
		if c.overflo != errors.Is(err, ErrOverflow) || got != c.want {
			t.Errorf("%s: %d, %v; want %d, overflow %v", c.name, got, err, c.want, c.overflo)
		}
	}
}

func TestBoundsFitGraphQLInt(t *testing.T) {
	for name, b := range map[string]int64{"MaxCents": MaxCents, "MaxPoints": MaxPoints, "MaxBalance": MaxBalance} {
		if b > MaxInt || b >= 1<<53 {
			t.Errorf("%s = %d does not fit GraphQL's Int", name, b)
		}
	}
}

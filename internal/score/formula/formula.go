// Package formula is the member score (京享值) of docs/domain.md §4 as a pure function: counters
// go in, the score and each dimension's share come out. Settlement, the provisional score
// and the what-if all call it, and the data model stores its Breakdown, so a member sees
// exactly how the number was made.
package formula

import (
	"fmt"
	"math/bits"
	"time"

	"github.com/membergraph/membergraph/internal/rules"
)

// Month is a month key, YYYYMM, in the programme's time zone.
type Month int

// MonthOf is the programme-local month of t.
func MonthOf(t time.Time, loc *time.Location) Month {
	l := t.In(loc)
	return Month(l.Year()*100 + int(l.Month()))
}

// Add moves m by n months (n may be negative).
func (m Month) Add(n int) Month {
	i := int(m)/100*12 + int(m)%100 - 1 + n
	return Month(i/12*100 + i%12 + 1)
}

// Year of the month.
func (m Month) Year() int { return int(m) / 100 }

// Start is the first instant of the month in loc.
func (m Month) Start(loc *time.Location) time.Time {
	return time.Date(int(m)/100, time.Month(int(m)%100), 1, 0, 0, 0, 0, loc)
}

// Valid reports whether m names a real month.
func (m Month) Valid() bool { return m >= 190001 && m <= 999912 && int(m)%100 >= 1 && int(m)%100 <= 12 }

// Days counts the days of a month's day bit set (bit d-1: day d), as the counters keep
// purchase and login days.
func Days(mask int64) int64 { return int64(bits.OnesCount64(uint64(mask))) }

// Counts are activity counters summed over some months.
type Counts struct {
	SpendCents      int64 `json:"spendCents"`
	Orders          int64 `json:"orders"`          // completed and not refunded in full
	CompletedOrders int64 `json:"completedOrders"` // every completed order
	RefundedOrders  int64 `json:"refundedOrders"`  // orders with at least one refunded line
	PurchaseDays    int64 `json:"purchaseDays"`
	LoginDays       int64 `json:"loginDays"`
	Reviews         int64 `json:"reviews"`
	PhotoReviews    int64 `json:"photoReviews"`
	Answers         int64 `json:"answers"`
	Shares          int64 `json:"shares"`
}

// Plus adds o to c.
func (c Counts) Plus(o Counts) Counts {
	return Counts{
		SpendCents: c.SpendCents + o.SpendCents, Orders: c.Orders + o.Orders, CompletedOrders: c.CompletedOrders + o.CompletedOrders,
		RefundedOrders: c.RefundedOrders + o.RefundedOrders, PurchaseDays: c.PurchaseDays + o.PurchaseDays,
		LoginDays: c.LoginDays + o.LoginDays, Reviews: c.Reviews + o.Reviews, PhotoReviews: c.PhotoReviews + o.PhotoReviews,
		Answers: c.Answers + o.Answers, Shares: c.Shares + o.Shares,
	}
}

// Account is what the account, reputation and credit dimensions look at.
type Account struct {
	RealNameVerified bool `json:"realNameVerified"`
	BoundAccounts    int  `json:"boundAccounts"`
	// Reputation and Credit are the latest risk signals (0–100); nil when none came.
	Reputation *int `json:"reputation"`
	Credit     *int `json:"credit"`
}

// Breakdown is a score with how it was made.
type Breakdown struct {
	Counts  Counts  `json:"counts"`
	Account Account `json:"account"`
	// Consumption, Activity and AccountPoints are each dimension's points before the
	// coefficient.
	Consumption   int64 `json:"consumption"`
	Activity      int64 `json:"activity"`
	AccountPoints int64 `json:"accountPoints"`
	// RefundPermille is the share of completed orders with a refund, in thousandths.
	RefundPermille int64 `json:"refundPermille"`
	// CoefficientPercent multiplies the raw sum (100 = 1.0).
	CoefficientPercent int64 `json:"coefficientPercent"`
	Score              int64 `json:"score"`
}

// Raw is the sum of the dimensions before the coefficient.
func (b Breakdown) Raw() int64 { return b.Consumption + b.Activity + b.AccountPoints }

// Compute is the growth formula: round((consumption + activity + account) × coefficient).
func Compute(s rules.Score, c Counts, a Account) Breakdown {
	w := s.Weights
	b := Breakdown{Counts: c, Account: a}
	b.Consumption = max(0, c.SpendCents/100*w.SpendYuan+c.Orders*w.Order+c.PurchaseDays*w.PurchaseDay)
	b.Activity = max(0, c.LoginDays*w.LoginDay+c.Reviews*w.Review+c.PhotoReviews*w.PhotoReview+c.Answers*w.Answer+c.Shares*w.Share)
	b.AccountPoints = AccountPoints(w, a)
	if c.CompletedOrders > 0 {
		b.RefundPermille = min(1000, c.RefundedOrders*1000/c.CompletedOrders)
	}
	b.CoefficientPercent = CoefficientPercent(s.Coefficient, a, b.RefundPermille)
	b.Score = Apply(b.Raw(), b.CoefficientPercent)
	return b
}

// AccountPoints is the account dimension: real-name verification and bound accounts.
func AccountPoints(w rules.ScoreWeights, a Account) int64 {
	var p int64
	if a.RealNameVerified {
		p += w.RealName
	}
	return p + int64(min(max(a.BoundAccounts, 0), w.BoundAccountMax))*w.BoundAccount
}

// CoefficientPercent is the multiplier for a member: a reputation or credit signal below the
// risk line sets the risk coefficient; otherwise the first band the member meets, or
// ordinary. A member without signals is ordinary.
func CoefficientPercent(c rules.Coefficient, a Account, refundPermille int64) int64 {
	if a.Reputation != nil && *a.Reputation < c.RiskBelow || a.Credit != nil && *a.Credit < c.RiskBelow {
		return c.RiskPercent
	}
	if a.Reputation == nil || a.Credit == nil {
		return c.OrdinaryPercent
	}
	for _, b := range c.Bands {
		if *a.Reputation >= b.MinReputation && *a.Credit >= b.MinCredit && refundPermille <= b.MaxRefundPermille {
			return b.Percent
		}
	}
	return c.OrdinaryPercent
}

// Apply multiplies raw by percent/100, rounding half up, in integers.
func Apply(raw, percent int64) int64 {
	if raw <= 0 {
		return 0
	}
	return (raw*percent + 50) / 100
}

// String is the month as YYYY-MM.
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", int(m)/100, int(m)%100) }

// ParseMonth reads YYYY-MM.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a month of the form YYYY-MM", s)
	}
	return Month(t.Year()*100 + int(t.Month())), nil
}

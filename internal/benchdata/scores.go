// Package benchdata bulk-loads synthetic programmes for the benchmarks of docs/benchmarks.md
// with plain multi-row INSERTs, bypassing the services: a million members with a year of
// activity counters load in minutes, where the event path would take hours.
package benchdata

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/score/formula"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/tier"
)

// batch is how many members one transaction loads.
const batch = 1000

// ScoreSeed describes a load.
type ScoreSeed struct {
	ProgramID int
	Members   int
	// Period is the settlement the data is made for: every member has counters for the 13
	// months before it and a score settled for the month before, with the tier that score
	// set, as after last month's settlement.
	Period formula.Month
	Seed   uint64
	// Prefix starts every externalId, so several loads can share a programme.
	Prefix string
}

// Loaded is what a load wrote.
type Loaded struct {
	Members, Months int
	// Expected is how many members each tier key should hold after Period's settlement.
	Expected map[string]int
}

// Scores loads s into db.
func Scores(ctx context.Context, db *store.DB, s ScoreSeed) (Loaded, error) {
	ctx = auth.SystemContext(ctx, s.ProgramID)
	prog, err := db.Client.Program.Get(ctx, s.ProgramID)
	if err != nil {
		return Loaded{}, err
	}
	ladder, err := tier.Load(ctx, db.Client)
	if err != nil {
		return Loaded{}, err
	}
	sr := prog.Rules.ScoreRules()
	rng := rand.New(rand.NewPCG(s.Seed, 0x5c0e))
	out := Loaded{Expected: map[string]int{}}
	now := s.Period.Start(time.UTC).Add(-time.Hour)
	for done := 0; done < s.Members; done += batch {
		n := min(batch, s.Members-done)
		ms := make([]synthetic, n)
		for i := range ms {
			ms[i] = generate(rng, s.Period)
			prev := formula.Compute(sr, sum(ms[i].months, s.Period.Add(-13), s.Period.Add(-2)), ms[i].account)
			ms[i].prevScore, ms[i].prevTier = prev.Score, ladder.For(prev.Score)
			next := formula.Compute(sr, sum(ms[i].months, s.Period.Add(-12), s.Period.Add(-1)), ms[i].account)
			out.Expected[ladder.For(next.Score).Key]++
			out.Months += len(ms[i].months)
		}
		if err := load(ctx, db, s, done, ms, now); err != nil {
			return out, err
		}
		out.Members += n
	}
	return out, nil
}

// synthetic is one generated member.
type synthetic struct {
	account   formula.Account
	months    map[formula.Month]month
	prevScore int64
	prevTier  *ent.Tier
}

type month struct {
	spend                            int64
	orders                           int
	purchaseDays, loginDays          int64
	reviews, photos, answers, shares int
}

// generate draws a member: an engagement level from a skewed distribution (most members
// buy a little, few buy a lot, as in a real base) and 13 months of activity around it.
func generate(rng *rand.Rand, period formula.Month) synthetic {
	level := math.Exp(rng.NormFloat64()*0.9 + 5.2) // yuan a month, median ~180
	m := synthetic{months: map[formula.Month]month{},
		account: formula.Account{RealNameVerified: rng.IntN(10) < 7, BoundAccounts: rng.IntN(3)}}
	for k := 1; k <= 13; k++ {
		if rng.Float64() > 0.75 {
			continue // an idle month
		}
		var mo month
		mo.orders = 1 + rng.IntN(4)
		mo.spend = int64(level*(0.5+rng.Float64())) * 100
		for range mo.orders {
			mo.purchaseDays |= 1 << rng.IntN(28)
		}
		for range rng.IntN(20) {
			mo.loginDays |= 1 << rng.IntN(28)
		}
		mo.reviews, mo.photos, mo.answers, mo.shares = rng.IntN(mo.orders+1), rng.IntN(2), rng.IntN(3), rng.IntN(3)
		m.months[period.Add(-k)] = mo
	}
	return m
}

func sum(ms map[formula.Month]month, from, to formula.Month) formula.Counts {
	var c formula.Counts
	for k, m := range ms {
		if k < from || k > to {
			continue
		}
		c = c.Plus(formula.Counts{SpendCents: m.spend, Orders: int64(m.orders), CompletedOrders: int64(m.orders),
			PurchaseDays: formula.Days(m.purchaseDays), LoginDays: formula.Days(m.loginDays), Reviews: int64(m.reviews),
			PhotoReviews: int64(m.photos), Answers: int64(m.answers), Shares: int64(m.shares)})
	}
	return c
}

// load writes one batch in one transaction: members, their accounts, last month's scores
// and their counters.
func load(ctx context.Context, db *store.DB, s ScoreSeed, offset int, ms []synthetic, now time.Time) error {
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ts := now.UTC().Format("2006-01-02 15:04:05.000000")
	rows := make([][]any, len(ms))
	for i, m := range ms {
		bound := "null"
		if m.account.BoundAccounts > 0 {
			bound = `["WECHAT"]`
			if m.account.BoundAccounts > 1 {
				bound = `["WECHAT","QQ"]`
			}
		}
		rows[i] = []any{s.ProgramID, fmt.Sprintf("%s%07d", s.Prefix, offset+i), "APP", ts, m.account.RealNameVerified, bound, ts, m.prevTier.ID}
	}
	first, err := insert(ctx, tx, db.Dialect, "members",
		[]string{"program_id", "external_id", "registration_channel", "registered_at", "real_name_verified", "bound_accounts", "updated_at", "tier_id"}, rows)
	if err != nil {
		return err
	}
	accounts, scores := make([][]any, len(ms)), make([][]any, len(ms))
	var months [][]any
	for i, m := range ms {
		id := first + int64(i)
		accounts[i] = []any{s.ProgramID, id}
		scores[i] = []any{s.ProgramID, id, m.prevScore, int(s.Period.Add(-1)), ts}
		for k, mo := range m.months {
			months = append(months, []any{s.ProgramID, id, int(k), mo.spend, mo.orders, mo.orders, mo.purchaseDays, mo.loginDays,
				mo.reviews, mo.photos, mo.answers, mo.shares})
		}
	}
	if _, err := insert(ctx, tx, db.Dialect, "point_accounts", []string{"program_id", "member_id"}, accounts); err != nil {
		return err
	}
	if _, err := insert(ctx, tx, db.Dialect, "member_scores", []string{"program_id", "member_id", "settled", "period", "settled_at"}, scores); err != nil {
		return err
	}
	for len(months) > 0 {
		n := min(len(months), 2000)
		if _, err := insert(ctx, tx, db.Dialect, "activity_months", []string{"program_id", "member_id", "month", "spend_cents", "orders",
			"completed_orders", "purchase_days", "login_days", "reviews", "photo_reviews", "answers", "shares"}, months[:n]); err != nil {
			return err
		}
		months = months[n:]
	}
	return tx.Commit()
}

// insert writes rows in one statement and returns the id of the first: MySQL reports the
// first id of a multi-row insert (consecutive within one statement), SQLite the last.
func insert(ctx context.Context, tx *sql.Tx, dialectName, table string, cols []string, rows [][]any) (int64, error) {
	ph := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, strings.Join(cols, ", "))
	args := make([]any, 0, len(rows)*len(cols))
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(ph)
		args = append(args, r...)
	}
	res, err := tx.ExecContext(ctx, b.String(), args...)
	if err != nil {
		return 0, fmt.Errorf("loading %s: %w", table, err)
	}
	id, err := res.LastInsertId()
	if dialectName == dialect.SQLite {
		id -= int64(len(rows) - 1)
	}
	return id, err
}

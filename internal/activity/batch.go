package activity

import (
	"cmp"
	"context"
	"slices"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/activitymonth"
	"github.com/membergraph/membergraph/ent/categorymonth"
	"github.com/membergraph/membergraph/ent/memberscore"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/score/formula"
)

// The counters are moved set-based, as ingestion applies a batch slice at once: the rows of
// the months a slice touches are read once (LoadMonths), moved in memory by Tally and
// TallyRefund, and written back with one statement (SaveMonths); category spend and risk
// signals are written with one statement each.

// MonthKey names one member's month of counters.
type MonthKey struct {
	MemberID int
	Month    formula.Month
}

// Counters are one month's counters of a member.
type Counters struct {
	SpendCents                      int64
	Orders, Completed, Refunded     int
	PurchaseDays, LoginDays         int64
	Reviews, Photos, Answers, Share int
	CheckIns                        int
	// Stored: the row exists; moved: the batch changed it.
	stored, moved bool
}

// Tally moves c, the counters of ev's programme-local month, for an accepted event other
// than a refund. It reports false for the kinds that move no counter.
func Tally(c *Counters, ev Event, loc *time.Location) bool {
	day := dayBit(ev.OccurredAt, loc)
	switch ev.Kind {
	case payload.OrderCompleted:
		for _, l := range ev.Body.Lines {
			c.SpendCents += l.PaidCents
		}
		c.Orders++
		c.Completed++
		c.PurchaseDays |= day
	case payload.Login, payload.AppOpened:
		c.LoginDays |= day
	case payload.ReviewPosted:
		c.Reviews += one(!ev.Repeat)
	case payload.PhotoReviewPosted:
		c.Photos += one(!ev.Repeat)
	case payload.QuestionAnswered:
		c.Answers++
	case payload.ProductShared:
		c.Share++
	case payload.CheckIn:
		c.CheckIns += one(!ev.Repeat)
	default:
		return false
	}
	c.moved = true
	return true
}

// Order is a completed order as the refund counters see it, with the skus refunded so far.
type Order struct {
	OccurredAt time.Time
	Lines      []payload.Line
	Refunded   []string
}

// FullyRefunded reports whether every line of lines is among refunded.
func FullyRefunded(lines []payload.Line, refunded []string) bool {
	for _, l := range lines {
		if !slices.Contains(refunded, l.SKU) {
			return false
		}
	}
	return true
}

// TallyRefund moves c, the counters of the order's month, for a refund of skus: sameDay are
// the member's other orders completed the same programme-local day. It returns the refunded
// lines, whose category spend falls.
func TallyRefund(c *Counters, order Order, skus []string, sameDay []Order, loc *time.Location) []payload.Line {
	var refunded []payload.Line
	for _, l := range order.Lines {
		if slices.Contains(skus, l.SKU) {
			c.SpendCents -= l.PaidCents
			refunded = append(refunded, l)
		}
	}
	if len(order.Refunded) == 0 {
		c.Refunded++
	}
	if FullyRefunded(order.Lines, append(slices.Clone(order.Refunded), skus...)) {
		c.Orders--
		standing := slices.ContainsFunc(sameDay, func(o Order) bool { return !FullyRefunded(o.Lines, o.Refunded) })
		if !standing {
			c.PurchaseDays &^= dayBit(order.OccurredAt, loc)
		}
	}
	c.moved = true
	return refunded
}

// Months are the counter rows a batch slice reads and writes.
type Months map[MonthKey]*Counters

// Row returns the counters of k, zero when the month has no row yet.
func (m Months) Row(k MonthKey) *Counters {
	c := m[k]
	if c == nil {
		c = &Counters{}
		m[k] = c
	}
	return c
}

// LoadMonths reads the counter rows of the members' months in one statement.
func LoadMonths(ctx context.Context, tx *ent.Tx, memberIDs []int, months []formula.Month) (Months, error) {
	out := Months{}
	if len(memberIDs) == 0 || len(months) == 0 {
		return out, nil
	}
	ms := make([]int, len(months))
	for i, m := range months {
		ms[i] = int(m)
	}
	rows, err := tx.ActivityMonth.Query().Where(activitymonth.MemberIDIn(memberIDs...), activitymonth.MonthIn(ms...)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[MonthKey{r.MemberID, formula.Month(r.Month)}] = &Counters{SpendCents: r.SpendCents, Orders: r.Orders,
			Completed: r.CompletedOrders, Refunded: r.RefundedOrders, PurchaseDays: r.PurchaseDays, LoginDays: r.LoginDays,
			Reviews: r.Reviews, Photos: r.PhotoReviews, Answers: r.Answers, Share: r.Shares, CheckIns: r.CheckIns, stored: true}
	}
	return out, nil
}

// SaveMonths writes the moved rows with one upsert per chunk, setting each to its value
// decided in memory (the slice holds the members' locks, so nobody moved them meanwhile).
// It is a plain multi-row statement (dialectName's) rather than ent's bulk builder, whose
// per-row mutations cost more CPU than the database spends on the rows.
func SaveMonths(ctx context.Context, tx *ent.Tx, dialectName string, programID int, m Months, chunk int) error {
	keys := make([]MonthKey, 0, len(m))
	for k, c := range m {
		if c.moved {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b MonthKey) int { // a stable statement, rows in key order
		if a.MemberID != b.MemberID {
			return a.MemberID - b.MemberID
		}
		return int(a.Month - b.Month)
	})
	counters := []string{activitymonth.FieldSpendCents, activitymonth.FieldOrders, activitymonth.FieldCompletedOrders,
		activitymonth.FieldRefundedOrders, activitymonth.FieldPurchaseDays, activitymonth.FieldLoginDays,
		activitymonth.FieldReviews, activitymonth.FieldPhotoReviews, activitymonth.FieldAnswers, activitymonth.FieldShares,
		activitymonth.FieldCheckIns}
	cols := append([]string{activitymonth.FieldProgramID, activitymonth.FieldMemberID, activitymonth.FieldMonth}, counters...)
	for part := range slices.Chunk(keys, chunk) {
		b := sql.Dialect(dialectName).Insert(activitymonth.Table).Columns(cols...)
		for _, k := range part {
			c := m[k]
			b.Values(programID, k.MemberID, int(k.Month), c.SpendCents, c.Orders, c.Completed, c.Refunded, c.PurchaseDays,
				c.LoginDays, c.Reviews, c.Photos, c.Answers, c.Share, c.CheckIns)
		}
		b.OnConflict(sql.ConflictColumns(activitymonth.FieldMemberID, activitymonth.FieldMonth),
			sql.ResolveWith(func(u *sql.UpdateSet) {
				for _, col := range counters {
					u.SetExcluded(col)
				}
			}))
		query, args := b.Query()
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
	}
	return nil
}

// CategoryKey names one member's spend in a category in a month.
type CategoryKey struct {
	MemberID int
	Month    formula.Month
	Category string
}

// SaveCategories adds each key's cents to its category month, creating the rows on first
// use, with one upsert per chunk.
func SaveCategories(ctx context.Context, tx *ent.Tx, dialectName string, programID int, spend map[CategoryKey]int64, chunk int) error {
	keys := make([]CategoryKey, 0, len(spend))
	for k := range spend {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b CategoryKey) int {
		switch {
		case a.MemberID != b.MemberID:
			return a.MemberID - b.MemberID
		case a.Month != b.Month:
			return int(a.Month - b.Month)
		}
		return cmp.Compare(a.Category, b.Category)
	})
	for part := range slices.Chunk(keys, chunk) {
		b := sql.Dialect(dialectName).Insert(categorymonth.Table).Columns(categorymonth.FieldProgramID,
			categorymonth.FieldMemberID, categorymonth.FieldMonth, categorymonth.FieldCategory, categorymonth.FieldSpendCents)
		for _, k := range part {
			b.Values(programID, k.MemberID, int(k.Month), k.Category, spend[k])
		}
		b.OnConflict(sql.ConflictColumns(categorymonth.FieldMemberID, categorymonth.FieldMonth, categorymonth.FieldCategory),
			sql.ResolveWith(func(u *sql.UpdateSet) { addProposed(u, categorymonth.FieldSpendCents) }))
		query, args := b.Query()
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
	}
	return nil
}

// addProposed sets col to the row's value plus the one the insert proposed.
func addProposed(u *sql.UpdateSet, col string) {
	u.Set(col, sql.ExprFunc(func(b *sql.Builder) {
		b.Ident(u.Table().C(col)).WriteString(" + ")
		proposed(b, col)
	}))
}

// proposed writes the value the insert proposed for col, in the dialect's words.
func proposed(b *sql.Builder, col string) {
	if b.Dialect() == dialect.MySQL {
		b.WriteString("VALUES(").Ident(col).WriteString(")")
	} else {
		b.WriteString("excluded.").Ident(col)
	}
}

// Risk is the latest signals a slice's events report for one member; nil keeps the stored one.
type Risk struct{ Reputation, Credit *int }

// SaveRisk keeps the latest reputation and credit of each member on its score row, one
// upsert for all: a signal not reported keeps the stored value.
func SaveRisk(ctx context.Context, tx *ent.Tx, programID int, risks map[int]Risk) error {
	if len(risks) == 0 {
		return nil
	}
	ids := make([]int, 0, len(risks))
	for id := range risks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	bulk := make([]*ent.MemberScoreCreate, len(ids))
	for i, id := range ids {
		bulk[i] = tx.MemberScore.Create().SetProgramID(programID).SetMemberID(id).
			SetNillableReputation(risks[id].Reputation).SetNillableCredit(risks[id].Credit)
	}
	return tx.MemberScore.CreateBulk(bulk...).OnConflict(sql.ConflictColumns(memberscore.FieldMemberID),
		sql.ResolveWith(func(u *sql.UpdateSet) {
			for _, col := range []string{memberscore.FieldReputation, memberscore.FieldCredit} {
				u.Set(col, sql.ExprFunc(func(b *sql.Builder) {
					b.WriteString("COALESCE(")
					proposed(b, col)
					b.WriteString(", ").Ident(u.Table().C(col)).WriteString(")")
				}))
			}
		})).Exec(ctx)
}

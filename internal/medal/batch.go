package medal

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/benefitclaim"
	"github.com/membergraph/membergraph/ent/categorymonth"
	entmedal "github.com/membergraph/membergraph/ent/medal"
	"github.com/membergraph/membergraph/ent/medalchange"
	"github.com/membergraph/membergraph/ent/membermedal"
	"github.com/membergraph/membergraph/ent/schema/rule"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/score/formula"
)

// The set-based half of the medals, for ingestion that applies a batch slice at once: the
// progress and levels of the slice's members are read in one statement (LoadProgress),
// moved in memory as each event is decided (Add, Count, Decide — the rules of Evaluate),
// and the changes written with one statement per table (SaveChanges).

// Progress is members' progress inside the window, category spend in cents, and the levels
// they hold.
type Progress struct {
	From, To formula.Month
	Cents    map[int]map[string]int64 // member → category → cents
	Counts   map[int]map[string]int64 // member → behaviour medal → count
	Levels   map[int]map[string]int   // member → medal → level held
}

// LoadProgress reads the progress and levels of members over the window at now, in one
// statement, through tx. The statement is values' (progressArms), its first arm filtered by
// MemberDataPolicy's rule written as SQL (rule.MemberDataSQL: the rows ent's privacy would
// let the viewer read), and its rows scanned directly: ent's builder, filters and reflective
// scan of the ~1,200 rows of a 100-member slice cost more CPU than the database spent on the
// statement (docs/benchmarks.md).
func LoadProgress(ctx context.Context, tx *ent.Tx, dialectName string, cat Catalogue, members []int, now time.Time, loc *time.Location) (*Progress, error) {
	from, to := Window(now, loc)
	keys := make([]string, len(cat))
	for i, m := range cat {
		keys[i] = m.Key
	}
	may, mayArgs, err := rule.MemberDataSQL(ctx, categorymonth.Table)
	if err != nil {
		return nil, err
	}
	t := sql.Table(categorymonth.Table)
	s := sql.Dialect(dialectName).Select().From(t).Where(sql.And(sql.ExprP(may, mayArgs...),
		sql.InInts(t.C(categorymonth.FieldMemberID), members...),
		sql.GTE(t.C(categorymonth.FieldMonth), int(from)), sql.LTE(t.C(categorymonth.FieldMonth), int(to))))
	progressArms(s, members, from, to, keys)
	query, args := s.Query()
	rs, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var rows []progressRow
	for rs.Next() {
		var r progressRow
		if err := rs.Scan(&r.MemberID, &r.Src, &r.Key, &r.V0, &r.V1, &r.V2, &r.V3, &r.V4); err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	p := progressOf(members, rows)
	p.From, p.To = from, to
	return p, nil
}

func (p *Progress) in(month formula.Month) bool { return month >= p.From && month <= p.To }

// AddCents moves a member's spend in category by cents spent (or refunded) in month.
func (p *Progress) AddCents(memberID int, month formula.Month, category string, cents int64) {
	if p.in(month) {
		p.Cents[memberID][category] += cents
	}
}

// Count moves a member's count of behaviour medal key by n in month.
func (p *Progress) Count(memberID int, month formula.Month, key string, n int) {
	if p.in(month) && n != 0 {
		p.Counts[memberID][key] += int64(n)
	}
}

// Value is a member's value of m: yuan for a category, the count for a behaviour.
func (p *Progress) Value(memberID int, m *ent.Medal) int64 {
	if m.Kind == entmedal.KindBEHAVIOR {
		return p.Counts[memberID][m.Key]
	}
	return yuan(p.Cents[memberID][m.Key])
}

// Change is a level moved.
type Change struct {
	Medal    *ent.Medal
	MemberID int
	From, To int
	Value    int64
}

// Decide brings the member's levels of the medals keys up to what its progress holds, as
// Evaluate does, and returns the changes, the levels held moved with them.
func (p *Progress) Decide(cat Catalogue, memberID int, keys []string) []Change {
	var out []Change
	for _, k := range keys {
		m := cat.ByKey(k)
		if m == nil {
			continue
		}
		v := p.Value(memberID, m)
		old, level := p.Levels[memberID][k], Level(m.Thresholds, v)
		if old != level {
			p.Levels[memberID][k] = level
			out = append(out, Change{Medal: m, MemberID: memberID, From: old, To: level, Value: v})
		}
	}
	return out
}

// Reason says why the level moved, in words a member understands.
func (c Change) Reason() string {
	m := c.Medal
	unit := "yuan spent"
	if m.Kind == entmedal.KindBEHAVIOR {
		unit = "counted"
	}
	if c.To < c.From {
		return fmt.Sprintf("%s: %d %s in the last %d months is below level %d", m.Name, c.Value, unit, WindowMonths, c.From)
	}
	return fmt.Sprintf("%s: %d %s in the last %d months reaches level %d", m.Name, c.Value, unit, WindowMonths, c.To)
}

// Claim is a benefit a level reached grants, under a key that makes it once ever.
type Claim struct{ Benefit, Key string }

// Claims are the benefits of the levels a rise reaches; none for a fall.
func (c Change) Claims() []Claim {
	var out []Claim
	m := c.Medal
	for level := c.From + 1; level <= min(c.To, len(m.LevelBenefits)); level++ {
		for _, key := range m.LevelBenefits[level-1] {
			out = append(out, Claim{Benefit: key, Key: fmt.Sprintf("medal:%d:%s:%d:%s", c.MemberID, m.Key, level, key)})
		}
	}
	return out
}

// BenefitKeys are every benefit the catalogue's levels grant, to look their ids up once.
func (c Catalogue) BenefitKeys() []string {
	var keys []string
	for _, m := range c {
		for _, level := range m.LevelBenefits {
			for _, k := range level {
				if !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// SaveChanges writes changes in the order decided: each member's final level of each medal
// (one upsert), every change in the history (one insert) and the benefits of the levels
// reached (one insert that skips a claim granted before). benefits maps a benefit's key to
// its id. chunk bounds the rows of one statement. The levels and the history, a batch's
// many rows, are plain multi-row statements (dialectName's) rather than ent's bulk builders,
// whose per-row mutations cost more CPU than the database spends on the rows.
func SaveChanges(ctx context.Context, tx *ent.Tx, dialectName string, programID int, changes []Change, benefits map[string]int, now time.Time, chunk int) error {
	if len(changes) == 0 {
		return nil
	}
	type held struct {
		member int
		key    string
	}
	final := map[held]int{}
	var order []held
	var history [][]any
	var claims []*ent.BenefitClaimCreate
	for _, c := range changes {
		h := held{c.MemberID, c.Medal.Key}
		if _, ok := final[h]; !ok {
			order = append(order, h)
		}
		final[h] = c.To
		history = append(history, []any{programID, c.MemberID, c.Medal.Key, c.From, c.To, c.Reason(), now})
		for _, cl := range c.Claims() {
			id, ok := benefits[cl.Benefit]
			if !ok {
				return fmt.Errorf("benefit %q of medal %s is not in the catalogue", cl.Benefit, c.Medal.Key)
			}
			claims = append(claims, tx.BenefitClaim.Create().SetProgramID(programID).SetMemberID(c.MemberID).SetBenefitID(id).
				SetIdempotencyKey(cl.Key).SetPeriod("").SetSource(benefitclaim.SourceMEDAL).SetClaimedAt(now))
		}
	}
	slices.SortFunc(order, func(a, b held) int { // rows in key order: a stable statement
		if a.member != b.member {
			return a.member - b.member
		}
		return cmp.Compare(a.key, b.key)
	})
	for part := range slices.Chunk(order, chunk) {
		levels := sql.Dialect(dialectName).Insert(membermedal.Table).Columns(membermedal.FieldProgramID, membermedal.FieldMemberID,
			membermedal.FieldMedalKey, membermedal.FieldLevel, membermedal.FieldUpdatedAt)
		for _, h := range part {
			levels.Values(programID, h.member, h.key, final[h], now)
		}
		levels.OnConflict(sql.ConflictColumns(membermedal.FieldMemberID, membermedal.FieldMedalKey),
			sql.ResolveWith(func(u *sql.UpdateSet) { u.SetExcluded(membermedal.FieldLevel).SetExcluded(membermedal.FieldUpdatedAt) }))
		query, args := levels.Query()
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
	}
	for part := range slices.Chunk(history, chunk) {
		b := sql.Dialect(dialectName).Insert(medalchange.Table).Columns(medalchange.FieldProgramID, medalchange.FieldMemberID,
			medalchange.FieldMedalKey, medalchange.FieldFromLevel, medalchange.FieldToLevel, medalchange.FieldReason, medalchange.FieldCreatedAt)
		for _, row := range part {
			b.Values(row...)
		}
		query, args := b.Query()
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
	}
	for part := range slices.Chunk(claims, chunk) {
		err := tx.BenefitClaim.CreateBulk(part...).
			OnConflictColumns(benefitclaim.FieldProgramID, benefitclaim.FieldIdempotencyKey).DoNothing().Exec(ctx)
		if err != nil {
			return err
		}
	}
	return nil
}

// LevelChange is the change of a medal.level outbox message.
type LevelChange struct {
	Medal string `json:"medal"`
	From  int    `json:"from"`
	To    int    `json:"to"`
}

// Messages are the outbox messages of changes, one medal.level each.
func Messages(programID int, changes []Change, now time.Time) []outbox.Message {
	out := make([]outbox.Message, len(changes))
	for i, c := range changes {
		out[i] = outbox.Message{ProgramID: programID, MemberID: c.MemberID, Type: outbox.MedalLevel,
			Data: LevelChange{c.Medal.Key, c.From, c.To}, At: now}
	}
	return out
}

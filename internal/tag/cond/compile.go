package cond

import (
	"strconv"
	"strings"
	"time"

	"github.com/membergraph/membergraph/internal/score/formula"
)

// Env is what a compiled condition is evaluated against: the instant (so age, the RFM
// window and days since the last order are of the evaluation day, in the programme's zone)
// and the ids the tree's keys name.
type Env struct {
	Now    time.Time
	Loc    *time.Location
	TierID map[string]int // tier key → id
	TagID  map[string]int // tag key → id
}

// Compile turns a valid tree into an SQL predicate over the members table aliased m, with
// its parameters; the SQL is the same on SQLite and MySQL (backquoted names, ? markers). A
// leaf reads one member's rows through the indexes by member_id, so the statement it sits
// in costs the same per member whatever the programme's size.
func Compile(n Node, env Env) (string, []any) {
	c := compiler{env: env}
	c.node(n)
	return c.b.String(), c.args
}

// Joined is Compile for a statement that counts or lists members over all of a programme:
// each distinct tag of the tree becomes one LEFT JOIN of member_tags by its unique
// (member_id, tag_id) key — at most one row per member, so a count or an id list is the
// same as with the EXISTS form — and its leaves test the joined row. MariaDB runs Compile's
// EXISTS as a materialised subquery of every holder (a temporary table of up to a million
// ids per tag); the join reads one index entry per member instead, about three times
// faster at 1,000,000 members (docs/benchmarks.md "Tags and segments"). joins goes after
// "FROM `members` m" and its args before where's.
func Joined(n Node, env Env) (joins string, joinArgs []any, where string, args []any) {
	c := compiler{env: env, joined: map[string]string{}}
	c.node(n)
	return c.joins.String(), c.joinArgs, c.b.String(), c.args
}

type compiler struct {
	env  Env
	b    strings.Builder
	args []any
	// joined, when set, maps a tag key to its join alias (Joined); nil for Compile.
	joined   map[string]string
	joins    strings.Builder
	joinArgs []any
}

func (c *compiler) w(sql string, args ...any) {
	c.b.WriteString(sql)
	c.args = append(c.args, args...)
}

func (c *compiler) node(n Node) {
	switch {
	case n.And != nil || n.Or != nil:
		list, op := n.And, " AND "
		if n.Or != nil {
			list, op = n.Or, " OR "
		}
		c.w("(")
		for i, k := range list {
			if i > 0 {
				c.w(op)
			}
			c.node(k)
		}
		c.w(")")
	case n.Not != nil:
		c.w("(NOT ")
		c.node(*n.Not)
		c.w(")")
	case n.Tag != "" && c.joined != nil:
		alias, ok := c.joined[n.Tag]
		if !ok {
			alias = "jt" + strconv.Itoa(len(c.joined))
			c.joined[n.Tag] = alias
			c.joins.WriteString(" LEFT JOIN `member_tags` " + alias + " ON " + alias + ".`member_id` = m.`id` AND " + alias + ".`tag_id` = ?")
			c.joinArgs = append(c.joinArgs, c.env.TagID[n.Tag])
		}
		c.w(alias + ".`member_id` IS NOT NULL")
	case n.Tag != "":
		c.w("EXISTS (SELECT 1 FROM `member_tags` t WHERE t.`member_id` = m.`id` AND t.`tag_id` = ?)", c.env.TagID[n.Tag])
	default:
		c.leaf(n)
	}
}

// today is the evaluation day in the programme's zone, as a UTC date.
func (c *compiler) today() time.Time {
	l := c.env.Now.In(c.env.Loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// dayStart is the first instant of the programme-local day d (a UTC date) as UTC.
func (c *compiler) dayStart(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, c.env.Loc).UTC()
}

// window is the first and last month (YYYYMM) of an RFM window ending this month.
func (c *compiler) window(months int) (int, int) {
	last := formula.MonthOf(c.env.Now, c.env.Loc)
	return int(last.Add(-(months - 1))), int(last)
}

func (c *compiler) leaf(n Node) {
	switch n.Field {
	case Gender:
		c.in("m.`gender`", n.Values)
	case RegistrationChannel:
		c.in("m.`registration_channel`", n.Values)
	case Tier:
		ids := make([]any, len(n.Values))
		for i, k := range n.Values {
			ids[i] = c.env.TierID[k]
		}
		c.w("m.`tier_id` IN ("+marks(len(ids))+")", ids...)
	case RealName:
		c.w("m.`real_name_verified` = ?", *n.Flag)
	case Plus:
		at := c.env.Now.UTC()
		if !*n.Flag {
			c.w("NOT ")
		}
		c.w("EXISTS (SELECT 1 FROM `plus_terms` p WHERE p.`member_id` = m.`id` AND p.`start_at` <= ? AND p.`end_at` > ?)", at, at)
	case Age:
		// Completed years: at least a ⇔ born on or before today less a years; at most b ⇔
		// born after today less b+1 years. AddDate carries 29 February into 1 March, so a
		// leapling comes of age on 1 March in common years.
		c.w("(m.`birthday` IS NOT NULL")
		if n.Min != nil {
			c.w(" AND m.`birthday` <= ?", c.today().AddDate(-int(*n.Min), 0, 0))
		}
		if n.Max != nil {
			c.w(" AND m.`birthday` > ?", c.today().AddDate(-int(*n.Max)-1, 0, 0))
		}
		c.w(")")
	case Score:
		c.between("COALESCE((SELECT s.`settled` FROM `member_scores` s WHERE s.`member_id` = m.`id`), 0)", n, 1)
	case Spend, Orders:
		col := "spend_cents"
		scale := int64(100) // yuan → cents
		if n.Field == Orders {
			col, scale = "orders", 1
		}
		from, to := c.window(n.WindowMonths)
		c.w("COALESCE((SELECT SUM(a.`"+col+"`) FROM `activity_months` a WHERE a.`member_id` = m.`id` AND a.`month` >= ? AND a.`month` <= ?), 0)", from, to)
		c.bounds(n, scale)
	case CategoryShare:
		// share ≥ x % ⇔ 100 × in-category ≥ x × total, in integers; no spend is no share.
		from, to := c.window(n.WindowMonths)
		c.w("EXISTS (SELECT 1 FROM `category_months` k WHERE k.`member_id` = m.`id` AND k.`month` >= ? AND k.`month` <= ? GROUP BY k.`member_id` HAVING SUM(k.`spend_cents`) > 0", from, to)
		in := " AND 100 * SUM(CASE WHEN k.`category` = ? THEN k.`spend_cents` ELSE 0 END)"
		if n.Min != nil {
			c.w(in+" >= ? * SUM(k.`spend_cents`)", n.Category, *n.Min)
		}
		if n.Max != nil {
			c.w(in+" <= ? * SUM(k.`spend_cents`)", n.Category, *n.Max)
		}
		c.w(")")
	case DaysSinceLastOrder:
		// d whole days since the last order ⇔ its local day is today − d: at least d ⇔ it
		// began before the day after today − d; at most d ⇔ on or after today − d.
		c.w("EXISTS (SELECT 1 FROM `events` e WHERE e.`member_id` = m.`id` AND e.`kind` = 'ORDER_COMPLETED' GROUP BY e.`member_id` HAVING COUNT(*) > 0")
		if n.Min != nil {
			c.w(" AND MAX(e.`occurred_at`) < ?", c.dayStart(c.today().AddDate(0, 0, -int(*n.Min)+1)))
		}
		if n.Max != nil {
			c.w(" AND MAX(e.`occurred_at`) >= ?", c.dayStart(c.today().AddDate(0, 0, -int(*n.Max))))
		}
		c.w(")")
	case MedalLevel:
		c.between("COALESCE((SELECT d.`level` FROM `member_medals` d WHERE d.`member_id` = m.`id` AND d.`medal_key` = ?), 0)", n, 1, n.Medal)
	}
}

// between writes expr's test against n's bounds, scaled to expr's unit.
func (c *compiler) between(expr string, n Node, scale int64, args ...any) {
	c.w(expr, args...)
	c.bounds(n, scale)
}

// bounds writes the comparison of the expression just written with Min and/or Max, scaled
// from the API's unit to the column's.
func (c *compiler) bounds(n Node, scale int64) {
	if n.Min != nil && n.Max != nil {
		c.w(" BETWEEN ? AND ?", *n.Min*scale, *n.Max*scale)
		return
	}
	if n.Min != nil {
		c.w(" >= ?", *n.Min*scale)
	} else {
		c.w(" <= ?", *n.Max*scale)
	}
}

func (c *compiler) in(col string, values []string) {
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	c.w(col+" IN ("+marks(len(args))+")", args...)
}

func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

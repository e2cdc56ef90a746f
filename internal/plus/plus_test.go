package plus

import (
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/page"
	"github.com/membergraph/membergraph/internal/rules"
)

func TestTermEnd(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	annual, trial := rules.JDPlus().Plans[0], rules.JDPlus().Plans[1]
	local := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, sh).UTC() }
	for _, c := range []struct {
		plan       rules.PlusPlan
		start, end time.Time
	}{
		{annual, local(2027, 3, 1, 10), local(2028, 3, 1, 10)},
		{annual, local(2028, 2, 29, 10), local(2029, 2, 28, 10)}, // 29 February → 28 February
		{annual, local(2029, 2, 28, 10), local(2030, 2, 28, 10)},
		{annual, local(2027, 12, 31, 23), local(2028, 12, 31, 23)},
		// Midnight local on 1 January is still 31 December in UTC: the year is the zone's.
		{annual, local(2028, 1, 1, 0), local(2029, 1, 1, 0)},
		{trial, local(2028, 2, 15, 9), local(2028, 3, 16, 9)}, // 14 days of February 2028 + 16 of March
	} {
		if got := TermEnd(c.plan, c.start, sh); !got.Equal(c.end) {
			t.Errorf("%s from %v: %v, want %v", c.plan.Key, c.start.In(sh), got.In(sh), c.end.In(sh))
		}
	}
}

func TestPrice(t *testing.T) {
	annual := rules.JDPlus().Plans[0]
	for _, c := range []struct {
		score int64
		cents int64
		why   string
	}{
		{0, 14900, "list price, settled score 0 < 4,500"},
		{4499, 14900, "list price, settled score 4,499 < 4,500"},
		{4500, 9900, "exclusive price, settled score 4,500 ≥ 4,500"},
		{4612, 9900, "exclusive price, settled score 4,612 ≥ 4,500"},
	} {
		if cents, why := Price(annual, c.score); cents != c.cents || why != c.why {
			t.Errorf("score %d: %d %q, want %d %q", c.score, cents, why, c.cents, c.why)
		}
	}
}

// TestRefundable: paid − bonus points at 100 = ¥1 − PLUS coupons used, never below 0.
func TestRefundable(t *testing.T) {
	for _, c := range []struct {
		paid int64
		got  Received
		want int64
	}{
		{14900, Received{PointsPerYuan: 100}, 14900},
		{14900, Received{BonusPoints: 1107, PointsPerYuan: 100, CouponCents: 1000}, 14900 - 1107 - 1000},
		{9900, Received{BonusPoints: 9000, PointsPerYuan: 100, CouponCents: 1000}, 0},
		{9900, Received{BonusPoints: 333, PointsPerYuan: 200}, 9900 - 166}, // 333 points at 200 = ¥1 are ¥1.665: 166 cents kept back
		{0, Received{CouponCents: 500}, 0},
	} {
		if got := Refundable(c.paid, c.got); got != c.want {
			t.Errorf("paid %d, received %+v: %d, want %d", c.paid, c.got, got, c.want)
		}
	}
}

func TestStatusAt(t *testing.T) {
	t0 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &ent.PlusTerm{ID: 1, StartAt: t0, EndAt: t0.AddDate(0, 0, 30)}
	b := &ent.PlusTerm{ID: 2, StartAt: a.EndAt, EndAt: a.EndAt.AddDate(1, 0, 0)}
	terms := []*ent.PlusTerm{b, a}
	if s := StatusAt(terms, t0.Add(-time.Second)); s.Active {
		t.Errorf("before the start: %+v", s)
	}
	if s := StatusAt(terms, t0); !s.Active || s.Current != a || !s.End.Equal(b.EndAt) {
		t.Errorf("at the start: %+v", s)
	}
	if s := StatusAt(terms, a.EndAt); s.Current != b {
		t.Errorf("at the trial's end the next term holds: %+v", s)
	}
	if s := StatusAt(terms, b.EndAt.Add(-time.Hour)); s.DaysLeft != 1 {
		t.Errorf("an hour left: %d days, want 1", s.DaysLeft)
	}
	if s := StatusAt(terms, b.EndAt); s.Active {
		t.Errorf("at the end instant: %+v", s)
	}
}

func TestHistoryPage(t *testing.T) {
	t0 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	var terms []*ent.PlusTerm
	for i := 1; i <= 5; i++ {
		terms = append(terms, &ent.PlusTerm{ID: i, StartAt: t0.AddDate(i, 0, 0)})
	}
	terms = append(terms, &ent.PlusTerm{ID: 6, StartAt: terms[4].StartAt}) // same start as 5: the later granted first
	ids := func(p page.Page[*ent.PlusTerm]) []int {
		var out []int
		for _, t := range p.Items {
			out = append(out, t.ID)
		}
		return out
	}
	two := 2
	p, _ := HistoryPage(terms, page.Request{First: &two, Total: true})
	if got := ids(p); len(got) != 2 || got[0] != 6 || got[1] != 5 || !p.HasNextPage || p.TotalCount != 6 {
		t.Errorf("first page: %v %+v", got, p)
	}
	last := p.Items[1]
	p, _ = HistoryPage(terms, page.Request{First: &two, After: &page.Key{At: last.StartAt, ID: last.ID}})
	if got := ids(p); len(got) != 2 || got[0] != 4 || got[1] != 3 || !p.HasPreviousPage {
		t.Errorf("second page: %v", got)
	}
	p, _ = HistoryPage(terms, page.Request{Last: &two, Before: &page.Key{At: terms[2].StartAt, ID: 3}})
	if got := ids(p); len(got) != 2 || got[0] != 5 || got[1] != 4 {
		t.Errorf("last 2 before term 3: %v", got)
	}
}

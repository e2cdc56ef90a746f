package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	entmember "github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/score/formula"
)

// Plan is a whole demo as data, before anything is sent: a pure function of the
// configuration, the programme's rules and zone, and the month of now.
type Plan struct {
	// Month is the month the history ends before: the settlement period the demo settles,
	// whose 12-month window is exactly the history.
	Month   formula.Month
	Members []MemberPlan
}

// MemberPlan is one demo member, in the order its parts are sent.
type MemberPlan struct {
	Registration member.Registration
	// Plus is the member's PLUS term, granted after Registration and before History (whether
	// a member is PLUS when an order completes decides its bonus); nil for most members.
	Plus *PlusGrant
	// History is the member's events, oldest first, all within the 12 months before Month.
	History []events.Input
	// Spends are taken after the history, at the clock's now.
	Spends []points.SpendRequest
	// Late are events sent after the spends: refunds of orders whose points were spent
	// meanwhile, which leave a debt.
	Late []events.Input
}

// PlusGrant is a demo member's way into PLUS: a purchase of Plan at the price the platform
// quotes when the demo loads, or the trial. The term starts when the demo loads.
type PlusGrant struct {
	Source string // plus.SourcePurchase or plus.SourceTrial
	Plan   string
	Key    string // the idempotency key
}

// plusEvery and the offsets below pick the drawn members who hold PLUS: a few in every
// hundred, by index, so the same members whatever the seed or the size of the demo. The
// showcase member stays out, so that the README can quote and buy for it.
const plusEvery = 25

// Events counts the events of the plan.
func (p Plan) Events() int {
	n := 0
	for _, m := range p.Members {
		n += len(m.History) + len(m.Late)
	}
	return n
}

// ExternalID is the externalId of the i-th demo member, counted from 1.
func ExternalID(i int) string { return fmt.Sprintf("%s%04d", Prefix, i) }

// NewPlan makes the demo of cfg for a programme with rules r in zone loc, as of now.
// cfg must be valid (Config.Check).
func NewPlan(cfg Config, r rules.Rules, loc *time.Location, now time.Time) Plan {
	cfg = cfg.withDefaults()
	p := Plan{Month: formula.MonthOf(now, loc)}
	// The personas are dealt by a low-discrepancy sequence rather than drawn, so that any
	// number of members holds them in their shares, and the seed shifts which member gets
	// which.
	offset := rand.New(rand.NewPCG(cfg.Seed, 0)).Float64()
	for i := 1; i <= cfg.Members; i++ {
		b := newBuilder(cfg.Seed, i, p.Month, loc)
		switch i {
		case 1:
			showcase(b)
		case 2:
			debtor(b)
		default:
			_, frac := math.Modf(offset + float64(i)*goldenRatio)
			random(b, r, personaAt(frac))
		}
		m := b.plan()
		switch i % plusEvery {
		case 5:
			m.Plus = &PlusGrant{Source: plus.SourcePurchase, Plan: rules.PlusAnnual, Key: b.keyPrefix + "plus"}
		case 15:
			m.Plus = &PlusGrant{Source: plus.SourceTrial, Plan: rules.PlusTrial, Key: b.keyPrefix + "plus"}
		}
		p.Members = append(p.Members, m)
	}
	return p
}

const goldenRatio = 0.6180339887498949

// builder writes one member's plan; times are given as (month of the history, day, hour,
// minute) in the programme's zone.
type builder struct {
	ext, keyPrefix, orderPrefix string
	first                       time.Time // first instant of the history
	end                         time.Time // first instant of the plan's month
	loc                         *time.Location
	rng                         *rand.Rand
	nEvents, nOrders            int
	reg                         member.Registration
	history, late               []events.Input
	spends                      []points.SpendRequest
}

// newBuilder starts the plan of the i-th member, whose draws come from a stream of its own,
// so a member is the same however many members the demo holds.
func newBuilder(seed uint64, i int, month formula.Month, loc *time.Location) *builder {
	ext := ExternalID(i)
	return &builder{
		ext: ext,
		// Keys and order ids name the seed and the month, so that a demo of another seed or
		// month never collides with this one's keys.
		keyPrefix:   fmt.Sprintf("%s:s%d:%s:", ext, seed, month),
		orderPrefix: fmt.Sprintf("%s-s%d-%s-", ext, seed, month),
		first:       month.Add(-12).Start(loc),
		end:         month.Start(loc),
		loc:         loc,
		rng:         rand.New(rand.NewPCG(seed, uint64(i))),
	}
}

// at is day d, h:m o'clock, of the k-th month of the history (0: twelve months before the
// plan's month, 11: the month before it).
func (b *builder) at(k, d, h, m int) time.Time {
	return time.Date(b.first.Year(), b.first.Month()+time.Month(k), d, h, m, 0, 0, b.loc)
}

func (b *builder) register(at time.Time, ch entmember.RegistrationChannel, nickname string, g entmember.Gender, birthday time.Time) {
	phone := fmt.Sprintf("139%08d", b.rng.IntN(100_000_000))
	b.reg = member.Registration{ExternalID: b.ext, Channel: ch, RegisteredAt: &at, Profile: member.Profile{
		Nickname: &nickname, Gender: &g, Birthday: &birthday, Phone: &phone,
	}}
}

func (b *builder) event(list *[]events.Input, kind payload.Kind, at time.Time, channel string, body payload.Body) {
	b.nEvents++
	*list = append(*list, events.Input{IdempotencyKey: fmt.Sprintf("%se%03d", b.keyPrefix, b.nEvents), ExternalID: b.ext,
		Kind: kind, OccurredAt: at, Channel: channel, Body: body})
}

func (b *builder) add(kind payload.Kind, at time.Time, channel string, body payload.Body) {
	b.event(&b.history, kind, at, channel, body)
}

// order completes an order and returns its id.
func (b *builder) order(at time.Time, channel, orderType, payment string, lines ...payload.Line) string {
	b.nOrders++
	id := fmt.Sprintf("%so%02d", b.orderPrefix, b.nOrders)
	b.add(payload.OrderCompleted, at, channel, payload.Body{OrderID: id, OrderType: orderType, PaymentMethod: payment, Lines: lines})
	return id
}

func (b *builder) review(at time.Time, channel, orderID, sku string, photo bool) {
	kind := payload.ReviewPosted
	if photo {
		kind = payload.PhotoReviewPosted
	}
	b.add(kind, at, channel, payload.Body{OrderID: orderID, SKUs: []string{sku}})
}

func (b *builder) risk(at time.Time, reputation, credit int) {
	b.add(payload.RiskUpdated, at, "WEB", payload.Body{Reputation: &reputation, Credit: &credit})
}

func (b *builder) plan() MemberPlan {
	// Every event that depends on another (a review, a refund) lies later than it, so time
	// order is also an order the event path accepts.
	slices.SortStableFunc(b.history, func(x, y events.Input) int { return x.OccurredAt.Compare(y.OccurredAt) })
	return MemberPlan{Registration: b.reg, History: b.history, Spends: b.spends, Late: b.late}
}

// line is an order line of a physical product.
func line(sku, category string, yuan int64) payload.Line {
	return payload.Line{SKU: sku, Category: category, PaidCents: yuan * 100, ProductType: "PHYSICAL"}
}

// A persona is a kind of member and the settled score the demo aims it at. The shares make
// the pyramid docs/domain.md §4 asks for: of the active members (all but the dormant), head
// (Gold, Diamond) : middle (Bronze, Silver) : tail ≈ 1 : 6 : 3.
type persona struct {
	name     string
	permille int
	lo, hi   int64 // target score
	orders   [2]int
	logins   [2]int  // login days in the year
	checkIns [2]int  // check-in days in the year
	review   float64 // chance that an order line gets a review
	realName float64 // chance of a real-name verification
}

var personas = []persona{
	{name: "dormant", permille: 300},
	{name: "light", permille: 210, lo: 150, hi: 800, orders: [2]int{1, 2}, logins: [2]int{0, 2}, checkIns: [2]int{0, 1}, review: 0.15, realName: 0.6},
	{name: "regular", permille: 270, lo: 1200, hi: 2300, orders: [2]int{2, 4}, logins: [2]int{1, 3}, checkIns: [2]int{0, 2}, review: 0.2, realName: 0.7},
	{name: "engaged", permille: 150, lo: 2800, hi: 4200, orders: [2]int{4, 7}, logins: [2]int{2, 5}, checkIns: [2]int{1, 4}, review: 0.25, realName: 0.8},
	{name: "loyal", permille: 50, lo: 4900, hi: 6600, orders: [2]int{6, 10}, logins: [2]int{4, 8}, checkIns: [2]int{3, 7}, review: 0.3, realName: 0.9},
	{name: "top", permille: 20, lo: 7600, hi: 11000, orders: [2]int{8, 12}, logins: [2]int{5, 10}, checkIns: [2]int{4, 10}, review: 0.35, realName: 0.95},
}

func personaAt(u float64) persona {
	acc := 0
	for _, p := range personas {
		acc += p.permille
		if u*1000 < float64(acc) {
			return p
		}
	}
	return personas[len(personas)-1]
}

var (
	nicknames = []string{"Wei", "Fang", "Na", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang", "Yan", "Jie",
		"Tao", "Ming", "Chao", "Xiu", "Hui", "Hong", "Ping", "Gang", "Yun", "Lan", "Bo", "Xin"}
	surnames  = []string{"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo"}
	providers = []string{"WECHAT", "QQ", "WEIBO", "ALIPAY"}
)

// pick returns one of choices, each as likely as its weight.
func pick[T any](rng *rand.Rand, choices []T, weights []int) T {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return choices[i]
		}
		n -= w
	}
	return choices[len(choices)-1]
}

func between(rng *rand.Rand, lo, hi int) int { return lo + rng.IntN(hi-lo+1) }

// random writes a member of persona p.
func random(b *builder, r rules.Rules, p persona) {
	rng := b.rng
	nick := surnames[rng.IntN(len(surnames))] + " " + nicknames[rng.IntN(len(nicknames))]
	gender := pick(rng, []entmember.Gender{entmember.GenderFEMALE, entmember.GenderMALE, entmember.GenderUNKNOWN}, []int{48, 45, 7})
	birthday := time.Date(between(rng, 1960, 2006), time.Month(between(rng, 1, 12)), between(rng, 1, 28), 0, 0, 0, 0, time.UTC)
	ch := pick(rng, []entmember.RegistrationChannel{entmember.RegistrationChannelAPP, entmember.RegistrationChannelWEB,
		entmember.RegistrationChannelMINI_PROGRAM, entmember.RegistrationChannelSTORE}, []int{55, 25, 15, 5})
	// Most members joined before the history; some joined during it and start later.
	k0 := 0
	if rng.IntN(10) < 3 {
		k0 = between(rng, 1, 6)
	}
	if k0 == 0 {
		b.register(b.first.AddDate(0, -between(rng, 1, 30), -between(rng, 0, 27)), ch, nick, gender, birthday)
	} else {
		b.register(b.at(k0, 1, 8, between(rng, 0, 59)), ch, nick, gender, birthday)
	}
	// when is a random moment of a month from k0 on, after the registration.
	when := func(k int) time.Time { return b.at(k, between(rng, 2, 28), between(rng, 8, 22), rng.IntN(60)) }
	channel := func() string {
		return pick(rng, []string{"APP", "WEB", "MINI_PROGRAM", "STORE"}, []int{55, 30, 12, 3})
	}
	if p.name == "dormant" {
		for range rng.IntN(3) {
			b.add(pick(rng, []payload.Kind{payload.Login, payload.AppOpened}, []int{1, 1}), when(between(rng, k0, 11)), channel(), payload.Body{})
		}
		if rng.IntN(4) == 0 {
			b.add(payload.AccountVerified, when(k0), "APP", payload.Body{})
		}
		return
	}

	// The account and risk facts first: they set the account points and the coefficient.
	account := formula.Account{}
	if rng.Float64() < p.realName {
		account.RealNameVerified = true
		b.add(payload.AccountVerified, when(k0), "APP", payload.Body{})
	}
	bound := slices.Clone(providers)
	rng.Shuffle(len(bound), func(i, j int) { bound[i], bound[j] = bound[j], bound[i] })
	account.BoundAccounts = pick(rng, []int{0, 1, 2}, []int{5, 3, 2})
	for _, prov := range bound[:account.BoundAccounts] {
		b.add(payload.AccountBound, when(between(rng, k0, 11)), "APP", payload.Body{Provider: prov})
	}
	switch n := rng.IntN(100); {
	case n < 3: // a risky member: the coefficient drops to the risk percent
		rep, cr := between(rng, 15, 39), between(rng, 30, 90)
		account.Reputation, account.Credit = &rep, &cr
	case n < 88:
		rep, cr := between(rng, 60, 100), between(rng, 55, 100)
		account.Reputation, account.Credit = &rep, &cr
	}
	if account.Reputation != nil {
		b.risk(when(between(rng, k0, 11)), *account.Reputation, *account.Credit)
	}

	// Engagement over the year: logins and check-ins on distinct days, answers and shares.
	sr := r.ScoreRules()
	w := sr.Weights
	var activity int64
	logins, checkIns := between(rng, p.logins[0], p.logins[1]), between(rng, p.checkIns[0], p.checkIns[1])
	for i, s := range distinctDays(rng, k0, logins+checkIns) {
		if i < logins {
			kind := pick(rng, []payload.Kind{payload.AppOpened, payload.Login}, []int{3, 2})
			b.add(kind, b.at(s.k, s.d, between(rng, 7, 23), rng.IntN(60)), channel(), payload.Body{})
			activity += w.LoginDay
		} else {
			b.add(payload.CheckIn, b.at(s.k, s.d, between(rng, 7, 10), rng.IntN(60)), "APP", payload.Body{})
		}
	}
	for range rng.IntN(int(p.review*4) + 1) {
		b.add(payload.QuestionAnswered, when(between(rng, k0, 11)), channel(), payload.Body{})
		activity += w.Answer
	}
	for range rng.IntN(int(p.review*5) + 1) {
		b.add(payload.ProductShared, when(between(rng, k0, 11)), "APP", payload.Body{})
		activity += w.Share
	}

	// Orders on distinct days; what they spend makes up the rest of the target score.
	nOrders := between(rng, p.orders[0], p.orders[1])
	days := distinctDays(rng, k0, nOrders)
	refundRate := 0.06
	if account.Reputation != nil && *account.Reputation < 40 {
		refundRate = 0.3
	}
	expectedReviews := float64(nOrders) * 1.6 * p.review
	activity += int64(expectedReviews * float64(w.Review+w.PhotoReview) / 2)
	target := p.lo + rng.Int64N(p.hi-p.lo+1)
	coef := formula.CoefficientPercent(sr.Coefficient, account, int64(refundRate*1000))
	spendYuan := max(int64(nOrders)*40, target*100/coef-activity-formula.AccountPoints(w, account)-int64(nOrders)*w.PurchaseDay)
	// Each order's share of the spend: uneven, as real baskets are.
	shares := make([]float64, nOrders)
	var total float64
	for i := range shares {
		shares[i] = 0.3 + rng.ExpFloat64()
		total += shares[i]
	}
	favourites := favouriteCategories(rng, r)
	for i, s := range days {
		at := b.at(s.k, s.d, between(rng, 8, 23), rng.IntN(60))
		ch := channel()
		orderYuan := max(19, int64(float64(spendYuan)*shares[i]/total))
		nLines := min(int(orderYuan/30)+1, pick(rng, []int{1, 2, 3}, []int{5, 3, 2}))
		var lines []payload.Line
		left := orderYuan
		for j := range nLines {
			yuan := left
			if j < nLines-1 {
				yuan = max(9, left*int64(between(rng, 30, 70))/100)
			}
			left -= yuan
			cat := favourites[rng.IntN(len(favourites))]
			if rng.IntN(3) == 0 {
				cat = r.Categories[rng.IntN(len(r.Categories))]
			}
			l := line(fmt.Sprintf("%s-%05d-%d", cat, rng.IntN(100_000), j+1), cat, yuan)
			if rng.IntN(100) < 6 {
				l.ProductType = pick(rng, []string{"VIRTUAL", "SERVICE"}, []int{2, 1})
			}
			lines = append(lines, l)
		}
		orderType := pick(rng, []string{"NORMAL", "GROUP_BUY", "AUCTION"}, []int{92, 6, 2})
		payment := pick(rng, []string{"BANK_CARD", "BALANCE", "CASH", "GIFT_CARD", "CORPORATE_TRANSFER", "POSTAL_REMITTANCE"},
			[]int{45, 20, 15, 15, 4, 1})
		id := b.order(at, ch, orderType, payment, lines...)
		for _, l := range lines {
			if rng.Float64() < p.review {
				if rv := at.AddDate(0, 0, between(rng, 1, 9)); rv.Before(b.end) {
					b.review(rv, ch, id, l.SKU, rng.IntN(3) == 0)
				}
			}
		}
		if rng.Float64() < refundRate {
			if rf := at.AddDate(0, 0, between(rng, 3, 20)); rf.Before(b.end) {
				skus := []string{lines[rng.IntN(len(lines))].SKU}
				if len(lines) == 1 || rng.IntN(3) == 0 {
					skus = skus[:0]
					for _, l := range lines {
						skus = append(skus, l.SKU)
					}
				}
				b.add(payload.OrderRefunded, rf, ch, payload.Body{OrderID: id, SKUs: skus})
			}
		}
	}
}

// day is a day of the history: month k, day d.
type day struct{ k, d int }

// distinctDays draws n different days from month k0 of the history on, in time order.
func distinctDays(rng *rand.Rand, k0, n int) []day {
	n = min(n, (12-k0)*27)
	seen := map[day]bool{}
	var out []day
	for len(out) < n {
		s := day{between(rng, k0, 11), between(rng, 2, 28)}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(x, y day) int { return (x.k*32 + x.d) - (y.k*32 + y.d) })
	return out
}

// favouriteCategories are the two to four categories a member buys most, from those that
// earn points; the programme's other categories come up now and then.
func favouriteCategories(rng *rand.Rand, r rules.Rules) []string {
	var earning []string
	for _, c := range r.Categories {
		if !slices.Contains(r.Earning.ExcludedCategories, c) {
			earning = append(earning, c)
		}
	}
	if len(earning) == 0 {
		earning = r.Categories
	}
	rng.Shuffle(len(earning), func(i, j int) { earning[i], earning[j] = earning[j], earning[i] })
	return earning[:min(len(earning), between(rng, 2, 4))]
}

package events

import (
	"fmt"
	"slices"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/internal/activity"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/medal"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/score/formula"
	"github.com/membergraph/membergraph/internal/usererr"
)

// newEvent is an accepted event to store.
type newEvent struct {
	job     job
	outcome payload.Outcome
	id      int // once written
}

// newEntry is a ledger entry to store: an earning (credit set) or a refund's taking.
type newEntry struct {
	event   *newEvent
	kind    pointentry.Kind
	funding string
	amount  int64
	desc    string
	orderID string
	sku     string
	credit  *points.Credited
	id      int // once written
}

// taking is what a refund entry took from one lot.
type taking struct {
	entry *newEntry
	taken points.Taken
}

// decide runs the rules over the slice's events in input order, each against the state the
// ones before it left. A rejected event moves nothing: every check comes before the first move.
func (st *state) decide() {
	for _, j := range st.sl.jobs {
		res := Result{IdempotencyKey: j.in.IdempotencyKey}
		if err := st.decideOne(j, &res); err != nil {
			ue, _ := usererr.From(err)
			res = Result{IdempotencyKey: j.in.IdempotencyKey, Status: Rejected, Err: ue[0]}
		}
		st.results[j.index] = res
	}
}

// decideOne decides one event; its error is always a user error.
func (st *state) decideOne(j job, res *Result) error {
	key := j.in.IdempotencyKey
	if prev := st.seen[key]; prev != nil {
		return replay(prev, j.hash, j.field, res)
	}
	if prev := st.decided[key]; prev != nil { // the same key earlier in this batch
		if prev.job.hash != j.hash {
			return usererr.New(usererr.Conflict, j.field+".idempotencyKey", "idempotencyKey %q was used for a different event", key)
		}
		res.Status, res.Outcome = Duplicate, prev.outcome
		return nil
	}
	w := st.wallets[j.memberID]
	if w == nil {
		return usererr.New(usererr.NotFound, j.field+".externalId", "no points account for externalId %q", j.in.ExternalID)
	}
	var err error
	switch j.in.Kind {
	case payload.OrderCompleted:
		err = st.complete(j, w, res)
	case payload.OrderRefunded:
		err = st.refund(j, w, res)
	default:
		err = st.other(j, w, res)
	}
	if err != nil {
		return err
	}
	res.Status = Accepted
	return nil
}

// accept stores the event with its outcome.
func (st *state) accept(j job, outcome payload.Outcome) *newEvent {
	ev := &newEvent{job: j, outcome: outcome}
	st.events = append(st.events, ev)
	st.decided[j.in.IdempotencyKey] = ev
	return ev
}

// credit writes the grants of an accepted event to the member's wallet.
func (st *state) credit(ev *newEvent, w *points.Wallet, grants []points.Grant) {
	r := st.env.prog.Rules
	for _, g := range grants {
		c := points.PlanCredit(w, r, st.env.loc, st.now, ev.job.in.OccurredAt, g, len(st.entries))
		st.entries = append(st.entries, &newEntry{event: ev, kind: g.Kind, funding: g.Funding, amount: g.Amount,
			desc: g.Description, orderID: g.OrderID, sku: g.SKU, credit: &c})
		st.noteEarned(lineKey{ev.job.memberID, g.OrderID, g.SKU}, g.Kind, g.Funding, g.Amount)
	}
}

// outcomeOf sums what grants earn and hold pending.
func (st *state) outcomeOf(grants []points.Grant) payload.Outcome {
	var out payload.Outcome
	for _, g := range grants {
		out.Points += g.Amount
		if g.FromOrder && st.env.prog.Rules.Earning.PendingDays > 0 {
			out.PendingPoints += g.Amount
		}
	}
	return out
}

// complete decides an ORDER_COMPLETED: refused for an order completed before; otherwise
// it earns by the rules, counts, and moves the medals of its lines.
func (st *state) complete(j job, w *points.Wallet, res *Result) error {
	b := j.in.Body
	o := st.order(j.memberID, b.OrderID)
	if o.completed != nil {
		return usererr.New(usererr.AlreadyExists, j.field+".orderId", "order %q was completed already", b.OrderID)
	}
	facts := points.Facts{PlusActive: st.plus != nil && st.plus(j.memberID, j.in.OccurredAt)}
	if points.IsMobile(j.in.Channel) {
		facts.AlreadyRewarded = st.onDay(j.memberID, j.in.OccurredAt, func(e dayEvent) bool {
			return e.kind == payload.OrderCompleted && points.IsMobile(e.channel)
		})
	}
	grants := points.Earn(st.env.prog.Rules, points.Activity{Kind: j.in.Kind, Channel: j.in.Channel, Body: b}, facts)
	if err := points.CheckCredit(w, grants, j.field); err != nil {
		return err
	}
	res.Outcome = st.outcomeOf(grants)
	ev := st.accept(j, res.Outcome)
	o.completed = &ent.Event{MemberID: j.memberID, OrderID: b.OrderID, OccurredAt: j.in.OccurredAt, Body: b}
	o.key = j.in.IdempotencyKey
	st.days[j.memberID] = append(st.days[j.memberID], dayEvent{kind: j.in.Kind, channel: j.in.Channel, occurredAt: j.in.OccurredAt, orderID: b.OrderID})
	st.credit(ev, w, grants)
	st.count(j, facts.AlreadyRewarded)
	return nil
}

// refund decides an ORDER_REFUNDED: refused for an unknown order or line and for a line
// refunded before; otherwise it takes back what the lines earned, funder by funder (the
// PLUS bonus back to PLUS, the base to the platform), lets what was spent already become
// debt, and moves the counters and medals of the order's month.
func (st *state) refund(j job, w *points.Wallet, res *Result) error {
	b := j.in.Body
	o := st.orders[orderKey{j.memberID, b.OrderID}]
	if o == nil || o.completed == nil {
		return usererr.New(usererr.NotFound, j.field+".orderId", "no completed order %q for this member", b.OrderID)
	}
	for i, sku := range b.SKUs {
		f := fmt.Sprintf("%s.skus.%d", j.field, i)
		if !slices.ContainsFunc(o.completed.Body.Lines, func(l payload.Line) bool { return l.SKU == sku }) {
			return usererr.New(usererr.NotFound, f, "order %q has no line %q", b.OrderID, sku)
		}
		if slices.Contains(o.refunded, sku) {
			return usererr.New(usererr.FailedPrecondition, f, "line %q of order %q was refunded already", sku, b.OrderID)
		}
	}
	ev := st.accept(j, payload.Outcome{})
	var out payload.Outcome
	for _, sku := range b.SKUs {
		byFunder := st.earned[lineKey{j.memberID, b.OrderID, sku}]
		funders := make([]string, 0, len(byFunder))
		for f := range byFunder {
			funders = append(funders, f)
		}
		slices.Sort(funders) // PLATFORM before PLUS: a stable order of entries
		for _, funder := range funders {
			total := byFunder[funder]
			if total == 0 {
				continue
			}
			what := "Refund"
			if funder == points.FundPlus {
				what = "PLUS bonus refund"
			}
			e := &newEntry{event: ev, kind: pointentry.KindREFUND, funding: funder, amount: -total,
				desc: fmt.Sprintf("%s of order %s, item %s", what, b.OrderID, sku), orderID: b.OrderID, sku: sku}
			st.entries = append(st.entries, e)
			taken, debt := points.PlanTake(w, st.now, total, &points.OrderLine{OrderID: b.OrderID, SKU: sku})
			for _, t := range taken {
				st.takings = append(st.takings, taking{entry: e, taken: t})
			}
			out.Points -= total
			out.DebtPoints += debt
		}
	}
	ppy := st.env.prog.PointsPerYuan
	out.WithholdCents = (out.DebtPoints*100 + ppy - 1) / ppy // round up: never withhold too little
	ev.outcome, res.Outcome = out, out

	// The counters of the month the order was completed in.
	loc := st.env.loc
	month := formula.MonthOf(o.completed.OccurredAt, loc)
	var sameDay []activity.Order
	start, end := day(o.completed.OccurredAt, loc)
	for _, d := range st.days[j.memberID] {
		if d.kind != payload.OrderCompleted || d.orderID == b.OrderID || d.occurredAt.Before(start) || !d.occurredAt.Before(end) {
			continue
		}
		if other := st.orders[orderKey{j.memberID, d.orderID}]; other != nil && other.completed != nil {
			sameDay = append(sameDay, activity.Order{OccurredAt: d.occurredAt, Lines: other.completed.Body.Lines, Refunded: other.refunded})
		}
	}
	before := activity.Order{OccurredAt: o.completed.OccurredAt, Lines: o.completed.Body.Lines, Refunded: o.refunded}
	lines := activity.TallyRefund(st.months.Row(activity.MonthKey{MemberID: j.memberID, Month: month}), before, b.SKUs, sameDay, loc)
	for _, l := range lines {
		st.spend(j.memberID, month, l.Category, -l.PaidCents)
	}
	if activity.FullyRefunded(o.completed.Body.Lines, append(slices.Clone(o.refunded), b.SKUs...)) {
		st.progress.Count(j.memberID, month, medal.Orders, -1)
	}
	o.refunded = append(o.refunded, b.SKUs...)
	st.changes = append(st.changes, st.progress.Decide(st.env.medals, j.memberID, medal.Affected(payload.OrderRefunded, lines))...)
	return nil
}

// other decides the kinds without an order to complete or refund: reviews (of a line of a
// completed order), check-ins, the other counted activity, and the account facts.
func (st *state) other(j job, w *points.Wallet, res *Result) error {
	b := j.in.Body
	facts := points.Facts{}
	switch j.in.Kind {
	case payload.ReviewPosted, payload.PhotoReviewPosted:
		o := st.orders[orderKey{j.memberID, b.OrderID}]
		if o == nil || o.completed == nil {
			return usererr.New(usererr.NotFound, j.field+".orderId", "no completed order %q for this member", b.OrderID)
		}
		if !slices.ContainsFunc(o.completed.Body.Lines, func(l payload.Line) bool { return l.SKU == b.SKUs[0] }) {
			return usererr.New(usererr.NotFound, j.field+".skus.0", "order %q has no line %q", b.OrderID, b.SKUs[0])
		}
		kind := pointentry.KindREVIEW
		if j.in.Kind == payload.PhotoReviewPosted {
			kind = pointentry.KindPHOTO_REVIEW
		}
		facts.AlreadyRewarded = st.reviewed[lineKey{j.memberID, b.OrderID, b.SKUs[0]}][kind]
	case payload.CheckIn:
		facts.AlreadyRewarded = st.onDay(j.memberID, j.in.OccurredAt, func(e dayEvent) bool { return e.kind == payload.CheckIn })
		st.days[j.memberID] = append(st.days[j.memberID], dayEvent{kind: j.in.Kind, channel: j.in.Channel, occurredAt: j.in.OccurredAt})
	case payload.AccountVerified:
		if !slices.Contains(st.verified, j.memberID) {
			st.verified = append(st.verified, j.memberID)
		}
	case payload.AccountBound:
		if m := st.members[j.memberID]; m != nil && !slices.Contains(m.BoundAccounts, b.Provider) && len(m.BoundAccounts) < memberpkg.MaxBoundAccounts {
			m.BoundAccounts = append(m.BoundAccounts, b.Provider)
			st.bound[j.memberID] = m.BoundAccounts
		}
	case payload.RiskUpdated:
		r := st.risks[j.memberID]
		if b.Reputation != nil {
			r.Reputation = b.Reputation
		}
		if b.Credit != nil {
			r.Credit = b.Credit
		}
		st.risks[j.memberID] = r
	}
	grants := points.Earn(st.env.prog.Rules, points.Activity{Kind: j.in.Kind, Channel: j.in.Channel, Body: b}, facts)
	if err := points.CheckCredit(w, grants, j.field); err != nil {
		return err
	}
	res.Outcome = st.outcomeOf(grants)
	ev := st.accept(j, res.Outcome)
	st.credit(ev, w, grants)
	st.count(j, facts.AlreadyRewarded)
	return nil
}

// count moves the month's counters, the category spend and the medal progress for an
// accepted event other than a refund, then the medals it affects.
func (st *state) count(j job, repeat bool) {
	ev := activity.Event{Kind: j.in.Kind, OccurredAt: j.in.OccurredAt, Body: j.in.Body, Repeat: repeat}
	month := formula.MonthOf(j.in.OccurredAt, st.env.loc)
	if !activity.Tally(st.months.Row(activity.MonthKey{MemberID: j.memberID, Month: month}), ev, st.env.loc) {
		return
	}
	counted := 1
	if repeat {
		counted = 0
	}
	switch j.in.Kind {
	case payload.OrderCompleted:
		for _, l := range j.in.Body.Lines {
			st.spend(j.memberID, month, l.Category, l.PaidCents)
		}
		st.progress.Count(j.memberID, month, medal.Orders, 1)
	case payload.ReviewPosted:
		st.progress.Count(j.memberID, month, medal.Reviews, counted)
	case payload.PhotoReviewPosted:
		st.progress.Count(j.memberID, month, medal.PhotoReviews, counted)
	case payload.QuestionAnswered:
		st.progress.Count(j.memberID, month, medal.Answers, 1)
	case payload.CheckIn:
		st.progress.Count(j.memberID, month, medal.CheckIns, counted)
	}
	st.changes = append(st.changes, st.progress.Decide(st.env.medals, j.memberID, medal.Affected(j.in.Kind, j.in.Body.Lines))...)
}

// spend moves a member's spend in a category in a month, for the counters and the medals.
func (st *state) spend(memberID int, month formula.Month, category string, cents int64) {
	st.categories[activity.CategoryKey{MemberID: memberID, Month: month, Category: category}] += cents
	st.progress.AddCents(memberID, month, category, cents)
}

// onDay reports whether one of the member's known events on t's programme-local day matches.
func (st *state) onDay(memberID int, t time.Time, match func(dayEvent) bool) bool {
	start, end := day(t, st.env.loc)
	return slices.ContainsFunc(st.days[memberID], func(e dayEvent) bool {
		return !e.occurredAt.Before(start) && e.occurredAt.Before(end) && match(e)
	})
}

package events

import (
	"context"
	"slices"
	"time"

	"entgo.io/ent/dialect"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/event"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/pointaccount"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/ent/pointlot"
	"github.com/membergraph/membergraph/ent/predicate"
	"github.com/membergraph/membergraph/internal/activity"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/score/formula"
)

// state is a slice's members as the rules see them, loaded under their locks and moved in
// memory as each event is decided; write turns what moved into statements.
type state struct {
	svc *Service
	tx  *ent.Tx
	env *batchEnv
	sl  slice
	now time.Time

	wallets  map[int]*points.Wallet
	seen     map[string]*ent.Event                // keys stored before, by another batch
	orders   map[orderKey]*order                  // the slice's orders, stored and new
	days     map[int][]dayEvent                   // member → its orders and check-ins on the days that matter
	earned   map[lineKey]map[string]int64         // member's order line → funder → purchase points earned
	reviewed map[lineKey]map[pointentry.Kind]bool // member's order line → review rewards given
	plus     points.PlusSet
	progress *medal.Progress
	months   activity.Months
	members  map[int]*ent.Member // for ACCOUNT_BOUND

	// Decided.
	results    map[int]Result // input index → result
	decided    map[string]*newEvent
	events     []*newEvent
	entries    []*newEntry
	takings    []taking
	categories map[activity.CategoryKey]int64
	changes    []medal.Change
	verified   []int
	bound      map[int][]string
	risks      map[int]activity.Risk
}

type orderKey struct {
	memberID int
	orderID  string
}

type lineKey struct {
	memberID     int
	orderID, sku string
}

// order is an order as the rules see it: its completion and the skus refunded so far.
type order struct {
	completed *ent.Event // stored, or built in memory for one completed in this slice
	key       string
	refunded  []string
}

// dayEvent is a member's order or check-in, for the once-a-day rules.
type dayEvent struct {
	kind       payload.Kind
	channel    string
	occurredAt time.Time
	orderID    string
}

// load locks the slice's accounts and reads what its events' rules need.
func (s *Service) load(ctx context.Context, tx *ent.Tx, env *batchEnv, sl slice) (*state, error) {
	st := &state{svc: s, tx: tx, env: env, sl: sl, now: s.ledger.Clock().Now(),
		wallets: map[int]*points.Wallet{}, seen: map[string]*ent.Event{}, orders: map[orderKey]*order{}, days: map[int][]dayEvent{},
		earned: map[lineKey]map[string]int64{}, reviewed: map[lineKey]map[pointentry.Kind]bool{}, members: map[int]*ent.Member{},
		results: map[int]Result{}, decided: map[string]*newEvent{}, categories: map[activity.CategoryKey]int64{},
		bound: map[int][]string{}, risks: map[int]activity.Risk{}}

	// 1. The accounts, locked in ascending member id order (SQLite's transaction holds the
	// database write lock already).
	q := tx.PointAccount.Query().Where(pointaccount.MemberIDIn(sl.members...)).Order(ent.Asc(pointaccount.FieldMemberID))
	if s.ledger.Dialect() == dialect.MySQL {
		q.ForUpdate()
	}
	accts, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[int]*ent.PointAccount{}
	for _, a := range accts {
		st.wallets[a.MemberID] = points.WalletOf(a, nil)
		byID[a.MemberID] = a
	}

	// What the events ask about.
	var keys, orderIDs, lineOrders []string
	var refunders, orderers, binders []int
	var firstOrder time.Time
	var asks = map[int][]time.Time{}
	monthSet := map[formula.Month]bool{}
	countsMonths := false
	for _, j := range sl.jobs {
		keys = append(keys, j.in.IdempotencyKey)
		b := j.in.Body
		if b.OrderID != "" {
			orderIDs = append(orderIDs, b.OrderID)
		}
		switch j.in.Kind {
		case payload.OrderCompleted:
			orderers = append(orderers, j.memberID)
			asks[j.memberID] = append(asks[j.memberID], j.in.OccurredAt)
			if firstOrder.IsZero() || j.in.OccurredAt.Before(firstOrder) {
				firstOrder = j.in.OccurredAt
			}
		case payload.OrderRefunded:
			refunders = append(refunders, j.memberID)
			lineOrders = append(lineOrders, b.OrderID)
		case payload.ReviewPosted, payload.PhotoReviewPosted:
			lineOrders = append(lineOrders, b.OrderID)
		case payload.AccountBound:
			binders = append(binders, j.memberID)
		}
		if countsActivity(j.in.Kind) {
			countsMonths = true
			monthSet[formula.MonthOf(j.in.OccurredAt, env.loc)] = true
		}
	}

	// 2. Keys stored meanwhile and the slice's orders with their refunds: one statement.
	match := []predicate.Event{event.And(event.ProgramID(env.prog.ID), event.IdempotencyKeyIn(keys...))}
	if len(orderIDs) > 0 {
		match = append(match, event.And(event.MemberIDIn(sl.members...), event.OrderIDIn(unique(orderIDs)...),
			event.KindIn(event.KindORDER_COMPLETED, event.KindORDER_REFUNDED)))
	}
	// No ORDER BY: with it MySQL walks the primary key through the whole table rather than
	// merge the two arms' indexes (EXPLAIN: "index" on PRIMARY, every row, against an
	// index_merge of a few hundred), so the rows are put in id order here.
	rows, err := tx.Event.Query().Where(event.Or(match...)).All(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(rows, func(a, b *ent.Event) int { return a.ID - b.ID })
	for _, e := range rows {
		if e.ProgramID == env.prog.ID && slices.Contains(keys, e.IdempotencyKey) {
			st.seen[e.IdempotencyKey] = e
		}
		if !slices.Contains(sl.members, e.MemberID) || e.OrderID == "" {
			continue
		}
		o := st.order(e.MemberID, e.OrderID)
		switch e.Kind {
		case event.KindORDER_COMPLETED:
			if o.completed == nil {
				o.completed, o.key = e, e.IdempotencyKey
			}
		case event.KindORDER_REFUNDED:
			o.refunded = append(o.refunded, e.Body.SKUs...)
		}
	}

	// 3. Who is PLUS when the orders occurred.
	if len(orderers) > 0 {
		if st.plus, err = s.ledger.LoadPlus(ctx, tx, unique(orderers), firstOrder, asks); err != nil {
			return nil, err
		}
	}

	// 4. Medal progress and levels: one statement for every member and medal.
	if st.progress, err = medal.LoadProgress(ctx, tx, s.ledger.Dialect(), env.medals, sl.members, st.now, env.loc); err != nil {
		return nil, err
	}

	// 5. Live lots of the members a refund takes from.
	if len(refunders) > 0 {
		refunders = unique(refunders)
		lots, err := tx.PointLot.Query().Where(pointlot.MemberIDIn(refunders...), pointlot.RemainingGT(0), pointlot.ExpiresAtGT(st.now)).
			Order(ent.Asc(pointlot.FieldExpiresAt), ent.Asc(pointlot.FieldID)).All(ctx)
		if err != nil {
			return nil, err
		}
		byMember := map[int][]*ent.PointLot{}
		for _, l := range lots {
			byMember[l.MemberID] = append(byMember[l.MemberID], l)
		}
		for _, id := range refunders {
			if a := byID[id]; a != nil {
				st.wallets[id] = points.WalletOf(a, byMember[id])
			}
		}
	}

	// 6. What the refunded and reviewed lines earned before.
	if len(lineOrders) > 0 {
		entries, err := tx.PointEntry.Query().Where(pointentry.MemberIDIn(sl.members...), pointentry.OrderIDIn(unique(lineOrders)...),
			pointentry.KindIn(pointentry.KindPURCHASE, pointentry.KindPLUS_BONUS, pointentry.KindREVIEW, pointentry.KindPHOTO_REVIEW)).
			Select(pointentry.FieldMemberID, pointentry.FieldKind, pointentry.FieldFunding, pointentry.FieldOrderID,
				pointentry.FieldSku, pointentry.FieldAmount).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			st.noteEarned(lineKey{e.MemberID, e.OrderID, e.Sku}, e.Kind, e.Funding, e.Amount)
		}
	}

	// 7. The members' orders and check-ins on the days the once-a-day rules look at: the day
	// of every mobile order and check-in, and of every refunded order (another order of
	// that day may keep it a purchase day).
	completedAt := map[orderKey]time.Time{} // orders the slice itself completes
	for _, j := range sl.jobs {
		if k := (orderKey{j.memberID, j.in.Body.OrderID}); j.in.Kind == payload.OrderCompleted {
			if _, ok := completedAt[k]; !ok {
				completedAt[k] = j.in.OccurredAt
			}
		}
	}
	spans := map[time.Time]time.Time{} // a day's start → its end
	for _, j := range sl.jobs {
		switch {
		case j.in.Kind == payload.CheckIn || j.in.Kind == payload.OrderCompleted && points.IsMobile(j.in.Channel):
			start, end := day(j.in.OccurredAt, env.loc)
			spans[start] = end
		case j.in.Kind == payload.OrderRefunded:
			at, ok := completedAt[orderKey{j.memberID, j.in.Body.OrderID}]
			if o := st.orders[orderKey{j.memberID, j.in.Body.OrderID}]; o != nil && o.completed != nil {
				at, ok = o.completed.OccurredAt, true
			}
			if ok {
				start, end := day(at, env.loc)
				spans[start] = end
				monthSet[formula.MonthOf(at, env.loc)] = true
				countsMonths = true
			}
		}
	}
	if len(spans) > 0 {
		var within []predicate.Event
		for start, end := range spans {
			within = append(within, event.And(event.OccurredAtGTE(start), event.OccurredAtLT(end)))
		}
		evs, err := tx.Event.Query().Where(event.MemberIDIn(sl.members...), event.KindIn(event.KindORDER_COMPLETED, event.KindCHECK_IN),
			event.Or(within...)).Order(ent.Asc(event.FieldID)).All(ctx)
		if err != nil {
			return nil, err
		}
		var others []string
		for _, e := range evs {
			st.days[e.MemberID] = append(st.days[e.MemberID], dayEvent{kind: payload.Kind(e.Kind), channel: string(e.Channel), occurredAt: e.OccurredAt, orderID: e.OrderID})
			if e.Kind == event.KindORDER_COMPLETED {
				o := st.order(e.MemberID, e.OrderID)
				if o.completed == nil {
					o.completed, o.key = e, e.IdempotencyKey
					others = append(others, e.OrderID)
				}
			}
		}
		// 8. The refunds of those other orders, to tell whether each still stands.
		if len(others) > 0 && len(refunders) > 0 {
			refunds, err := tx.Event.Query().Where(event.MemberIDIn(refunders...), event.KindEQ(event.KindORDER_REFUNDED),
				event.OrderIDIn(unique(others)...)).All(ctx)
			if err != nil {
				return nil, err
			}
			for _, e := range refunds {
				if o := st.orders[orderKey{e.MemberID, e.OrderID}]; o != nil && slices.Contains(others, e.OrderID) {
					o.refunded = append(o.refunded, e.Body.SKUs...)
				}
			}
		}
	}

	// 9. The counter rows of the months the events move.
	if countsMonths {
		months := make([]formula.Month, 0, len(monthSet))
		for m := range monthSet {
			months = append(months, m)
		}
		slices.Sort(months)
		if st.months, err = activity.LoadMonths(ctx, tx, sl.members, months); err != nil {
			return nil, err
		}
	} else {
		st.months = activity.Months{}
	}

	// 10. The bound accounts of members an ACCOUNT_BOUND event binds.
	if len(binders) > 0 {
		ms, err := tx.Member.Query().Where(member.IDIn(unique(binders)...)).Select(member.FieldID, member.FieldBoundAccounts).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			st.members[m.ID] = m
		}
	}
	return st, nil
}

// order returns the state of a member's order, empty until known.
func (st *state) order(memberID int, orderID string) *order {
	k := orderKey{memberID, orderID}
	o := st.orders[k]
	if o == nil {
		o = &order{}
		st.orders[k] = o
	}
	return o
}

// noteEarned records an entry a line earned: purchase points by funder, review rewards by kind.
func (st *state) noteEarned(k lineKey, kind pointentry.Kind, funding string, amount int64) {
	switch kind {
	case pointentry.KindPURCHASE, pointentry.KindPLUS_BONUS:
		if st.earned[k] == nil {
			st.earned[k] = map[string]int64{}
		}
		st.earned[k][funding] += amount
	case pointentry.KindREVIEW, pointentry.KindPHOTO_REVIEW:
		if st.reviewed[k] == nil {
			st.reviewed[k] = map[pointentry.Kind]bool{}
		}
		st.reviewed[k][kind] = true
	}
}

// countsActivity: the kinds that move a month's counters.
func countsActivity(k payload.Kind) bool {
	switch k {
	case payload.OrderCompleted, payload.Login, payload.AppOpened, payload.ReviewPosted, payload.PhotoReviewPosted,
		payload.QuestionAnswered, payload.ProductShared, payload.CheckIn:
		return true
	}
	return false
}

// unique returns the distinct values of xs, sorted.
func unique[T int | string](xs []T) []T {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

package graph

import (
	"context"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/graph/model"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/page"
)

// pageRequest reads a hand-served connection's arguments (paginate has checked the sizes).
// A cursor this kind of connection did not give out is the caller's mistake.
func pageRequest(ctx context.Context, after *entgql.Cursor[int], first *int, before *entgql.Cursor[int], last *int) (page.Request, error) {
	r := page.Request{First: first, Last: last, Total: wantsField(ctx, "totalCount")}
	if first != nil && last != nil {
		return r, badArgument(ctx, "last", page.ErrFirstAndLast)
	}
	var err error
	if r.After, err = cursorKey(ctx, "after", after); err != nil {
		return r, err
	}
	r.Before, err = cursorKey(ctx, "before", before)
	return r, err
}

// cursorKey reads a cursor of a newest-first connection: the row's id and its instant.
func cursorKey(ctx context.Context, arg string, c *entgql.Cursor[int]) (*page.Key, error) {
	if c == nil {
		return nil, nil
	}
	s, ok := c.Value.(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	if !ok || err != nil {
		return nil, badArgument(ctx, arg, errCursor)
	}
	return &page.Key{At: at, ID: c.ID}, nil
}

// keyCursor is the cursor of a row at instant at. The instant travels as text so that it
// decodes back exactly, whatever the encoder does with times.
func keyCursor(at time.Time, id int) ent.Cursor {
	return ent.Cursor{ID: id, Value: at.UTC().Format(time.RFC3339Nano)}
}

// wantsField reports whether the query selects name on the current field, so that a count
// is made only for callers who read it.
func wantsField(ctx context.Context, name string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == name {
			return true
		}
	}
	return false
}

func pageInfo[T any](p page.Page[T], cursor func(T) ent.Cursor) *ent.PageInfo {
	info := &ent.PageInfo{HasNextPage: p.HasNextPage, HasPreviousPage: p.HasPreviousPage}
	if n := len(p.Items); n > 0 {
		start, end := cursor(p.Items[0]), cursor(p.Items[n-1])
		info.StartCursor, info.EndCursor = &start, &end
	}
	return info
}

func eventCursor(ev *ent.Event) ent.Cursor { return keyCursor(ev.OccurredAt, ev.ID) }

func claimCursor(c *ent.BenefitClaim) ent.Cursor { return keyCursor(c.ClaimedAt, c.ID) }

// memberEvent is a stored event as the API shows it; its outcome is the answer
// recordEvents gave when it accepted the event.
func memberEvent(ev *ent.Event) *model.MemberEvent {
	b := ev.Body
	out := &model.MemberEvent{
		IdempotencyKey: ev.IdempotencyKey, Kind: ev.Kind, OccurredAt: ev.OccurredAt, ReceivedAt: ev.RecordedAt,
		Channel: member.RegistrationChannel(ev.Channel), OrderID: nonEmpty(ev.OrderID),
		Lines: make([]*model.OrderLine, len(b.Lines)), Skus: b.SKUs, Provider: nonEmpty(b.Provider),
		Reputation: b.Reputation, Credit: b.Credit,
		Outcome: eventResult(events.Result{IdempotencyKey: ev.IdempotencyKey, Status: events.Accepted, Outcome: ev.Outcome}),
	}
	if out.Skus == nil {
		out.Skus = []string{}
	}
	for i, l := range b.Lines {
		out.Lines[i] = &model.OrderLine{Sku: l.SKU, Category: l.Category, PaidCents: int(l.PaidCents), ProductType: model.ProductType(l.ProductType)}
	}
	if b.OrderType != "" {
		t := model.OrderType(b.OrderType)
		out.OrderType = &t
	}
	if b.PaymentMethod != "" {
		m := model.PaymentMethod(b.PaymentMethod)
		out.PaymentMethod = &m
	}
	return out
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

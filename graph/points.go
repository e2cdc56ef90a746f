package graph

import (
	"github.com/membergraph/membergraph/graph/model"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/points"
)

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func eventInput(e *model.EventInput) events.Input {
	body := payload.Body{
		OrderID:       deref(e.OrderID),
		OrderType:     string(deref(e.OrderType)),
		PaymentMethod: string(deref(e.PaymentMethod)),
		SKUs:          e.Skus,
		Provider:      deref(e.Provider),
		Reputation:    e.Reputation,
		Credit:        e.Credit,
	}
	for _, l := range e.Lines {
		body.Lines = append(body.Lines, payload.Line{SKU: l.Sku, Category: l.Category, PaidCents: int64(l.PaidCents), ProductType: string(l.ProductType)})
	}
	return events.Input{
		IdempotencyKey: e.IdempotencyKey, ExternalID: e.ExternalID, Kind: payload.Kind(e.Kind),
		OccurredAt: e.OccurredAt, Channel: string(e.Channel), Body: body,
	}
}

func eventResult(r events.Result) *model.EventResult {
	out := &model.EventResult{
		IdempotencyKey: r.IdempotencyKey, Status: model.EventStatus(r.Status),
		Points: int(r.Outcome.Points), PendingPoints: int(r.Outcome.PendingPoints),
		DebtPoints: int(r.Outcome.DebtPoints), WithholdCents: int(r.Outcome.WithholdCents),
	}
	if r.Err != nil {
		code := model.UserErrorCode(r.Err.Code)
		out.Code, out.Message, out.Field = &code, &r.Err.Message, r.Err.Field
	}
	return out
}

func pointsChange(res points.Result, err error) (*model.PointsChangePayload, error) {
	ue, err := payloadErrors(err)
	if err != nil || ue != nil {
		return &model.PointsChangePayload{UserErrors: ue}, err
	}
	bal := int(res.Balance)
	return &model.PointsChangePayload{Entry: res.Entry, Replayed: res.Replayed, Balance: &bal, UserErrors: []*model.UserError{}}, nil
}

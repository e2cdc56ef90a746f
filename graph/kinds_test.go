package graph_test

import (
	"fmt"
	"testing"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// TestEveryKindIsStored: every event kind of docs/domain.md §2 is accepted and kept, including the
// ones that move no points (the score and medal issues act on them from the stored events).
func TestEveryKindIsStored(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("carol", nil)
		now := a.now()
		ev := func(key, kind string, extra map[string]any) map[string]any {
			e := map[string]any{"idempotencyKey": key, "externalId": "carol", "kind": kind, "channel": "APP", "occurredAt": now}
			for k, v := range extra {
				e[k] = v
			}
			return e
		}
		two, fifty := 2, 50
		batch := []map[string]any{
			at(orderEvent("k1", "carol", "O-1", "APP", ln("s1", "BEAUTY", 8800)), now),
			ev("k2", "ORDER_REFUNDED", map[string]any{"orderId": "O-1", "skus": []string{"s1"}}),
			ev("k3", "REVIEW_POSTED", map[string]any{"orderId": "O-1", "skus": []string{"s1"}}),
			ev("k4", "PHOTO_REVIEW_POSTED", map[string]any{"orderId": "O-1", "skus": []string{"s1"}}),
			ev("k5", "QUESTION_ANSWERED", map[string]any{"skus": []string{"s1"}}),
			ev("k6", "PRODUCT_SHARED", nil),
			ev("k7", "LOGIN", nil),
			ev("k8", "APP_OPENED", nil),
			ev("k9", "CHECK_IN", nil),
			ev("k10", "ACCOUNT_VERIFIED", nil),
			ev("k11", "ACCOUNT_BOUND", map[string]any{"provider": "WECHAT"}),
			ev("k12", "RISK_UPDATED", map[string]any{"reputation": fifty, "credit": two}),
		}
		res := a.record(batch...)
		for i, r := range res {
			if r.Status != "ACCEPTED" {
				t.Errorf("%s (%s): %s %s", r.IdempotencyKey, batch[i]["kind"], r.Status, deref(r.Message))
			}
		}
		var stored int
		if err := db.SQL.QueryRow("SELECT COUNT(*) FROM events").Scan(&stored); err != nil || stored != len(batch) {
			t.Errorf("%d events stored, want %d (%v)", stored, len(batch), err)
		}
		// Per-kind fields are checked: a provider without ACCOUNT_BOUND, risk out of range.
		for _, bad := range []map[string]any{
			ev("b1", "LOGIN", map[string]any{"provider": "WECHAT"}),
			ev("b2", "RISK_UPDATED", map[string]any{"credit": 101}),
			ev("b3", "RISK_UPDATED", nil),
			ev("b4", "ACCOUNT_BOUND", map[string]any{"provider": "wechat"}),
			ev("b5", "CHECK_IN", map[string]any{"skus": []string{"s1"}}),
		} {
			if r := a.record(bad)[0]; r.Status != "REJECTED" || r.Code == nil || *r.Code != "INVALID_ARGUMENT" {
				t.Errorf("%v: %+v", bad, r)
			}
		}
		// A batch holds at most 500 events.
		var big []map[string]any
		for i := range 501 {
			big = append(big, ev(fmt.Sprintf("big%d", i), "LOGIN", nil))
		}
		var out struct {
			RecordEvents struct {
				Results    []eventResult
				UserErrors []userError
			}
		}
		a.must(a.token(auth.RoleService, ""), recordMutation, map[string]any{"events": big}, &out)
		if len(out.RecordEvents.UserErrors) == 0 || out.RecordEvents.UserErrors[0].Code != "INVALID_ARGUMENT" || len(out.RecordEvents.Results) != 0 {
			t.Errorf("501 events: %+v", out.RecordEvents.UserErrors)
		}
	})
}

package points_test

import (
	"testing"

	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// TestRefusalLosesToAnEarlierSuccess: a change refused for lack of points (an adjustment
// taking 500 of none), while a request under the same key is carried out between the
// refusal's decision and its record (the member topped up meanwhile), answers that
// request's outcome: the unique key decides, so a success is never overturned and the key
// never has two outcomes. (A spend decides and records its refusal in one transaction under
// the member's lock, spendgroup.go, so this window is the single-change path's, once.)
func TestRefusalLosesToAnEarlierSuccess(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, "a")
		clk, svc, admin := w.clk, w.svc, w.admin
		ledger := points.NewLedger(db.Client, db.Dialect, clk, nil)
		spend := points.AdjustRequest{ExternalID: "a", Points: -500, Reason: "take back", IdempotencyKey: "s-1"}
		var winner points.Result
		points.SetBeforeRefusal(ledger, func() {
			points.SetBeforeRefusal(ledger, nil)
			if _, err := ledger.Adjust(admin, points.AdjustRequest{ExternalID: "a", Points: 1000, Reason: "top-up", IdempotencyKey: "top-up"}); err != nil {
				t.Fatal(err)
			}
			var err error
			if winner, err = ledger.Adjust(admin, spend); err != nil || winner.Replayed || winner.Entry == nil {
				t.Fatalf("the spend under the same key after the top-up: %+v, %v", winner, err)
			}
		})
		res, err := ledger.Adjust(admin, spend)
		if err != nil || !res.Replayed || res.Entry == nil || res.Entry.ID != winner.Entry.ID || res.Balance != 500 {
			t.Fatalf("the refused request: %+v, %v; want the replay of entry %d with 500 left", res, err, winner.Entry.ID)
		}
		if again, err := ledger.Adjust(admin, spend); err != nil || !again.Replayed || again.Entry.ID != winner.Entry.ID {
			t.Errorf("a retry: %+v, %v", again, err)
		}
		id, _ := db.Client.Member.Query().Where(member.ExternalID("a")).OnlyID(svc)
		if bal, err := ledger.Balance(svc, id); err != nil || bal.Available != 500 || bal.Total != 500 {
			t.Errorf("balance %+v, %v; want 1000 less one taking of 500", bal, err)
		}
	})
}

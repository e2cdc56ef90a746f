package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// The hot member: many clients spending and earning on one member at once, through the real
// handler. An earn is a one-line web order of ¥580 (58 points: 10 % of the paid amount floored
// to ¥10, docs/domain.md §3, no cap reached, the member is not PLUS; from the web, so no first
// mobile order bonus); a spend is an EXCHANGE of
// hotSpend points, refused FAILED_PRECONDITION when the balance lacks them.
const (
	hotEarn  = 58
	hotSpend = 50
)

const hotSpendMutation = `mutation($input: SpendPointsInput!) { spendPoints(input: $input) { replayed balance userErrors { code } } }`

// hotTally is what a race did: spends taken, spends refused for want of points, earns
// accepted, and the lowest balance any spend reported.
type hotTally struct {
	spent, refused, earned atomic.Int64
	lowest                 atomic.Int64
}

// hotClient posts to the server on connections of its own, so that 16 clients keep 16
// connections open instead of the default transport's two idle ones.
type hotClient struct {
	url  string
	http *http.Client
}

func newHotClient(a *api, clients int) *hotClient {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}
	return &hotClient{url: a.srv.URL + "/graphql", http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// post sends one operation; safe from any goroutine (no testing.T).
func (c *hotClient) post(token, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r struct {
		Data   json.RawMessage
		Errors []gqlError
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
	}
	if len(r.Errors) > 0 {
		return fmt.Errorf("%+v", r.Errors)
	}
	return json.Unmarshal(r.Data, out)
}

// hotRace has clients goroutines send ops operations each on member ext, alternating
// earns and spends (client i starts with an earn when i is even), and tallies them.
func hotRace(a *api, c *hotClient, ext string, clients, ops int, run string) (*hotTally, error) {
	tok := a.token(auth.RoleService, "checkout")
	now := a.now()
	var t hotTally
	t.lowest.Store(1 << 62)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for w := range clients {
		wg.Go(func() {
			for i := range ops {
				key := fmt.Sprintf("%s-%d-%d", run, w, i)
				if (w+i)%2 == 0 {
					var out struct {
						RecordEvents struct{ Results []eventResult }
					}
					ev := at(orderEvent(key, ext, key, "WEB", ln("a", "BOOKS", 58000)), now)
					if err := c.post(tok, recordMutation, map[string]any{"events": []map[string]any{ev}}, &out); err != nil {
						errs <- err
						return
					}
					if rs := out.RecordEvents.Results; len(rs) != 1 || rs[0].Status != "ACCEPTED" {
						errs <- fmt.Errorf("earn %s: %+v", key, rs)
						return
					}
					t.earned.Add(1)
					continue
				}
				var out struct {
					SpendPoints struct {
						Replayed   bool
						Balance    *int64
						UserErrors []userError
					}
				}
				in := map[string]any{"externalId": ext, "points": hotSpend, "purpose": "EXCHANGE", "idempotencyKey": key}
				if err := c.post(tok, hotSpendMutation, map[string]any{"input": in}, &out); err != nil {
					errs <- err
					return
				}
				switch p := out.SpendPoints; {
				case len(p.UserErrors) == 1 && p.UserErrors[0].Code == "FAILED_PRECONDITION":
					t.refused.Add(1)
				case len(p.UserErrors) > 0 || p.Balance == nil || p.Replayed:
					errs <- fmt.Errorf("spend %s: %+v", key, p)
					return
				default:
					t.spent.Add(1)
					for low := t.lowest.Load(); *p.Balance < low && !t.lowest.CompareAndSwap(low, *p.Balance); low = t.lowest.Load() {
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return &t, <-errs
}

// checkHotLedger checks the member's books after a race: the balance the API reports is the
// ledger's sum and the account's cached total, and equals opening + earned×58 − spent×50.
func checkHotLedger(tb testing.TB, a *api, ext string, opening int64, t *hotTally) int64 {
	tb.Helper()
	var out struct {
		Member struct{ Points struct{ Balance int64 } }
	}
	a.must(a.token(auth.RoleAdmin, "ops"), `query($m: String!) { member(externalId: $m) { points { balance } } }`, map[string]any{"m": ext}, &out)
	var sum, total int64
	if err := a.db.SQL.QueryRow(`SELECT COALESCE(SUM(e.amount), 0), a.total FROM point_accounts a JOIN members m ON m.id = a.member_id
		LEFT JOIN point_entries e ON e.member_id = a.member_id WHERE m.external_id = ? GROUP BY a.total`, ext).Scan(&sum, &total); err != nil {
		tb.Fatal(err)
	}
	want := opening + t.earned.Load()*hotEarn - t.spent.Load()*hotSpend
	if got := out.Member.Points.Balance; got != sum || sum != total || got != want || got < 0 {
		tb.Errorf("balance %d, ledger sum %d, account total %d; want %d (opening %d + %d earns × %d − %d spends × %d)",
			got, sum, total, want, opening, t.earned.Load(), hotEarn, t.spent.Load(), hotSpend)
	}
	if t.spent.Load() > 0 && t.lowest.Load() < 0 {
		tb.Errorf("a spend left the balance at %d", t.lowest.Load())
	}
	return out.Member.Points.Balance
}

// TestHotMemberSpendsAndEarns: 16 clients race 6 operations each on one member who opens
// with 120 points, so that spends run into the floor: after the race the balance is the
// ledger's sum and the hand-worked figure, no spend took it below zero, and some spends were
// refused while the earns kept arriving.
func TestHotMemberSpendsAndEarns(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("hot", nil)
		const opening = 120
		if c := a.adjust("hot", opening, "open"); len(c.UserErrors) > 0 {
			t.Fatalf("%+v", c.UserErrors)
		}
		tally, err := hotRace(a, newHotClient(a, 16), "hot", 16, 6, "t")
		if err != nil {
			t.Fatal(err)
		}
		if n := tally.spent.Load() + tally.refused.Load() + tally.earned.Load(); n != 96 {
			t.Errorf("%d operations answered, want 96", n)
		}
		checkHotLedger(t, a, "hot", opening, tally)
		t.Logf("%d earns, %d spends, %d refused", tally.earned.Load(), tally.spent.Load(), tally.refused.Load())
	})
}

// BenchmarkHotMemberSpendsAndEarns: 16 clients race spends and earns on one member through
// the real handler (MariaDB when MEMBERGRAPH_TEST_MYSQL_DSN is set); b.N operations in all.
// Reports operations per second and checks the books afterwards.
func BenchmarkHotMemberSpendsAndEarns(b *testing.B) {
	db := storetest.Open(b, benchBackend(b))
	a := newAPI(b, db)
	a.register("hot", nil)
	const opening = 1_000_000
	if c := a.adjust("hot", opening, "open"); len(c.UserErrors) > 0 {
		b.Fatalf("%+v", c.UserErrors)
	}
	const clients = 16
	c := newHotClient(a, clients)
	ops := max(b.N/clients, 1)
	b.ResetTimer()
	start := time.Now()
	tally, err := hotRace(a, c, "hot", clients, ops, fmt.Sprintf("b%d-%d", b.N, os.Getpid()))
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(clients*ops)/elapsed.Seconds(), "ops/s")
	checkHotLedger(b, a, "hot", opening, tally)
}

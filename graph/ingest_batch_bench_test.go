package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/storetest"
)

// ingestAPI is BenchmarkIngestOrders' server: benchMembers registered members and a
// SERVICE token.
func ingestAPI(b *testing.B) (*api, string) {
	a := newAPI(b, storetest.Open(b, benchBackend(b)))
	for i := range benchMembers {
		a.register(fmt.Sprintf("bm%04d", i), nil)
	}
	return a, a.token(auth.RoleService, "bench")
}

// orderBatch is 100 3-line orders numbered from seq; member names the member of each.
func orderBatch(seq int, now string, member func(i int) string) []map[string]any {
	evs := make([]map[string]any, 100)
	for i := range evs {
		k := seq + i
		evs[i] = at(orderEvent(fmt.Sprintf("b%d", k), member(k), fmt.Sprintf("BO%d", k), "WEB",
			ln("a", "PHONES", 129900), ln("b", "BOOKS", 5800), ln("c", "FOOD", 23000)), now)
	}
	return evs
}

// batchBody is the request body of one recordEvents call of evs. The benchmarks build their
// bodies before the timer starts: a commerce back end sends bytes it already holds, and the
// client's encoding, run in the server's process on the same two cores, is not ingestion's
// work.
func batchBody(evs []map[string]any) []byte {
	body, _ := json.Marshal(map[string]any{"query": recordMutation, "variables": map[string]any{"events": evs}})
	return body
}

// postBatch posts one recordEvents call of n events and reports whether every event was
// accepted; safe for concurrent use (api.do fails the benchmark from its own goroutine only).
func postBatch(a *api, tok string, body []byte, n int) error {
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || bytes.Contains(raw, []byte(`"errors"`)) ||
		bytes.Count(raw, []byte(`"ACCEPTED"`)) != n {
		return fmt.Errorf("recordEvents (%d): %.300s", resp.StatusCode, raw)
	}
	return nil
}

// bodies builds the n batch bodies of a benchmark before its timer: batch i holds the 100
// orders numbered from i*100, member naming the member of each.
func bodies(n int, now string, member func(batch, k int) string) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = batchBody(orderBatch(i*100, now, func(k int) string { return member(i, k) }))
	}
	return out
}

// BenchmarkIngestOrdersHotMember is BenchmarkIngestOrders with the 100 orders of each batch
// all of one member (the next member for the next batch): a hot member's events decided one
// after another in one slice. Target: ≥ 25 % of BenchmarkPlainInsert.
func BenchmarkIngestOrdersHotMember(b *testing.B) {
	a, tok := ingestAPI(b)
	bs := bodies(b.N, a.now(), func(n, _ int) string { return fmt.Sprintf("bm%04d", n%benchMembers) })
	b.ResetTimer()
	start := time.Now()
	for _, body := range bs {
		if err := postBatch(a, tok, body, 100); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkIngestOrders4Clients posts BenchmarkIngestOrders' batches from 4 clients side
// by side (b.N batches in all) and reports the throughput and the latency of a batch: its
// median and 99th percentile. Target: p99 ≤ 250 ms.
func BenchmarkIngestOrders4Clients(b *testing.B) {
	a, tok := ingestAPI(b)
	bs := bodies(b.N, a.now(), func(_, k int) string { return fmt.Sprintf("bm%04d", k%benchMembers) })
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var failed error
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1)) - 1
				if n >= b.N {
					return
				}
				t0 := time.Now()
				err := postBatch(a, tok, bs[n], 100)
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				if err != nil && failed == nil {
					failed = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if failed != nil {
		b.Fatal(failed)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N*100)/elapsed.Seconds(), "events/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

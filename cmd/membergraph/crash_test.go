package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/storetest"
)

// The crash tests run the real binary against MariaDB, break it mid-load and check the books
// afterwards. They need MEMBERGRAPH_TEST_MYSQL_DSN (the outage test also needs mariadbd to
// start a server of its own); CHAOS_SCALE=N (make chaos) kills the server N times in the
// first and keeps the database down N times longer in the second. docs/reliability.md records the figures they log.

// chaosScale is how many times the crash tests repeat or lengthen their fault: 1 in make test.
func chaosScale() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("CHAOS_SCALE"), &n); err != nil || n < 1 {
		return 1
	}
	return n
}

// chaosMySQL is the URL of a fresh MariaDB database, or a skip saying why there is none.
func chaosMySQL(t *testing.T) string {
	t.Helper()
	if os.Getenv(storetest.EnvMySQLDSN) == "" {
		t.Skip("crash tests need MariaDB: set MEMBERGRAPH_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test'")
	}
	bs := storetest.Backends()
	return bs[len(bs)-1].URL(t)
}

// chaosEnv is what a crash test's server runs with: no plugins, no demo members, a fixed secret.
func chaosEnv(t *testing.T, databaseURL string) []string {
	dir := t.TempDir()
	return []string{
		"MEMBERGRAPH_AUTH_SECRET=" + testSecret,
		"MEMBERGRAPH_DATABASE_URL=" + databaseURL,
		"MEMBERGRAPH_STATE_DIR=" + filepath.Join(dir, "state"),
		"MEMBERGRAPH_PLUGIN_DIR=" + filepath.Join(dir, "no-plugins"),
		"MEMBERGRAPH_DEMO=false",
		"MEMBERGRAPH_LOG_LEVEL=warn",
	}
}

// kill9 ends the server with SIGKILL: no shutdown, no flush, in-flight requests cut.
func (s *server) kill9() {
	_ = s.cmd.Process.Kill()
	err := <-s.done
	s.done <- err // stop (the test's cleanup) reads it again
}

// chaosClient posts GraphQL to a server; base may change when the server restarts.
type chaosClient struct {
	mu    sync.Mutex
	base  string
	token string
	http  *http.Client
}

func newChaosClient(t *testing.T, base string, role auth.Role) *chaosClient {
	t.Helper()
	signer, err := auth.NewSigner([]byte(testSecret), nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signer.Issue(auth.TokenRequest{Role: role, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// The timeout is far beyond any deadline the server keeps: reaching it is a hang.
	return &chaosClient{base: base, token: tok, http: &http.Client{Timeout: 60 * time.Second}}
}

func (c *chaosClient) setBase(base string) {
	c.mu.Lock()
	c.base = base
	c.mu.Unlock()
}

// gqlAnswer is a GraphQL response.
type gqlAnswer struct {
	Status int
	Data   json.RawMessage
	Errors []struct {
		Message    string
		Extensions map[string]any
	}
}

// code is the code of the answer's first error, "" without errors.
func (a gqlAnswer) code() string {
	if len(a.Errors) == 0 {
		return ""
	}
	c, _ := a.Errors[0].Extensions["code"].(string)
	return c
}

// post sends one operation; the error is a transport failure (no answer at all).
func (c *chaosClient) post(query string, vars map[string]any) (gqlAnswer, error) {
	c.mu.Lock()
	base := c.base
	c.mu.Unlock()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return gqlAnswer{}, err
	}
	defer resp.Body.Close()
	var a gqlAnswer
	a.Status = resp.StatusCode
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return gqlAnswer{}, fmt.Errorf("HTTP %d, body not GraphQL: %w", resp.StatusCode, err)
	}
	return a, nil
}

const chaosRecord = `mutation($events: [EventInput!]!) {
  recordEvents(input: {events: $events}) { results { idempotencyKey status code message points } userErrors { code message } }
}`

const chaosSpend = `mutation($input: SpendPointsInput!) {
  spendPoints(input: $input) { entry { amount } replayed balance userErrors { code message } }
}`

const chaosRegister = `mutation($id: String!) {
  registerMember(input: {externalId: $id, registrationChannel: APP}) { member { id } userErrors { code message } }
}`

type chaosResult struct {
	IdempotencyKey string
	Status         string
	Code           *string
	Message        *string
	Points         int64
}

// record posts a batch; ok is false when no answer came (the batch's fate is unknown).
func (c *chaosClient) record(events []map[string]any) ([]chaosResult, gqlAnswer, error) {
	a, err := c.post(chaosRecord, map[string]any{"events": events})
	if err != nil || len(a.Errors) > 0 {
		return nil, a, err
	}
	var out struct {
		RecordEvents struct {
			Results    []chaosResult
			UserErrors []struct{ Code, Message string }
		}
	}
	if err := json.Unmarshal(a.Data, &out); err != nil {
		return nil, a, err
	}
	if ue := out.RecordEvents.UserErrors; len(ue) > 0 {
		return nil, a, fmt.Errorf("batch refused: %s %s", ue[0].Code, ue[0].Message)
	}
	return out.RecordEvents.Results, a, nil
}

type chaosSpent struct {
	Amount   int64 // the entry's amount, negative; 0 when refused
	Replayed bool
	Refusal  string // the userError code of a refusal
}

func (c *chaosClient) spend(member, key string, pts int) (chaosSpent, gqlAnswer, error) {
	a, err := c.post(chaosSpend, map[string]any{"input": map[string]any{
		"externalId": member, "points": pts, "purpose": "EXCHANGE", "idempotencyKey": key}})
	if err != nil || len(a.Errors) > 0 {
		return chaosSpent{}, a, err
	}
	var out struct {
		SpendPoints struct {
			Entry      *struct{ Amount int64 }
			Replayed   bool
			UserErrors []struct{ Code, Message string }
		}
	}
	if err := json.Unmarshal(a.Data, &out); err != nil {
		return chaosSpent{}, a, err
	}
	s := chaosSpent{Replayed: out.SpendPoints.Replayed}
	switch {
	case len(out.SpendPoints.UserErrors) > 0:
		s.Refusal = out.SpendPoints.UserErrors[0].Code
	case out.SpendPoints.Entry != nil:
		s.Amount = out.SpendPoints.Entry.Amount
	}
	return s, a, nil
}

func (c *chaosClient) register(t *testing.T, ids ...string) {
	t.Helper()
	for _, id := range ids {
		a, err := c.post(chaosRegister, map[string]any{"id": id})
		if err != nil || len(a.Errors) > 0 || !strings.Contains(string(a.Data), `"userErrors":[]`) {
			t.Fatalf("register %s: %v %+v %s", id, err, a.Errors, a.Data)
		}
	}
}

// chaosOrder is an order of one line; paid varies so that events earn different points.
func chaosOrder(key, member string, paidCents int, at time.Time) map[string]any {
	return map[string]any{"idempotencyKey": key, "externalId": member, "kind": "ORDER_COMPLETED", "channel": "WEB",
		"occurredAt": at.Format(time.RFC3339), "orderId": key, "orderType": "NORMAL", "paymentMethod": "CASH",
		"lines": []map[string]any{{"sku": "sku-1", "category": "BOOKS", "paidCents": paidCents, "productType": "PHYSICAL"}}}
}

// chaosBooks is what the clients were told, to be compared with what the database holds.
type chaosBooks struct {
	mu sync.Mutex
	// promised: event key → points of its first ACCEPTED answer (or of its replay when the
	// first answer was lost); member: event key → member.
	promised map[string]int64
	member   map[string]string
	// spent: spend key → the answer it got; spender: spend key → member.
	spent   map[string]chaosSpent
	spender map[string]string
	// figures; answerLost: events stored although their first send got no answer (the crash
	// or outage came between the commit and the reply), which a resend answers DUPLICATE.
	sent, accepted, duplicates, rejected, unanswered, answerLost int
	// spendAnswerLost: spends executed although their first send got no answer.
	spendAnswerLost int
}

func newChaosBooks() *chaosBooks {
	return &chaosBooks{promised: map[string]int64{}, member: map[string]string{}, spent: map[string]chaosSpent{}, spender: map[string]string{}}
}

// take records the answer to a batch sent once before (resend) or for the first time. A key
// ACCEPTED twice, or answered with other points than its first answer, is applied twice.
func (b *chaosBooks) take(t *testing.T, events []map[string]any, results []chaosResult) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(results) != len(events) {
		t.Errorf("%d results for %d events", len(results), len(events))
		return
	}
	for i, r := range results {
		key := events[i]["idempotencyKey"].(string)
		b.member[key] = events[i]["externalId"].(string)
		first, seen := b.promised[key]
		switch r.Status {
		case "ACCEPTED":
			b.accepted++
			if seen {
				t.Errorf("event %s ACCEPTED again after an answer of %d points: applied twice", key, first)
			}
			b.promised[key] = r.Points
		case "DUPLICATE":
			b.duplicates++
			if !seen {
				b.answerLost++
			}
			if seen && first != r.Points {
				t.Errorf("event %s replayed with %d points, first answered %d", key, r.Points, first)
			}
			b.promised[key] = r.Points
		default:
			b.rejected++
			t.Errorf("event %s: %s %v %v", key, r.Status, deref(r.Code), deref(r.Message))
		}
	}
}

// fund has every member first earn far more than the spenders take (2 × 1,000 points each:
// a ¥10,000 line earns 10 %, capped at 1,000, docs/domain.md §3 "Earning").
func (b *chaosBooks) fund(t *testing.T, svc *chaosClient, members []string, at time.Time) {
	t.Helper()
	var fund []map[string]any
	for i, m := range members {
		for j := range 2 {
			fund = append(fund, chaosOrder(fmt.Sprintf("ev-fund-%d-%d", i, j), m, 1_000_000, at))
		}
	}
	b.sent += len(fund)
	res, a, err := svc.record(fund)
	if err != nil || a.code() != "" {
		t.Fatalf("funding: %v %+v", err, a.Errors)
	}
	b.take(t, fund, res)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// takeSpend records a spend's answer; a second answer must say what the first said.
func (b *chaosBooks) takeSpend(t *testing.T, member, key string, s chaosSpent, resend bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.spender[key] = member
	first, seen := b.spent[key]
	switch {
	case s.Refusal != "":
		// Every member holds far more than the clients spend: a refusal is a fault.
		t.Errorf("spend %s refused: %s", key, s.Refusal)
	case seen && (first.Amount != s.Amount || !s.Replayed):
		t.Errorf("spend %s answered %+v, first %+v: applied twice or changed", key, s, first)
	case !seen && !resend && s.Replayed:
		t.Errorf("spend %s replayed on its first send", key)
	case !seen && resend && s.Replayed:
		b.spendAnswerLost++
	}
	if !seen || first.Refusal != "" {
		b.spent[key] = s
	}
}

// check compares the books with the database: every event stored once, every accepted spend
// written once, and per member the balance = the sum of entries = the live lots − debt =
// what the clients were promised.
func (b *chaosBooks) check(t *testing.T, databaseURL string, c *chaosClient, members []string) {
	t.Helper()
	db, err := sql.Open("mysql", strings.TrimPrefix(databaseURL, "mysql://"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := map[string]int64{}
	rows, err := db.Query(`SELECT e.idempotency_key, COALESCE(SUM(p.amount), 0) FROM events e
		LEFT JOIN point_entries p ON p.event_id = e.id GROUP BY e.id, e.idempotency_key`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		var sum int64
		if err := rows.Scan(&k, &sum); err != nil {
			t.Fatal(err)
		}
		if _, dup := stored[k]; dup {
			t.Errorf("event %s stored twice", k)
		}
		stored[k] = sum
	}
	rows.Close()
	lost, twice := 0, 0
	want := map[string]int64{}
	for k, pts := range b.promised {
		want[b.member[k]] += pts
		sum, ok := stored[k]
		switch {
		case !ok:
			lost++
			t.Errorf("event %s was answered %d points but is not stored", k, pts)
		case sum != pts:
			twice++
			t.Errorf("event %s: entries sum to %d, promised %d", k, sum, pts)
		}
	}
	for k := range stored {
		if _, ok := b.promised[k]; !ok && strings.HasPrefix(k, "ev-") {
			t.Errorf("event %s stored but never answered", k)
		}
	}
	spendRows := map[string]int64{}
	rows, err = db.Query(`SELECT request_key, COUNT(*), SUM(amount) FROM point_entries WHERE request_key LIKE 'spend-%' GROUP BY request_key`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		var n int
		var sum int64
		if err := rows.Scan(&k, &n, &sum); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			twice++
			t.Errorf("spend %s written %d times", k, n)
		}
		spendRows[k] = sum
	}
	rows.Close()
	for k, s := range b.spent {
		want[b.spender[k]] += s.Amount
		if spendRows[k] != s.Amount {
			t.Errorf("spend %s answered %d, entries %d", k, s.Amount, spendRows[k])
		}
	}
	for k := range spendRows {
		if _, ok := b.spent[k]; !ok {
			t.Errorf("spend %s written but never answered", k)
		}
	}
	b.mu.Lock()
	t.Logf("figures: events sent %d (%d without an answer), ACCEPTED %d, DUPLICATE %d (%d stored though unanswered), rejected %d, stored %d, lost %d, applied twice %d; spends %d (%d executed though unanswered), written %d",
		b.sent, b.unanswered, b.accepted, b.duplicates, b.answerLost, b.rejected, len(stored), lost, twice, len(b.spent), b.spendAnswerLost, len(spendRows))
	b.mu.Unlock()

	type acct struct{ total, debt, entries, lots int64 }
	accts := map[string]*acct{}
	for _, m := range members {
		accts[m] = &acct{}
	}
	scan := func(set func(a *acct, v int64), q string, args ...any) {
		rows, err := db.Query(q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var m string
			var v int64
			if err := rows.Scan(&m, &v); err != nil {
				t.Fatal(err)
			}
			if a := accts[m]; a != nil {
				set(a, v)
			}
		}
	}
	scan(func(a *acct, v int64) { a.total = v }, `SELECT m.external_id, a.total FROM point_accounts a JOIN members m ON m.id = a.member_id`)
	scan(func(a *acct, v int64) { a.debt = v }, `SELECT m.external_id, a.debt FROM point_accounts a JOIN members m ON m.id = a.member_id`)
	scan(func(a *acct, v int64) { a.entries = v }, `SELECT m.external_id, SUM(p.amount) FROM point_entries p JOIN members m ON m.id = p.member_id GROUP BY m.external_id`)
	scan(func(a *acct, v int64) { a.lots = v }, `SELECT m.external_id, SUM(l.remaining) FROM point_lots l JOIN members m ON m.id = l.member_id WHERE l.expires_at > UTC_TIMESTAMP(6) GROUP BY m.external_id`)
	for _, m := range members {
		a := accts[m]
		a2, err := c.post(`query($id: String!) { member(externalId: $id) { points { balance } } }`, map[string]any{"id": m})
		var out struct {
			Member struct{ Points struct{ Balance int64 } }
		}
		if err != nil || len(a2.Errors) > 0 || json.Unmarshal(a2.Data, &out) != nil {
			t.Errorf("balance of %s: %v %+v", m, err, a2.Errors)
			continue
		}
		bal := out.Member.Points.Balance
		if bal != want[m] || a.total != want[m] || a.entries != want[m] || a.lots-a.debt != want[m] {
			t.Errorf("member %s: balance %d, account total %d, entries %d, live lots %d − debt %d; promised %d",
				m, bal, a.total, a.entries, a.lots, a.debt, want[m])
		}
	}
}

// TestCrashKill9MidBatch: clients send recordEvents batches and keyed spends to the real
// server on MariaDB; it is SIGKILLed mid-flight and restarted, and every batch and spend is
// sent again. Nothing answered is lost, nothing is applied twice, and every member's balance
// equals its entries, its live lots and what the answers promised.
func TestCrashKill9MidBatch(t *testing.T) {
	databaseURL := chaosMySQL(t)
	bin := buildBinary(t)
	env := chaosEnv(t, databaseURL)
	srv := startServe(t, bin, t.TempDir(), env)
	admin := newChaosClient(t, srv.base, auth.RoleAdmin)
	svc := newChaosClient(t, srv.base, auth.RoleService)

	scale := chaosScale() // kills
	const nMembers, clients, spenders, batchSize = 12, 4, 2, 40
	var members []string
	for i := range nMembers {
		members = append(members, fmt.Sprintf("crash-%02d", i))
	}
	admin.register(t, members...)
	books := newChaosBooks()
	now := time.Now()
	books.fund(t, svc, members, now)

	// Each round: load until the kill, then the same binary started again on the same
	// database. A batch or spend without an answer is only kept for the resend at the end.
	type batch struct{ events []map[string]any }
	var mu sync.Mutex
	var sentBatches []batch
	type spendReq struct{ member, key string }
	var sentSpends []spendReq
	var recoveries []string
	for round := range scale {
		killed := make(chan struct{})
		var wg sync.WaitGroup
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					evs := make([]map[string]any, batchSize)
					for i := range evs {
						// 50–99 yuan: 5–9 points an event (docs/domain.md §3: 10 % of the floored amount).
						evs[i] = chaosOrder(fmt.Sprintf("ev-%d-%d-%d-%d", round, c, n, i), members[(c*7+n*batchSize+i)%nMembers], 5000+((n*batchSize+i)%50)*100, now)
					}
					mu.Lock()
					sentBatches = append(sentBatches, batch{evs})
					mu.Unlock()
					books.mu.Lock()
					books.sent += len(evs)
					books.mu.Unlock()
					res, a, err := svc.record(evs)
					if err != nil || a.code() != "" {
						books.mu.Lock()
						books.unanswered += len(evs)
						books.mu.Unlock()
						select {
						case <-killed:
						default:
							t.Errorf("batch failed before the kill: %v %+v", err, a.Errors)
						}
						return
					}
					books.take(t, evs, res)
				}
			}()
		}
		for sp := range spenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					r := spendReq{members[(sp*5+n)%nMembers], fmt.Sprintf("spend-%d-%d-%d", round, sp, n)}
					mu.Lock()
					sentSpends = append(sentSpends, r)
					mu.Unlock()
					got, a, err := svc.spend(r.member, r.key, 7)
					if err != nil || a.code() != "" {
						select {
						case <-killed:
						default:
							t.Errorf("spend failed before the kill: %v %+v", err, a.Errors)
						}
						return
					}
					books.takeSpend(t, r.member, r.key, got, false)
				}
			}()
		}
		// Kill once the clients have been answered a few batches, while others are in flight.
		books.mu.Lock()
		target := books.accepted + clients*batchSize*3
		books.mu.Unlock()
		for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			books.mu.Lock()
			acc := books.accepted
			books.mu.Unlock()
			if acc >= target {
				break
			}
		}
		time.Sleep(time.Duration(17+13*round) * time.Millisecond) // off the answer's edge
		close(killed)
		srv.kill9()
		wg.Wait()
		start := time.Now()
		srv = startServe(t, bin, t.TempDir(), env)
		recoveries = append(recoveries, time.Since(start).Round(time.Millisecond).String())
		svc.setBase(srv.base)
		admin.setBase(srv.base)
	}

	// Every batch and spend again, to the server of the last restart.
	for _, b := range sentBatches {
		res, a, err := svc.record(b.events)
		if err != nil || a.code() != "" {
			t.Fatalf("resend: %v %+v", err, a.Errors)
		}
		books.take(t, b.events, res)
	}
	for _, r := range sentSpends {
		got, a, err := svc.spend(r.member, r.key, 7)
		if err != nil || a.code() != "" {
			t.Fatalf("spend resend: %v %+v", err, a.Errors)
		}
		books.takeSpend(t, r.member, r.key, got, true)
	}
	t.Logf("%d kills; restart to ready: %s; batches %d, spends %d", scale, strings.Join(recoveries, ", "), len(sentBatches), len(sentSpends))
	books.check(t, databaseURL, admin, members)
}

// chaosMariaDB is a MariaDB server of the test's own, on a free port with a data directory
// under the test's temporary directory, that the test may kill and start again.
type chaosMariaDB struct {
	t       *testing.T
	bin     string
	dir     string
	port    string
	mu      sync.Mutex
	cmd     *exec.Cmd
	stopped chan struct{}
}

// startChaosMariaDB starts mariadbd on an empty data directory (InnoDB makes its files; no
// grant tables are needed with --skip-grant-tables) or skips the test when there is none.
func startChaosMariaDB(t *testing.T) *chaosMariaDB {
	t.Helper()
	bin := ""
	for _, p := range []string{"/usr/sbin/mariadbd", "/usr/bin/mariadbd", "/usr/sbin/mysqld"} {
		if _, err := os.Stat(p); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if p, err := exec.LookPath("mariadbd"); err == nil {
			bin = p
		}
	}
	if bin == "" {
		t.Skip("the outage test starts a MariaDB server of its own: mariadbd is not installed (apt-get install mariadb-server)")
	}
	_, port, _ := strings.Cut(freeAddr(t), ":")
	m := &chaosMariaDB{t: t, bin: bin, dir: t.TempDir(), port: port}
	if err := os.Mkdir(filepath.Join(m.dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	// InnoDB makes its system tablespace at the first start; a kill before that is on disk
	// leaves a data directory it cannot recover. A clean stop after the first start makes
	// the later kills those of a running database, which InnoDB recovers from its redo log.
	m.start()
	t.Cleanup(m.kill)
	m.stop(syscall.SIGTERM)
	m.start()
	return m
}

func (m *chaosMariaDB) start() {
	m.t.Helper()
	cmd := exec.Command(m.bin, "--no-defaults", "--datadir="+filepath.Join(m.dir, "data"),
		"--socket="+filepath.Join(m.dir, "mysqld.sock"), "--pid-file="+filepath.Join(m.dir, "mysqld.pid"),
		"--port="+m.port, "--bind-address=127.0.0.1", "--user=root", "--skip-grant-tables",
		"--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M", "--skip-log-bin",
		"--character-set-server=utf8mb4", "--collation-server=utf8mb4_bin", "--max-connections=300")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		m.t.Fatalf("mariadbd: %v", err)
	}
	stopped := make(chan struct{})
	go func() { _ = cmd.Wait(); close(stopped) }()
	m.mu.Lock()
	m.cmd, m.stopped = cmd, stopped
	m.mu.Unlock()
	db, _ := sql.Open("mysql", "root@tcp(127.0.0.1:"+m.port+")/")
	defer db.Close()
	for range 600 {
		if db.Ping() == nil {
			return
		}
		select {
		case <-stopped:
			m.t.Fatalf("mariadbd exited:\n%s", logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	m.t.Fatalf("mariadbd not answering after 30 s:\n%s", logs.String())
}

// kill ends the server with SIGKILL, as a crashed or fenced-off database host.
func (m *chaosMariaDB) kill() { m.stop(syscall.SIGKILL) }

// stop sends sig and waits for the server to exit.
func (m *chaosMariaDB) stop(sig syscall.Signal) {
	m.mu.Lock()
	cmd, stopped := m.cmd, m.stopped
	m.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	<-stopped
}

func (m *chaosMariaDB) url(db string) string {
	return "mysql://root@tcp(127.0.0.1:" + m.port + ")/" + db
}

// TestDatabaseOutageUnderLoad: the real server runs on a MariaDB of the test's own, under
// load; the database is killed for a few seconds and started again. While it is down every
// request answers UNAVAILABLE (never INTERNAL) within the request deadline; after it is back
// the same server process serves again without a restart; nothing acknowledged is lost and
// nothing applied twice.
func TestDatabaseOutageUnderLoad(t *testing.T) {
	if os.Getenv(storetest.EnvMySQLDSN) == "" {
		t.Skip("crash tests need MariaDB: set MEMBERGRAPH_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test'")
	}
	mdb := startChaosMariaDB(t)
	{
		db, err := sql.Open("mysql", "root@tcp(127.0.0.1:"+mdb.port+")/")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("CREATE DATABASE mg CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	databaseURL := mdb.url("mg")
	bin := buildBinary(t)
	srv := startServe(t, bin, t.TempDir(), chaosEnv(t, databaseURL))
	admin := newChaosClient(t, srv.base, auth.RoleAdmin)
	svc := newChaosClient(t, srv.base, auth.RoleService)

	scale := chaosScale()
	const nMembers, clients, batchSize = 8, 4, 10
	var members []string
	for i := range nMembers {
		members = append(members, fmt.Sprintf("outage-%02d", i))
	}
	admin.register(t, members...)
	books := newChaosBooks()
	now := time.Now()
	books.fund(t, svc, members, now)

	// Requests must end well within this: the server's deadline (10 s by default) and a margin.
	const hang = 15 * time.Second
	var (
		mu          sync.Mutex
		codes       = map[string]int{} // error code → answers with it
		slowest     time.Duration
		pending     [][]map[string]any // batches without a successful answer, for the resend
		downAt      time.Time
		upAt        time.Time
		firstOKAt   time.Time
		failedWhile int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// The clients end before the test does, also when it fails early.
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopLoad()
	// A spender beside the event clients: keyed spends answered or UNAVAILABLE, resent after.
	var pendingSpends [][2]string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			member, key := members[n%nMembers], fmt.Sprintf("spend-%d", n)
			got, a, err := svc.spend(member, key, 7)
			switch {
			case err == nil && a.code() == "":
				books.takeSpend(t, member, key, got, false)
			case err != nil || a.code() != "UNAVAILABLE":
				t.Errorf("spend %s: %v, %s %+v", key, err, a.code(), a.Errors)
				fallthrough
			default:
				mu.Lock()
				pendingSpends = append(pendingSpends, [2]string{member, key})
				codes[a.code()]++
				mu.Unlock()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				evs := make([]map[string]any, batchSize)
				for i := range evs {
					evs[i] = chaosOrder(fmt.Sprintf("ev-%d-%d-%d", c, n, i), members[(c+n*batchSize+i)%nMembers], 5000+((n+i)%50)*100, now)
				}
				books.mu.Lock()
				books.sent += len(evs)
				books.mu.Unlock()
				t0 := time.Now()
				res, a, err := svc.record(evs)
				took := time.Since(t0)
				mu.Lock()
				slowest = max(slowest, took)
				if took > hang {
					t.Errorf("a request took %s", took)
				}
				switch {
				case err == nil && a.code() == "":
					if !upAt.IsZero() && firstOKAt.IsZero() {
						firstOKAt = time.Now()
					}
					mu.Unlock()
					books.take(t, evs, res)
					continue
				case a.Status == 0:
					t.Errorf("no answer: %v", err) // the server stays up: a transport error is a fault
				default:
					codes[a.code()]++
					if !downAt.IsZero() && upAt.IsZero() {
						failedWhile++
					}
					if a.code() != "UNAVAILABLE" {
						t.Errorf("HTTP %d, %s: %+v", a.Status, a.code(), a.Errors)
					} else if a.Errors[0].Extensions["retryAfterSeconds"] == nil {
						t.Errorf("UNAVAILABLE without retryAfterSeconds: %+v", a.Errors[0])
					}
				}
				pending = append(pending, evs)
				books.mu.Lock()
				books.unanswered += len(evs)
				books.mu.Unlock()
				mu.Unlock()
				time.Sleep(50 * time.Millisecond) // a client backing off, not spinning
			}
		}()
	}
	time.Sleep(time.Duration(scale) * 2 * time.Second)
	mu.Lock()
	downAt = time.Now()
	mu.Unlock()
	mdb.kill()
	time.Sleep(time.Duration(scale) * 3 * time.Second)
	// While the database is down, a read answers UNAVAILABLE too.
	if a, err := admin.post(`query($id: String!) { member(externalId: $id) { points { balance } } }`, map[string]any{"id": members[0]}); err != nil || a.code() != "UNAVAILABLE" {
		t.Errorf("a read while the database is down: %v, %s %+v", err, a.code(), a.Errors)
	}
	mdb.start()
	mu.Lock()
	upAt = time.Now()
	mu.Unlock()
	// Load goes on until the server has answered after the restart, and a little longer.
	for range 600 {
		mu.Lock()
		ok := !firstOKAt.IsZero()
		mu.Unlock()
		if ok {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	stopLoad()
	if firstOKAt.IsZero() {
		t.Fatalf("the server did not serve again within 30 s of the database's return; answers %v\n%s", codes, srv.log())
	}
	for _, evs := range pending {
		res, a, err := svc.record(evs)
		if err != nil || a.code() != "" {
			t.Fatalf("resend after the outage: %v %+v", err, a.Errors)
		}
		books.take(t, evs, res)
	}
	for _, r := range pendingSpends {
		got, a, err := svc.spend(r[0], r[1], 7)
		if err != nil || a.code() != "" {
			t.Fatalf("spend resend after the outage: %v %+v", err, a.Errors)
		}
		books.takeSpend(t, r[0], r[1], got, true)
	}
	if srv.cmd.ProcessState != nil {
		t.Fatalf("the server exited during the outage:\n%s", srv.log())
	}
	t.Logf("database down %s; first answer %s after its restart; answers while down or failing %v (%d while down); slowest request %s",
		upAt.Sub(downAt).Round(time.Millisecond), firstOKAt.Sub(upAt).Round(time.Millisecond), codes, failedWhile, slowest.Round(time.Millisecond))
	books.check(t, databaseURL, admin, members)
}

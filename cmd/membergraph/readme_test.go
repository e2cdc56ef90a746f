package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/membergraph/membergraph/internal/storetest"
)

// readmeSecret is what the README test's server signs tokens with; the README's own path
// (no secret, development tokens) is TestServeFirstStart's.
const readmeSecret = "readme-test-secret-readme-test-secret!"

// readmeClock is the instant the README's examples are written for, the --clock-start their
// text gives; with it their dates keep the meaning the text says whatever day the test runs.
const readmeClock = "2026-12-03T10:00:00+08:00"

// readmeCodePlaceholder is where a reader pastes a redemption code from the answer of
// IssuePromotionCodes; the test pastes the first code of that answer.
const readmeCodePlaceholder = "PASTE-A-CODE-HERE"

// readmePartners are the plugins make build builds and trusts, so the README's partner
// examples meet the same server a new user's make run starts.
var readmePartners = []string{"videovip", "cobrandcard", "pointsexchange"}

// readmeBlock is one ```graphql block of the README.
type readmeBlock struct {
	line    int    // where the block starts in README.md, for messages
	role    string // from its first line, "# token: ROLE [SUBJECT]"
	subject string
	query   string
	op      string // the name of its one operation
	// subscription: the block subscribes (over the websocket) and is answered by the change
	// the next block makes (runREADME).
	subscription bool
}

// TestREADME is the README's walkthrough as a new user pastes it: every ```graphql block,
// in order, against the real binary with the partner plugins on a fresh SQLite file (and a
// fresh MariaDB database when MEMBERGRAPH_TEST_MYSQL_DSN is set), each with the token its
// first line names. A block fails on an HTTP error, a GraphQL error, a userError or a
// rejected event; some blocks' answers are also checked against figures worked by hand from
// docs/domain.md.
func TestREADME(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	checkREADMEGoVersion(t, readme)
	blocks := readmeBlocks(t, readme)
	if len(blocks) < 5 {
		t.Fatalf("README has %d graphql blocks; the walkthrough has more", len(blocks))
	}
	if t.Failed() {
		return
	}

	bin := buildBinary(t)
	pluginDir := buildREADMEPlugins(t, bin, filepath.Join(t.TempDir(), "plugins"))
	// On the embedded SQLite file, as make run serves; on MariaDB too when the store tests
	// have one, as the README's "Running on MySQL or MariaDB" serves.
	for _, backend := range storetest.Backends() {
		t.Run(backend.Name, func(t *testing.T) { runREADME(t, bin, pluginDir, backend.URL(t), blocks) })
	}
}

func runREADME(t *testing.T, bin, pluginDir, databaseURL string, blocks []readmeBlock) {
	dir := t.TempDir()
	env := append(os.Environ(),
		"MEMBERGRAPH_AUTH_SECRET="+readmeSecret,
		"MEMBERGRAPH_DATABASE_URL="+databaseURL,
		"MEMBERGRAPH_STATE_DIR="+filepath.Join(dir, "data"),
		"MEMBERGRAPH_PLUGIN_DIR="+pluginDir,
	)
	base := startREADMEServer(t, bin, env)

	tokens := map[string]string{}
	var issued string           // the code a reader pastes into RedeemPlusCode
	var pending *websocket.Conn // a subscription block's socket, until the next block's change
	var pendingBlock readmeBlock
	for _, b := range blocks {
		key := b.role + " " + b.subject
		if tokens[key] == "" {
			tokens[key] = readmeToken(t, bin, env, b.role, b.subject)
		}
		if issued != "" {
			b.query = strings.ReplaceAll(b.query, readmeCodePlaceholder, issued)
		}
		if b.subscription {
			// Open, as a reader keeps it open in one tab; the next block's change answers it.
			sub, problem := readmeSubscribe(base, tokens[key], b)
			if problem != "" {
				t.Errorf("README.md:%d, subscription %s: %s", b.line, b.op, problem)
			} else {
				pending, pendingBlock = sub, b
			}
			continue
		}
		data, problem := runREADMEBlock(base, tokens[key], b)
		if pending != nil {
			pushed, sp := readmePushed(pending)
			if sp == "" {
				sp = checkREADMEAnswer(pushed, readmeChecks[pendingBlock.op])
			}
			if sp != "" {
				t.Errorf("README.md:%d, subscription %s after %s: %s", pendingBlock.line, pendingBlock.op, b.op, sp)
			} else {
				t.Logf("%s: %s", pendingBlock.op, pushed)
			}
			pending.Close()
			pending = nil
		}
		if b.op == "IssuePromotionCodes" && problem == "" {
			var a struct {
				IssuePlusCodes struct{ Codes []string }
			}
			if err := json.Unmarshal(data, &a); err != nil || len(a.IssuePlusCodes.Codes) == 0 {
				problem = "no codes to paste in " + string(data)
			} else {
				issued = a.IssuePlusCodes.Codes[0]
			}
		}
		if problem == "" {
			problem = checkREADMEAnswer(data, readmeChecks[b.op])
		}
		if problem != "" {
			t.Errorf("README.md:%d, operation %s (token %s): %s", b.line, b.op, strings.TrimSpace(key), problem)
		} else {
			t.Logf("%s: %s", b.op, data)
		}
	}
}

// readmeChecks are what the README's text says some operations answer, by operation name:
// JSON paths into data and their values, worked by hand from docs/domain.md (the demo
// member's figures are worked in internal/demo's tests).
var readmeChecks = map[string][]readmeWant{
	// demo-0001 is the demo's Gold member.
	"MyMembership": {{"viewer.externalId", "demo-0001"}, {"viewer.tier.name", "Gold"}},
	// The Goodwill adjustment after it writes one ledger entry: one points.changed.
	"MyUpdates": {{"memberUpdated.type", "points.changed"}},
	// Gold holds FREE_SHIPPING_5, five a month: one claimed, four left.
	"UseFreeShipping": {{"claimBenefit.remaining", 4.0}, {"claimBenefit.replayed", false}},
	// The claim just made is the newest.
	"MyClaims": {{"viewer.benefitClaims.edges.0.node.source", "CLAIM"}, {"viewer.benefitClaims.edges.0.node.benefit.key", "FREE_SHIPPING_5"}},
	// A ¥4,999 phone line bought in the app: floored to ¥4,990, 10% is 499 points (under the
	// app's 2,000 cap), plus 10 for the member's first mobile order of the day: 509.
	"RecordOrder": {{"recordEvents.results.0.status", "ACCEPTED"}, {"recordEvents.results.0.points", 509.0}},
	// The order just recorded, stored with what it did.
	"AuditTrail": {{"member.events.totalCount", 1.0}, {"member.events.edges.0.node.kind", "ORDER_COMPLETED"},
		{"member.events.edges.0.node.outcome.points", 509.0}},
	// 509 points are below the 1,000 minimum; demo-0001's 1,500 allow one step of 1,000
	// points (¥10), well under half of the ¥200 order.
	"PointsAndQuotes": {
		{"member.points.balance", 509.0},
		{"newcomer.maxPoints", 0.0}, {"newcomer.reason", "BALANCE_BELOW_MINIMUM"},
		{"showcase.maxPoints", 1000.0}, {"showcase.maxDeductionCents", 1000.0}, {"showcase.reason", "OK"},
	},
	"SpendAtCheckout": {{"spendPoints.balance", 500.0}, {"spendPoints.entry.amount", -1000.0}},
	// The demo was settled; this run settles u-1001 alone: ¥4,999 + 5 for one purchase day
	// is a score of 5,004, Gold.
	"SettleNewcomers": {{"settleScores.settlement.members", 1.0}, {"settleScores.settlement.tierChanges", 1.0}},
	"ClaimVideoVIP":   {{"claimPartnerBenefit.grant.status", "GRANTED"}},
	// demo-0001's settled score (6,629) is past 4,500: the annual plan costs ¥99, not ¥149.
	// It never held PLUS, so the trial is open.
	"PlusOffer": {{"plusQuote.settledScore", 6629.0}, {"plusQuote.plans.0.plan.key", "ANNUAL"},
		{"plusQuote.plans.0.priceCents", 9900.0}, {"plusQuote.trialOpen", true}, {"viewer.plus.status", "NONE"}},
	"BuyPlus": {{"purchasePlus.term.plan", "ANNUAL"}, {"purchasePlus.term.source", "PURCHASE"},
		{"purchasePlus.term.pricePaidCents", 9900.0}},
	"MyPlus": {{"viewer.plus.status", "ACTIVE"}, {"viewer.plus.currentTerm.plan", "ANNUAL"}},
	// A PLUS member's ¥1,234 web line: floored to ¥1,230, 10% is 123 points, and 9× that,
	// 1,107, from PLUS: 1,230.
	"PlusOrderEarnsTenfold": {{"recordEvents.results.0.status", "ACCEPTED"}, {"recordEvents.results.0.points", 1230.0}},
	// The preset's monthly PLUS coupon: ¥10 face value, four a month, one claimed.
	"ClaimPlusCoupon": {{"claimBenefit.claim.source", "PLUS"}, {"claimBenefit.claim.faceValueCents", 1000.0},
		{"claimBenefit.remaining", 3.0}},
	// This term: the bonus points at 100 = ¥1 (1,107 → ¥11.07), 5% off the ¥1,234 order
	// (¥61.70) and the ¥10 coupon: ¥82.77.
	"MyPlusSavings": {{"viewer.plus.status", "ACTIVE"}, {"viewer.plus.savings.termCents", 8277.0}},
	"RedeemPlusCode": {{"redeemPlusCode.term.plan", "ANNUAL"}, {"redeemPlusCode.term.source", "CODE"},
		{"redeemPlusCode.replayed", false}},
	// ¥99 paid, less ¥11.07 of bonus points and the ¥10 coupon: ¥77.93 back.
	"CancelPlus": {{"cancelPlus.refundableCents", 7793.0}, {"cancelPlus.refundedCents", 7793.0}},
	"LinkCard":   {{"claimPartnerBenefit.grant.status", "GRANTED"}},
	// The union's budget is kept as UNION:mall, not under either store.
	"OpenTheMall": {{"fundStoreBudget.budget.storeId", "UNION:mall"}, {"fundStoreBudget.budget.remaining", 50000.0},
		{"bookshop.store.program.key", "mall"}},
	// The two who joined, by member id; demo-0001 as PlusOffer read her (Gold, 6,629) and no
	// longer PLUS since CancelPlus; demo-0002, the debtor, is not Gold.
	"MallMembers": {{"storeMembers.edges.0.node.externalId", "demo-0001"}, {"storeMembers.edges.0.node.tier.name", "Gold"},
		{"storeMembers.edges.0.node.settledScore", 6629.0}, {"storeMembers.edges.0.node.plus", false},
		{"storeMembers.edges.1.node.externalId", "demo-0002"}, {"storeMembers.edges.2", nil},
		{"gold.edges.0.node.externalId", "demo-0001"}, {"gold.edges.1", nil}},
	"BookshopWelcome": {{"grantStorePoints.entry.amount", 200.0}, {"grantStorePoints.entry.funding", "STORE:mall-books"}},
	// The tea house reads the budget the bookshop granted from: 50,000 − 200.
	"MallBudget": {{"storeBudget.storeId", "UNION:mall"}, {"storeBudget.granted", 200.0}, {"storeBudget.remaining", 49800.0}},
}

// readmeWant is a value expected at a dotted path (list indexes are numbers) of an answer's
// data; numbers are float64, as encoding/json decodes them.
type readmeWant struct {
	path string
	want any
}

func checkREADMEAnswer(data json.RawMessage, wants []readmeWant) string {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err.Error()
	}
	var bad []string
	for _, w := range wants {
		got := v
		for _, k := range strings.Split(w.path, ".") {
			switch c := got.(type) {
			case map[string]any:
				got = c[k]
			case []any:
				var i int
				if _, err := fmt.Sscan(k, &i); err != nil || i >= len(c) {
					got = nil
				} else {
					got = c[i]
				}
			default:
				got = nil
			}
		}
		if got != w.want {
			bad = append(bad, fmt.Sprintf("%s = %v, want %v", w.path, got, w.want))
		}
	}
	if len(bad) > 0 {
		return strings.Join(bad, "; ") + " in " + string(data)
	}
	return ""
}

var readmeGoLine = regexp.MustCompile(`(?m)^go (\d+\.\d+)`)

// checkREADMEGoVersion: the Go the README asks for is go.mod's go line.
func checkREADMEGoVersion(t *testing.T, readme string) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := readmeGoLine.FindStringSubmatch(string(mod))
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	if !strings.Contains(readme, "Go ("+m[1]+" or newer") {
		t.Errorf("README does not ask for Go %s or newer, as go.mod's go line does", m[1])
	}
}

var readmeTokenLine = regexp.MustCompile(`^#\s*token:\s*(ADMIN|SERVICE|MEMBER|STORE|PARTNER)(?:\s+(\S+))?\s*$`)

// readmeBlocks extracts the ```graphql blocks and checks the README's rules for them: the
// first line names the token, and the block is one named operation (a pasted block with
// two anonymous ones is refused by GraphQL servers).
func readmeBlocks(t *testing.T, readme string) []readmeBlock {
	var out []readmeBlock
	lines := strings.Split(readme, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```graphql" {
			continue
		}
		start := i + 1
		j := start
		for j < len(lines) && strings.TrimSpace(lines[j]) != "```" {
			j++
		}
		b := readmeBlock{line: start + 1, query: strings.Join(lines[start:j], "\n")}
		i = j
		m := readmeTokenLine.FindStringSubmatch(strings.TrimSpace(lines[start]))
		if m == nil {
			t.Errorf("README.md:%d: the block's first line must say its token, e.g. \"# token: SERVICE\" or \"# token: MEMBER demo-0001\"; it is %q", b.line, lines[start])
			continue
		}
		b.role, b.subject = m[1], m[2]
		if (b.role == "MEMBER" || b.role == "STORE" || b.role == "PARTNER") && b.subject == "" {
			t.Errorf("README.md:%d: a %s token names its subject, e.g. \"# token: %s ID\"", b.line, b.role, b.role)
			continue
		}
		doc, err := parser.ParseQuery(&ast.Source{Input: b.query})
		if err != nil {
			t.Errorf("README.md:%d: not GraphQL: %v", b.line, err)
			continue
		}
		if len(doc.Operations) != 1 || doc.Operations[0].Name == "" {
			t.Errorf("README.md:%d: a block is one named operation (query Name { … }); it has %d operation(s)", b.line, len(doc.Operations))
			continue
		}
		b.op = doc.Operations[0].Name
		b.subscription = doc.Operations[0].Operation == ast.Subscription
		out = append(out, b)
	}
	return out
}

// buildREADMEPlugins does what make build does for the Go partners: build them into dir
// and trust them there.
func buildREADMEPlugins(t *testing.T, bin, dir string) string {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(readmePartners))
	for i, p := range readmePartners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := exec.Command("go", "build", "-o", filepath.Join(dir, p), "../../partners/"+p).CombinedOutput()
			if err != nil {
				errs[i] = fmt.Errorf("go build %s: %v\n%s", p, err, out)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"plugins", "trust", "--plugin-dir", dir}, readmePartners...)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("plugins trust: %v\n%s", err, out)
	}
	return dir
}

// startREADMEServer starts serve and waits until it is ready and every partner runs, as a
// reader would before trying the examples.
func startREADMEServer(t *testing.T, bin string, env []string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--addr", addr, "--clock-start", readmeClock)
	cmd.Env = env
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logs bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			mu.Lock()
			t.Logf("server log:\n%s", logs.String())
			mu.Unlock()
		}
	})
	base := "http://" + addr
	admin := readmeToken(t, bin, env, "ADMIN", "")
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if time.Now().After(deadline) {
			t.Fatal("the server was not ready with its partners RUNNING within 3 minutes")
		}
		if readmeReady(base) && readmePartnersRunning(base, admin) {
			return base
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func readmeReady(base string) bool {
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func readmePartnersRunning(base, token string) bool {
	var out struct {
		Data struct {
			Partners []struct{ Key, Status string }
		}
	}
	body, _, err := readmePost(base, token, `query { partners { key status } }`)
	if err != nil || json.Unmarshal(body, &out) != nil || len(out.Data.Partners) < len(readmePartners) {
		return false
	}
	for _, p := range out.Data.Partners {
		if p.Status != "RUNNING" && p.Key != "cafeperks" { // the Node.js partner needs npm
			return false
		}
	}
	return true
}

// readmeToken signs a token as the README tells a reader to: membergraph token.
func readmeToken(t *testing.T, bin string, env []string, role, subject string) string {
	t.Helper()
	args := []string{"token", "--role", role}
	switch role {
	case "MEMBER":
		args = append(args, "--member", subject)
	case "STORE":
		args = append(args, "--store", subject)
	case "PARTNER":
		args = append(args, "--partner", subject)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("membergraph %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// readmeSubscribe starts a subscription block over the websocket at /graphql, as the
// playground does (graphql-transport-ws), and gives the server a moment to set it up.
func readmeSubscribe(base, token string, b readmeBlock) (*websocket.Conn, string) {
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/graphql", nil)
	if err != nil {
		return nil, err.Error()
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var ack struct{ Type string }
	if err := c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}); err != nil {
		return nil, err.Error()
	}
	if err := c.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		c.Close()
		return nil, fmt.Sprintf("connection_init answered %q %v", ack.Type, err)
	}
	if err := c.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": b.query}}); err != nil {
		return nil, err.Error()
	}
	time.Sleep(500 * time.Millisecond)
	return c, ""
}

// readmePushed reads the subscription's first result: its data, or what went wrong.
func readmePushed(c *websocket.Conn) (json.RawMessage, string) {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m struct {
		Type    string
		Payload struct {
			Data   json.RawMessage
			Errors json.RawMessage
		}
	}
	if err := c.ReadJSON(&m); err != nil {
		return nil, "nothing pushed: " + err.Error()
	}
	if m.Type != "next" || len(m.Payload.Errors) > 0 {
		return nil, fmt.Sprintf("pushed %s %s", m.Type, m.Payload.Errors)
	}
	return m.Payload.Data, ""
}

func readmePost(base, token, query string) ([]byte, int, error) {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return raw, resp.StatusCode, err
}

// runREADMEBlock posts a block and reports what is wrong with the answer ("" for nothing).
func runREADMEBlock(base, token string, b readmeBlock) (json.RawMessage, string) {
	raw, status, err := readmePost(base, token, b.query)
	if err != nil {
		return nil, err.Error()
	}
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || status != http.StatusOK {
		return nil, fmt.Sprintf("HTTP %d: %s", status, raw)
	}
	if len(out.Errors) > 0 {
		return nil, fmt.Sprintf("GraphQL errors: %s", raw)
	}
	var data any
	_ = json.Unmarshal(out.Data, &data)
	if p := readmeUserProblems(data, ""); p != "" {
		return nil, p + " in " + string(out.Data)
	}
	return out.Data, ""
}

// userProblems finds a non-empty userErrors or a REJECTED event result anywhere in data.
func readmeUserProblems(v any, path string) string {
	switch v := v.(type) {
	case map[string]any:
		if ue, ok := v["userErrors"].([]any); ok && len(ue) > 0 {
			return "userErrors at " + path
		}
		if v["status"] == "REJECTED" {
			return "a REJECTED result at " + path
		}
		for k, c := range v {
			if p := readmeUserProblems(c, path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for i, c := range v {
			if p := readmeUserProblems(c, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

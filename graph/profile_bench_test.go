package graph_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/score/formula"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// handProfile is the baseline of the profile read: a plain net/http + database/sql handler
// that answers profileQuery's JSON byte for byte, doing the same work as the API — the same
// bearer token check (signature, expiry, programme by key, a MEMBER sees only itself), the
// same rows read in the same five statements, the programme's catalogue (rules, zone, tiers,
// medals) kept per programme as the API keeps it, the same pure rules (formula.Compute,
// medal.Level, plus.StatusAt) — and nothing of GraphQL, gqlgen or ent.
type handProfile struct {
	db     *sql.DB
	signer *auth.Signer
	clock  clock.Clock

	mu       sync.Mutex
	programs map[string]int
	cats     map[int]*handCatalogue
}

type handTier struct {
	Key   string `json:"key"`
	Name  string `json:"name"`
	Level int    `json:"level"`
}

type handCatalogue struct {
	loc    *time.Location
	score  rules.Score
	tiers  map[int]handTier
	medals []handMedal
}

type handMedal struct {
	key, name, kind string
	thresholds      []int64
}

func (h *handProfile) catalogue(key string) (int, *handCatalogue, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	pid, ok := h.programs[key]
	if !ok {
		if err := h.db.QueryRow("SELECT id FROM programs WHERE `key` = ?", key).Scan(&pid); err != nil {
			return 0, nil, err
		}
		h.programs[key] = pid
	}
	if c := h.cats[pid]; c != nil {
		return pid, c, nil
	}
	c := &handCatalogue{tiers: map[int]handTier{}}
	var zone string
	var raw []byte
	if err := h.db.QueryRow("SELECT time_zone, rules FROM programs WHERE id = ?", pid).Scan(&zone, &raw); err != nil {
		return 0, nil, err
	}
	var r rules.Rules
	if err := json.Unmarshal(raw, &r); err != nil {
		return 0, nil, err
	}
	var err error
	if c.loc, err = points.Location(zone); err != nil {
		return 0, nil, err
	}
	c.score = r.ScoreRules()
	rows, err := h.db.Query("SELECT id, `key`, name, level FROM tiers WHERE program_id = ?", pid)
	if err != nil {
		return 0, nil, err
	}
	for rows.Next() {
		var id int
		var t handTier
		if err := rows.Scan(&id, &t.Key, &t.Name, &t.Level); err != nil {
			return 0, nil, err
		}
		c.tiers[id] = t
	}
	rows.Close()
	rows, err = h.db.Query("SELECT `key`, name, kind, thresholds FROM medals WHERE program_id = ? ORDER BY CASE kind WHEN 'CATEGORY' THEN 0 WHEN 'BEHAVIOR' THEN 1 ELSE 2 END, id", pid)
	if err != nil {
		return 0, nil, err
	}
	for rows.Next() {
		var m handMedal
		var th []byte
		if err := rows.Scan(&m.key, &m.name, &m.kind, &th); err != nil {
			return 0, nil, err
		}
		if err := json.Unmarshal(th, &m.thresholds); err != nil {
			return 0, nil, err
		}
		c.medals = append(c.medals, m)
	}
	rows.Close()
	h.cats[pid] = c
	return pid, c, nil
}

type handMedalJSON struct {
	Key      string `json:"key"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Level    int    `json:"level"`
	Progress struct {
		Current     int64  `json:"current"`
		NextLevelAt *int64 `json:"nextLevelAt"`
		Unit        string `json:"unit"`
	} `json:"progress"`
}

type handMember struct {
	ExternalID string   `json:"externalId"`
	Nickname   string   `json:"nickname"`
	Tier       handTier `json:"tier"`
	Score      struct {
		Settled     int64 `json:"settled"`
		Provisional int64 `json:"provisional"`
	} `json:"score"`
	Medals []handMedalJSON `json:"medals"`
	Points struct {
		Balance int64 `json:"balance"`
	} `json:"points"`
	Plus struct {
		Status   string  `json:"status"`
		End      *string `json:"end"`
		DaysLeft int     `json:"daysLeft"`
	} `json:"plus"`
}

func (h *handProfile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Variables struct {
			ID string `json:"id"`
		} `json:"variables"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	c, err := h.signer.Verify(token)
	if !strings.EqualFold(scheme, "Bearer") || err != nil {
		http.Error(w, "unauthenticated", http.StatusUnauthorized)
		return
	}
	key := c.Program
	if key == "" {
		key = program.PresetKey
	}
	pid, cat, err := h.catalogue(key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	var out struct {
		Data struct {
			Member *handMember `json:"member"`
		} `json:"data"`
	}
	// A MEMBER sees only itself; anyone else named answers as no one.
	if c.Role == auth.RoleMember && c.Subject == in.Variables.ID {
		if out.Data.Member, err = h.read(pid, cat, in.Variables.ID); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (h *handProfile) read(pid int, cat *handCatalogue, ext string) (*handMember, error) {
	now := h.clock.Now()
	m := &handMember{ExternalID: ext}
	var id, tierID int
	var verified bool
	var bound sql.NullString
	err := h.db.QueryRow("SELECT id, nickname, tier_id, real_name_verified, bound_accounts FROM members WHERE program_id = ? AND external_id = ?", pid, ext).
		Scan(&id, &m.Nickname, &tierID, &verified, &bound)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m.Tier = cat.tiers[tierID]
	var accounts []string
	if bound.Valid && bound.String != "" {
		_ = json.Unmarshal([]byte(bound.String), &accounts)
	}

	// The score: the settled row beside the months of the rolling window.
	to := formula.MonthOf(now, cat.loc)
	rows, err := h.db.Query(`SELECT sc.settled, sc.reputation, sc.credit, am.month, am.spend_cents, am.orders, am.completed_orders,
		am.refunded_orders, am.purchase_days, am.login_days, am.reviews, am.photo_reviews, am.answers, am.shares
		FROM members m LEFT JOIN member_scores sc ON sc.member_id = m.id
		LEFT JOIN activity_months am ON am.member_id = m.id AND am.month >= ? AND am.month <= ? WHERE m.id = ?`,
		int(to.Add(1).Add(-cat.score.WindowMonths)), int(to), id)
	if err != nil {
		return nil, err
	}
	acct := formula.Account{RealNameVerified: verified, BoundAccounts: len(accounts)}
	var counts formula.Counts
	for rows.Next() {
		var settled, rep, cred, month, spend, orders, completed, refunded, purchase, login, reviews, photos, answers, shares sql.NullInt64
		if err := rows.Scan(&settled, &rep, &cred, &month, &spend, &orders, &completed, &refunded, &purchase, &login, &reviews, &photos, &answers, &shares); err != nil {
			rows.Close()
			return nil, err
		}
		m.Score.Settled = settled.Int64
		if rep.Valid {
			v := int(rep.Int64)
			acct.Reputation = &v
		}
		if cred.Valid {
			v := int(cred.Int64)
			acct.Credit = &v
		}
		if month.Valid {
			counts = counts.Plus(formula.Counts{SpendCents: spend.Int64, Orders: orders.Int64, CompletedOrders: completed.Int64,
				RefundedOrders: refunded.Int64, PurchaseDays: formula.Days(purchase.Int64), LoginDays: formula.Days(login.Int64),
				Reviews: reviews.Int64, PhotoReviews: photos.Int64, Answers: answers.Int64, Shares: shares.Int64})
		}
	}
	rows.Close()
	m.Score.Provisional = formula.Compute(cat.score, counts, acct).Score

	// The medals: spend per category and the behaviour counts over the medal window, in the
	// API's statement (internal/medal progressArms): one arm summing the five counters.
	from, upto := medal.Window(now, cat.loc)
	rows, err = h.db.Query("SELECT 'C', category, SUM(spend_cents), 0, 0, 0, 0 FROM category_months WHERE member_id = ? AND month >= ? AND month <= ? GROUP BY category"+
		" UNION ALL SELECT 'B', '', SUM(orders), SUM(reviews), SUM(photo_reviews), SUM(answers), SUM(check_ins) FROM activity_months WHERE member_id = ? AND month >= ? AND month <= ? GROUP BY member_id",
		id, int(from), int(upto), id, int(from), int(upto))
	if err != nil {
		return nil, err
	}
	values := map[string]int64{}
	for rows.Next() {
		var src, k string
		var v [5]sql.NullInt64
		if err := rows.Scan(&src, &k, &v[0], &v[1], &v[2], &v[3], &v[4]); err != nil {
			rows.Close()
			return nil, err
		}
		if src == "C" {
			values[k] = max(v[0].Int64, 0) / 100 // whole yuan, as medal's own rounding
			continue
		}
		for i, b := range []string{"ORDERS", "REVIEWS", "PHOTO_REVIEWS", "ANSWERS", "CHECK_INS"} {
			values[b] = v[i].Int64
		}
	}
	rows.Close()
	m.Medals = make([]handMedalJSON, len(cat.medals))
	for i, md := range cat.medals {
		s := &m.Medals[i]
		s.Key, s.Name, s.Kind = md.key, md.name, md.kind
		s.Progress.Current, s.Progress.Unit = values[md.key], "COUNT"
		if md.kind == "CATEGORY" {
			s.Progress.Unit = "YUAN"
		}
		s.Level = medal.Level(md.thresholds, s.Progress.Current)
		if s.Level < len(md.thresholds) {
			s.Progress.NextLevelAt = &md.thresholds[s.Level]
		}
	}

	// The balance: the live lots already available, less the debt.
	var debt, available int64
	err = h.db.QueryRow(`SELECT a.debt, COALESCE(SUM(CASE WHEN l.available_at <= ? THEN l.remaining ELSE 0 END), 0)
		FROM point_accounts a LEFT JOIN point_lots l ON l.member_id = a.member_id AND l.remaining > 0 AND l.expires_at > ?
		WHERE a.member_id = ? GROUP BY a.debt`, now, now, id).Scan(&debt, &available)
	if err != nil && err != sql.ErrNoRows {
		return nil, err
	}
	m.Points.Balance = available - debt

	// PLUS: the terms, newest first.
	rows, err = h.db.Query("SELECT id, start_at, end_at, cancelled_at FROM plus_terms WHERE member_id = ? ORDER BY start_at DESC, id DESC", id)
	if err != nil {
		return nil, err
	}
	var terms []*ent.PlusTerm
	for rows.Next() {
		t := &ent.PlusTerm{}
		var cancelled sql.NullTime
		if err := rows.Scan(&t.ID, &t.StartAt, &t.EndAt, &cancelled); err != nil {
			rows.Close()
			return nil, err
		}
		if cancelled.Valid {
			t.CancelledAt = &cancelled.Time
		}
		terms = append(terms, t)
	}
	rows.Close()
	st := plus.StatusAt(terms, now)
	m.Plus.Status = "NONE"
	if st.Active {
		end := st.End.Format(time.RFC3339Nano)
		m.Plus.Status, m.Plus.End, m.Plus.DaysLeft = "ACTIVE", &end, st.DaysLeft
	}
	return m, nil
}

// profileFixture is a database of profileMembers members with orders of several categories
// (every fourth also PLUS), served by the API and by the hand-written handler side by side.
type profileFixture struct {
	api    *api
	hand   *httptest.Server
	tokens []string
	ids    []string
}

const profileMembers = 200

func newProfileFixture(tb testing.TB, db *store.DB) *profileFixture {
	a := newAPI(tb, db)
	f := &profileFixture{api: a}
	now := a.now()
	var evs []map[string]any
	for i := range profileMembers {
		ext := fmt.Sprintf("pm%03d", i)
		a.register(ext, nil)
		f.ids = append(f.ids, ext)
		f.tokens = append(f.tokens, a.token(auth.RoleMember, ext))
		evs = append(evs, at(orderEvent("pf-"+ext, ext, "PO"+ext, "APP", ln("a", "PHONES", 129900+i*100), ln("b", "BOOKS", 5800), ln("c", "FOOD", 23000)), now))
	}
	for i := 0; i < len(evs); i += 100 {
		a.do(a.token(auth.RoleService, "shop"), recordMutation, map[string]any{"events": evs[i:min(i+100, len(evs))]})
	}
	for i := 0; i < profileMembers; i += 4 {
		a.purchasePlus(f.ids[i], 14900, "pf-plus-"+f.ids[i])
	}
	h := &handProfile{db: db.SQL, signer: a.signer, clock: a.clock, programs: map[string]int{}, cats: map[int]*handCatalogue{}}
	f.hand = httptest.NewServer(h)
	tb.Cleanup(f.hand.Close)
	return f
}

// post sends profileQuery for member i to url and returns the body.
func (f *profileFixture) post(c *http.Client, url string, i int) ([]byte, error) {
	body, _ := json.Marshal(map[string]any{"query": profileQuery, "variables": map[string]any{"id": f.ids[i]}})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.tokens[i])
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
	}
	return raw, err
}

// TestHandWrittenProfileMatches: the baseline answers what the API answers, byte for byte
// once both are decoded and encoded again, for members with and without PLUS.
func TestHandWrittenProfileMatches(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newProfileFixture(t, db)
		for _, i := range []int{0, 1, 2, profileMembers - 1} {
			got, err := f.post(http.DefaultClient, f.api.srv.URL+"/graphql", i)
			if err != nil {
				t.Fatal(err)
			}
			want, err := f.post(http.DefaultClient, f.hand.URL, i)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := normalJSON(t, got), normalJSON(t, want); g != w {
				t.Errorf("member %d:\nGraphQL      %s\nhand-written %s", i, g, w)
			}
		}
	})
}

func normalJSON(t *testing.T, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// profileClients is how many clients read profiles side by side in the benchmarks.
const profileClients = 8

// benchProfile has profileClients clients read b.N profiles from url, round robin over the
// members, and reports requests per second.
func benchProfile(b *testing.B, f *profileFixture, url string) {
	c := &http.Client{Transport: &http.Transport{MaxIdleConns: profileClients, MaxIdleConnsPerHost: profileClients}}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, profileClients)
	b.ResetTimer()
	start := time.Now()
	for range profileClients {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= b.N {
					return
				}
				if _, err := f.post(c, url, n%profileMembers); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkMemberProfile reads profileQuery through the real GraphQL handler and through
// the hand-written handler, on one database (MariaDB when MEMBERGRAPH_TEST_MYSQL_DSN is set)
// in one run; the target is GraphQL ≥ 70 % of HandWritten's req/s.
func BenchmarkMemberProfile(b *testing.B) {
	f := newProfileFixture(b, storetest.Open(b, benchBackend(b)))
	for range 2 { // alternating, so the machine's other load falls on both alike
		b.Run("GraphQL", func(b *testing.B) { benchProfile(b, f, f.api.srv.URL+"/graphql") })
		b.Run("HandWritten", func(b *testing.B) { benchProfile(b, f, f.hand.URL) })
	}
}

package graph_test

import (
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/pluscode"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

const issueCodesMutation = `mutation($input: IssuePlusCodesInput!) {
  issuePlusCodes(input: $input) {
    batch { id purpose plan count label expiresAt createdBy }
    codes replayed userErrors { field message code }
  }
}`

const redeemCodeMutation = `mutation($input: RedeemPlusCodeInput!) {
  redeemPlusCode(input: $input) { term { plan source startAt endAt } replayed userErrors { field message code } }
}`

type issuedCodes struct {
	IssuePlusCodes struct {
		Batch *struct {
			ID, Purpose, Plan, Label, CreatedBy string
			Count                               int
			ExpiresAt                           time.Time
		}
		Codes      []string
		Replayed   bool
		UserErrors []userError
	}
}

type redeemed struct {
	RedeemPlusCode struct {
		Term *struct {
			Plan, Source   string
			StartAt, EndAt time.Time
		}
		Replayed   bool
		UserErrors []userError
	}
}

// issueCodes issues count ANNUAL codes expiring at expires as ADMIN.
func (a *api) issueCodes(key string, count int, expires time.Time) issuedCodes {
	a.t.Helper()
	var out issuedCodes
	a.must(a.token(auth.RoleAdmin, "ops"), issueCodesMutation, map[string]any{"input": map[string]any{
		"purpose": "ENTERPRISE", "plan": "ANNUAL", "count": count, "expiresAt": expires.Format(time.RFC3339),
		"label": "Acme Ltd", "idempotencyKey": key}}, &out)
	if ue := out.IssuePlusCodes.UserErrors; len(ue) > 0 {
		a.t.Fatalf("issue %s: %+v", key, ue)
	}
	return out
}

// redeem redeems code for externalID with the member's own token.
func (a *api) redeem(externalID, code string) redeemed {
	a.t.Helper()
	var out redeemed
	a.must(a.token(auth.RoleMember, externalID), redeemCodeMutation,
		map[string]any{"input": map[string]any{"externalId": externalID, "code": code}}, &out)
	return out
}

func (r redeemed) code() string {
	if ue := r.RedeemPlusCode.UserErrors; len(ue) > 0 {
		return ue[0].Code
	}
	return ""
}

// countTerms is how many PLUS terms the database holds, read past the API.
func countTerms(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRow("SELECT COUNT(*) FROM plus_terms").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPlusCodeRedeemsOnceUnderRacing: 16 members redeem one code at once: exactly one gets a
// term, the others ALREADY_USED; one member racing itself 16 times gets one term, the same
// each time.
func TestPlusCodeRedeemsOnceUnderRacing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		codes := a.issueCodes("race", 2, a.clock.Now().AddDate(0, 1, 0)).IssuePlusCodes.Codes
		for i := 0; i < 16; i++ {
			a.register(fmt.Sprintf("racer-%02d", i), nil)
		}
		var wg sync.WaitGroup
		results := make([]redeemed, 16)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = a.redeem(fmt.Sprintf("racer-%02d", i), codes[0])
			}()
		}
		wg.Wait()
		won, used := 0, 0
		for i, r := range results {
			switch r.code() {
			case "":
				won++
				if tm := r.RedeemPlusCode.Term; tm == nil || tm.Source != "CODE" || tm.Plan != "ANNUAL" {
					t.Errorf("racer %d: term %+v", i, tm)
				}
			case "ALREADY_USED":
				used++
			default:
				t.Errorf("racer %d: %+v", i, r.RedeemPlusCode.UserErrors)
			}
		}
		if won != 1 || used != 15 || countTerms(t, db) != 1 {
			t.Fatalf("%d won, %d ALREADY_USED, %d terms; want 1, 15, 1", won, used, countTerms(t, db))
		}

		// One member racing itself: one term, every answer the same term.
		a.register("eager", nil)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = a.redeem("eager", codes[1])
			}()
		}
		wg.Wait()
		replays := 0
		for i, r := range results {
			if r.code() != "" || r.RedeemPlusCode.Term == nil || !r.RedeemPlusCode.Term.StartAt.Equal(results[0].RedeemPlusCode.Term.StartAt) {
				t.Fatalf("eager %d: %+v", i, r.RedeemPlusCode)
			}
			if r.RedeemPlusCode.Replayed {
				replays++
			}
		}
		if replays != 15 || countTerms(t, db) != 2 {
			t.Fatalf("%d replays, %d terms; want 15, 2", replays, countTerms(t, db))
		}
	})
}

// TestPlusCodeRefusalsAreDistinct: an expired, a used, a mistyped and an unknown code each get
// their own code, and none writes a term.
func TestPlusCodeRefusalsAreDistinct(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		now := a.clock.Now()
		soon := a.issueCodes("soon", 1, now.Add(time.Hour)).IssuePlusCodes.Codes[0]
		later := a.issueCodes("later", 2, now.AddDate(1, 0, 0)).IssuePlusCodes.Codes
		a.register("first", nil)
		a.register("second", nil)

		r := a.redeem("first", strings.ToLower(strings.ReplaceAll(later[0], "-", " ")))
		if r.code() != "" {
			t.Fatalf("redeem as typed in lower case with spaces: %+v", r.RedeemPlusCode.UserErrors)
		}
		// The term runs one year from now, in the programme's zone (Asia/Shanghai, no DST).
		if tm := r.RedeemPlusCode.Term; !tm.StartAt.Equal(now) || !tm.EndAt.Equal(time.Date(2027, 11, 22, 8, 0, 0, 0, time.UTC)) {
			t.Fatalf("term %+v", tm)
		}
		if again := a.redeem("first", later[0]); again.code() != "" || !again.RedeemPlusCode.Replayed {
			t.Fatalf("the redeemer again: %+v", again.RedeemPlusCode)
		}

		typo := []byte(later[1])
		if typo[0] == '2' { // one wrong symbol, as a person mistypes it
			typo[0] = '3'
		} else {
			typo[0] = '2'
		}
		unknown, _ := pluscode.Generate(rand.Reader)
		a.clock.Advance(time.Hour) // soon's batch expires at this very instant
		cases := []struct {
			name, code, want string
		}{
			{"used", later[0], "ALREADY_USED"},
			{"expired", soon, "EXPIRED"},
			{"typo", string(typo), "INVALID_ARGUMENT"},
			{"unknown", pluscode.Format(unknown), "NOT_FOUND"},
		}
		for _, c := range cases {
			r := a.redeem("second", c.code)
			ue := r.RedeemPlusCode.UserErrors
			if r.code() != c.want || len(ue) != 1 || strings.Join(ue[0].Field, ".") != "input.code" || r.RedeemPlusCode.Term != nil {
				t.Errorf("%s: %+v, want %s on input.code", c.name, r.RedeemPlusCode, c.want)
			}
		}
		if n := countTerms(t, db); n != 1 {
			t.Fatalf("%d terms, want the first redemption's only", n)
		}
	})
}

// TestPlusCodeRateLimit: five failed redemptions within an hour lock the member for an hour
// from the fifth, even for a good code; other members are not locked; after the hour the
// good code redeems.
func TestPlusCodeRateLimit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		good := a.issueCodes("good", 2, a.clock.Now().AddDate(0, 6, 0)).IssuePlusCodes.Codes
		a.register("guesser", nil)
		a.register("bystander", nil)
		for i := 0; i < 5; i++ {
			wrong, _ := pluscode.Generate(rand.Reader)
			if r := a.redeem("guesser", wrong); r.code() != "NOT_FOUND" {
				t.Fatalf("failure %d: %+v", i+1, r.RedeemPlusCode.UserErrors)
			}
			a.clock.Advance(10 * time.Minute) // the fifth at +40 min, the sixth at +50
		}
		r := a.redeem("guesser", good[0])
		if r.code() != "RATE_LIMITED" || r.RedeemPlusCode.Term != nil {
			t.Fatalf("sixth attempt: %+v", r.RedeemPlusCode)
		}
		if b := a.redeem("bystander", good[1]); b.code() != "" {
			t.Fatalf("another member: %+v", b.RedeemPlusCode.UserErrors)
		}
		a.clock.Advance(49*time.Minute + 59*time.Second) // one second before an hour after the fifth
		if r := a.redeem("guesser", good[0]); r.code() != "RATE_LIMITED" {
			t.Fatalf("59:59 after the fifth: %+v", r.RedeemPlusCode)
		}
		a.clock.Advance(time.Second)
		if r := a.redeem("guesser", good[0]); r.code() != "" || r.RedeemPlusCode.Term == nil {
			t.Fatalf("an hour after the fifth: %+v", r.RedeemPlusCode)
		}
	})
}

// TestPlusCodesAreStoredOnlyHashed reads every row of the code tables and the audit log: no
// code appears in any form a person could type.
func TestPlusCodesAreStoredOnlyHashed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		codes := a.issueCodes("stored", 50, a.clock.Now().AddDate(1, 0, 0)).IssuePlusCodes.Codes
		seen := map[string]bool{}
		for _, c := range codes {
			canon, err := pluscode.Parse(c)
			if err != nil || seen[canon] {
				t.Fatalf("code %s: %v (or a duplicate)", c, err)
			}
			seen[canon] = true
		}
		a.register("holder", nil)
		a.redeem("holder", codes[0])
		var dump strings.Builder
		for _, table := range []string{"plus_codes", "plus_code_batches", "plus_code_failures", "audit_entries", "plus_terms"} {
			rows, err := db.SQL.Query("SELECT * FROM " + table)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			n := 0
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				for _, v := range vals {
					fmt.Fprintf(&dump, "%s\n", v)
				}
				n++
			}
			rows.Close()
			if table == "plus_codes" && n != 50 {
				t.Fatalf("%d code rows, want 50", n)
			}
		}
		all := strings.ToUpper(dump.String())
		for _, c := range codes {
			canon, _ := pluscode.Parse(c)
			for _, form := range []string{c, canon, canon[:10]} {
				if strings.Contains(all, form) {
					t.Fatalf("the database holds %s (of code %s)", form, c)
				}
			}
		}
		if !strings.Contains(all, "PLUS.CODES.ISSUE") {
			t.Fatal("the issue is not audited")
		}
	})
}

// TestIssuePlusCodes: ADMIN only; shown once (a replay returns the batch without codes,
// another body under the key is a CONFLICT); every bad field named.
func TestIssuePlusCodes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		exp := a.clock.Now().AddDate(0, 3, 0)
		first := a.issueCodes("k1", 3, exp).IssuePlusCodes
		if b := first.Batch; b == nil || b.Purpose != "ENTERPRISE" || b.Plan != "ANNUAL" || b.Count != 3 ||
			b.Label != "Acme Ltd" || !b.ExpiresAt.Equal(exp) || b.CreatedBy != "ADMIN:ops" || len(first.Codes) != 3 || first.Replayed {
			t.Fatalf("issued %+v", first)
		}
		for _, c := range first.Codes {
			if len(c) != pluscode.FormattedLength || strings.Count(c, "-") != 3 {
				t.Fatalf("code %q is not grouped XXXXX-XXXXX-XXXXX-XXXXX", c)
			}
		}
		again := a.issueCodes("k1", 3, exp).IssuePlusCodes
		if !again.Replayed || len(again.Codes) != 0 || again.Batch.ID != first.Batch.ID {
			t.Fatalf("replay %+v", again)
		}
		var out issuedCodes
		admin := a.token(auth.RoleAdmin, "ops")
		a.must(admin, issueCodesMutation, map[string]any{"input": map[string]any{"purpose": "PROMOTION", "plan": "ANNUAL",
			"count": 3, "expiresAt": exp.Format(time.RFC3339), "idempotencyKey": "k1"}}, &out)
		if ue := out.IssuePlusCodes.UserErrors; len(ue) != 1 || ue[0].Code != "CONFLICT" {
			t.Fatalf("another body under k1: %+v", out.IssuePlusCodes)
		}
		a.must(admin, issueCodesMutation, map[string]any{"input": map[string]any{"purpose": "PROMOTION", "plan": "NO_SUCH_PLAN",
			"count": 10001, "expiresAt": a.clock.Now().Format(time.RFC3339), "label": strings.Repeat("x", 129), "idempotencyKey": "k2"}}, &out)
		got := map[string]string{}
		for _, e := range out.IssuePlusCodes.UserErrors {
			got[strings.Join(e.Field, ".")] = e.Code
		}
		for _, f := range []string{"input.plan", "input.count", "input.expiresAt", "input.label"} {
			if got[f] != "INVALID_ARGUMENT" {
				t.Errorf("%s: %q, want INVALID_ARGUMENT (all: %+v)", f, got[f], out.IssuePlusCodes.UserErrors)
			}
		}
		if out.IssuePlusCodes.Batch != nil || len(out.IssuePlusCodes.Codes) != 0 {
			t.Fatalf("refused issue returned %+v", out.IssuePlusCodes)
		}

		issue := `mutation { issuePlusCodes(input: {purpose: PROMOTION, plan: "ANNUAL", count: 1, expiresAt: "2030-01-01T00:00:00Z", idempotencyKey: "r"}) { codes } }`
		redeem := `mutation { redeemPlusCode(input: {externalId: "alice", code: "22222-22222-22222-22222"}) { replayed userErrors { code } } }`
		a.register("alice", nil)
		a.checkRoles([]string{issue, redeem}, map[auth.Role][]string{
			auth.RoleAdmin:   {"", "FORBIDDEN"},
			auth.RoleService: {"FORBIDDEN", ""},
			auth.RoleMember:  {"FORBIDDEN", ""},
			auth.RoleStore:   {"FORBIDDEN", "FORBIDDEN"},
			auth.RolePartner: {"FORBIDDEN", "FORBIDDEN"},
		})
		// A MEMBER redeems only for itself: another member is as unknown as no member.
		var r redeemed
		a.must(a.token(auth.RoleMember, "alice"), redeemCodeMutation,
			map[string]any{"input": map[string]any{"externalId": "holder-nobody", "code": first.Codes[0]}}, &r)
		a.register("bob", nil)
		var rb redeemed
		a.must(a.token(auth.RoleMember, "alice"), redeemCodeMutation,
			map[string]any{"input": map[string]any{"externalId": "bob", "code": first.Codes[0]}}, &rb)
		if r.code() != "NOT_FOUND" || rb.code() != "NOT_FOUND" || countTerms(t, db) != 0 {
			t.Fatalf("alice for nobody: %+v; alice for bob: %+v", r.RedeemPlusCode, rb.RedeemPlusCode)
		}
	})
}

// TestIssuePlusCodesRacingOneKey: eight issues under one key at once make one batch; one
// answer carries its codes, the others are replays without them.
func TestIssuePlusCodesRacingOneKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		exp := a.clock.Now().AddDate(0, 1, 0)
		var wg sync.WaitGroup
		out := make([]issuedCodes, 8)
		for i := range out {
			wg.Add(1)
			go func() { defer wg.Done(); out[i] = a.issueCodes("same", 5, exp) }()
		}
		wg.Wait()
		shown := 0
		for i, o := range out {
			p := o.IssuePlusCodes
			if p.Batch == nil || p.Batch.ID != out[0].IssuePlusCodes.Batch.ID || p.Replayed == (len(p.Codes) == 5) {
				t.Fatalf("issue %d: %+v", i, p)
			}
			if !p.Replayed {
				shown++
			}
		}
		var batches, codes int
		_ = db.SQL.QueryRow("SELECT COUNT(*) FROM plus_code_batches").Scan(&batches)
		_ = db.SQL.QueryRow("SELECT COUNT(*) FROM plus_codes").Scan(&codes)
		if shown != 1 || batches != 1 || codes != 5 {
			t.Fatalf("codes shown %d times, %d batches, %d codes; want 1, 1, 5", shown, batches, codes)
		}
	})
}

// TestPlusCodeOfARemovedPlan: a code whose plan was removed since the issue is refused on
// input.code and given back, not spent; once the plan is offered again the same member
// redeems it (the first refusal does not stick to the code).
func TestPlusCodeOfARemovedPlan(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		code := a.issueCodes("annual", 1, a.clock.Now().AddDate(0, 6, 0)).IssuePlusCodes.Codes[0]
		a.register("late", nil)
		setPlans := func(plans ...map[string]any) {
			var out struct {
				UpdatePlusPlans struct{ UserErrors []userError }
			}
			a.must(a.token(auth.RoleAdmin, "ops"), `mutation($input: UpdatePlusPlansInput!) { updatePlusPlans(input: $input) { userErrors { field message code } } }`,
				map[string]any{"input": map[string]any{"plans": plans}}, &out)
			if len(out.UpdatePlusPlans.UserErrors) > 0 {
				t.Fatalf("plans %v: %+v", plans, out.UpdatePlusPlans.UserErrors)
			}
		}
		annual := func(key string) map[string]any {
			return map[string]any{"key": key, "name": "PLUS annual", "months": 12, "priceCents": 14900}
		}
		trial := func(key string) map[string]any {
			return map[string]any{"key": key, "name": "PLUS 30-day trial", "trial": true, "days": 30}
		}
		setPlans(annual("YEARLY"), trial("TRIAL"))
		r := a.redeem("late", code)
		if ue := r.RedeemPlusCode.UserErrors; len(ue) != 1 || ue[0].Code != "NOT_FOUND" || strings.Join(ue[0].Field, ".") != "input.code" ||
			!strings.Contains(ue[0].Message, "ANNUAL") || r.RedeemPlusCode.Term != nil {
			t.Fatalf("redeem with ANNUAL gone: %+v", r.RedeemPlusCode)
		}
		var held int
		_ = db.SQL.QueryRow("SELECT COUNT(*) FROM plus_codes WHERE member_id IS NOT NULL").Scan(&held)
		if held != 0 || countTerms(t, db) != 0 {
			t.Fatalf("%d codes held, %d terms after the refusal; want the code given back", held, countTerms(t, db))
		}
		// ANNUAL now names a trial, which no code grants: Grant refuses and records the
		// refusal under its key.
		a.clock.Advance(time.Minute)
		setPlans(trial("ANNUAL"))
		if r := a.redeem("late", code); r.code() != "INVALID_ARGUMENT" || strings.Join(r.RedeemPlusCode.UserErrors[0].Field, ".") != "input.code" {
			t.Fatalf("redeem with ANNUAL a trial: %+v", r.RedeemPlusCode)
		}
		a.clock.Advance(time.Minute)
		setPlans(annual("ANNUAL"), trial("TRIAL"))
		if r := a.redeem("late", code); r.code() != "" || r.RedeemPlusCode.Term == nil || r.RedeemPlusCode.Replayed {
			t.Fatalf("redeem with ANNUAL back: %+v", r.RedeemPlusCode)
		}
	})
}

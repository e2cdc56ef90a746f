package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

const testSecret = "test-secret-test-secret-test-secret!"

// api is a running server on a fresh database with the JD preset.
type api struct {
	t      testing.TB
	srv    *httptest.Server
	db     *store.DB
	signer *auth.Signer
	clock  *clock.Manual
	ledger *points.Ledger
}

func newAPI(t testing.TB, db *store.DB, tweak ...func(*graph.ServerConfig)) *api {
	t.Helper()
	ctx := context.Background()
	programs := program.NewService(db.Client)
	if _, err := programs.EnsurePreset(ctx, program.JDPreset()); err != nil {
		t.Fatal(err)
	}
	signer, err := auth.NewSigner([]byte(testSecret), nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC))
	ledger := points.NewLedger(db.Client, db.Dialect, clk, plus.NewChecker(db.Client))
	cfg := graph.ServerConfig{DB: db, Signer: signer, Programs: programs, Members: member.NewService(db.Client, clk),
		Ledger: ledger, Events: events.NewService(db.Client, ledger, 0),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, f := range tweak {
		f(&cfg)
	}
	srv := httptest.NewServer(graph.NewServer(cfg))
	t.Cleanup(srv.Close)
	return &api{t: t, srv: srv, db: db, signer: signer, clock: clk, ledger: ledger}
}

func (a *api) token(role auth.Role, subject string) string {
	a.t.Helper()
	tok, err := a.signer.Issue(auth.TokenRequest{Role: role, Subject: subject, TTL: time.Hour})
	if err != nil {
		a.t.Fatal(err)
	}
	return tok
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type result struct {
	Status int
	Data   map[string]json.RawMessage `json:"data"`
	Errors []gqlError                 `json:"errors"`
}

func (r result) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// do posts a query with the given token ("" for none).
func (a *api) do(token, query string, vars map[string]any) result {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r result
	if err := json.Unmarshal(raw, &r); err != nil {
		a.t.Fatalf("response is not JSON (%d): %s", resp.StatusCode, raw)
	}
	r.Status = resp.StatusCode
	return r
}

// must runs a query that has to succeed and decodes data into out.
func (a *api) must(token, query string, vars map[string]any, out any) {
	a.t.Helper()
	r := a.do(token, query, vars)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		a.t.Fatalf("query failed (%d): %+v", r.Status, r.Errors)
	}
	b, _ := json.Marshal(r.Data)
	if err := json.Unmarshal(b, out); err != nil {
		a.t.Fatal(err)
	}
}

// checkRoles runs each operation with a token of every role (subject "alice") and checks
// the error code each gets ("" for none); anonymous callers must get HTTP 401.
func (a *api) checkRoles(ops []string, want map[auth.Role][]string) {
	a.t.Helper()
	for role, codes := range want {
		for i, q := range ops {
			if got := a.do(a.token(role, "alice"), q, nil).code(); got != codes[i] {
				a.t.Errorf("%s op %d: %q, want %q", role, i, got, codes[i])
			}
		}
	}
	for i, q := range ops {
		if r := a.do("", q, nil); r.Status != 401 {
			a.t.Errorf("anonymous op %d: HTTP %d", i, r.Status)
		}
	}
}

const registerMutation = `mutation($input: RegisterMemberInput!) {
  registerMember(input: $input) { member { id externalId nickname phone tier { key } } userErrors { field message code } }
}`

type userError struct {
	Field   []string
	Message string
	Code    string
}

// register registers a member as ADMIN and returns its global id.
func (a *api) register(externalID string, extra map[string]any) string {
	a.t.Helper()
	input := map[string]any{"externalId": externalID, "registrationChannel": "APP"}
	for k, v := range extra {
		input[k] = v
	}
	var out struct {
		RegisterMember struct {
			Member     *struct{ ID string }
			UserErrors []userError
		}
	}
	a.must(a.token(auth.RoleAdmin, "ops"), registerMutation, map[string]any{"input": input}, &out)
	if len(out.RegisterMember.UserErrors) > 0 || out.RegisterMember.Member == nil {
		a.t.Fatalf("register %s: %+v", externalID, out.RegisterMember.UserErrors)
	}
	return out.RegisterMember.Member.ID
}

func TestProgramTiers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		var out struct {
			Program struct {
				Key   string
				Tiers []struct {
					Key      string
					Name     string
					Level    int
					MinScore int
					Benefits []struct{ Key, Kind string }
				}
				Benefits []struct{ Kind string }
			}
		}
		a.must(a.token(auth.RoleAdmin, ""), `{ program { key tiers { key name level minScore benefits { key kind } } benefits { kind } } }`, nil, &out)
		want := []struct {
			key   string
			score int
		}{{"REGISTERED", 0}, {"BRONZE", 1000}, {"SILVER", 2500}, {"GOLD", 4500}, {"DIAMOND", 7000}}
		if out.Program.Key != "jd" || len(out.Program.Tiers) != len(want) {
			t.Fatalf("program = %+v", out.Program)
		}
		prevService := -1
		for i, tier := range out.Program.Tiers {
			if tier.Key != want[i].key || tier.MinScore != want[i].score || tier.Level != i {
				t.Errorf("tier %d = %+v, want %s from %d", i, tier, want[i].key, want[i].score)
			}
			service := 0
			for _, b := range tier.Benefits {
				if b.Kind == "SERVICE" {
					service++
				}
			}
			if service < prevService {
				t.Errorf("tier %s has fewer service benefits (%d) than the tier below (%d)", tier.Key, service, prevService)
			}
			prevService = service
		}
		if len(out.Program.Benefits) == 0 {
			t.Error("benefit catalogue is empty")
		}
	})
}

// TestAuthorizationMatrix drives every operation with every role and checks what each
// may see and do.
func TestAuthorizationMatrix(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		aliceID := a.register("alice", map[string]any{"phone": "13812345678"})
		a.register("bob", nil)

		roles := map[string]string{
			"ADMIN":        a.token(auth.RoleAdmin, "ops"),
			"SERVICE":      a.token(auth.RoleService, "orders"),
			"MEMBER_SELF":  a.token(auth.RoleMember, "alice"),
			"MEMBER_OTHER": a.token(auth.RoleMember, "bob"),
			"STORE":        a.token(auth.RoleStore, "store-1"),
			"PARTNER":      a.token(auth.RolePartner, "videovip"),
			"ANONYMOUS":    "",
		}
		// Expectations: "alice" = sees alice; "null" = null without error; "<CODE>" = a
		// GraphQL error with that code; "ok" = succeeds.
		type op struct {
			name, query string
			vars        map[string]any
			want        map[string]string
			check       func(t *testing.T, role string, r result) string // returns what happened
		}
		sees := func(field string) func(t *testing.T, role string, r result) string {
			return func(t *testing.T, role string, r result) string {
				if len(r.Errors) > 0 {
					return r.code()
				}
				raw := string(r.Data[field])
				switch {
				case raw == "null" || raw == "[null]":
					return "null"
				case strings.Contains(raw, `"alice"`):
					return "alice"
				case strings.Contains(raw, `"bob"`):
					return "bob"
				}
				return "ok"
			}
		}
		payload := func(field string) func(t *testing.T, role string, r result) string {
			return func(t *testing.T, role string, r result) string {
				if len(r.Errors) > 0 {
					return r.code()
				}
				var p struct {
					UserErrors []userError
				}
				_ = json.Unmarshal(r.Data[field], &p)
				if len(p.UserErrors) > 0 {
					return "userError:" + p.UserErrors[0].Code
				}
				return "ok"
			}
		}
		all := func(v string) map[string]string {
			m := map[string]string{}
			for r := range roles {
				m[r] = v
			}
			m["ANONYMOUS"] = "UNAUTHENTICATED"
			return m
		}
		with := func(m map[string]string, kv ...string) map[string]string {
			for i := 0; i < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
			return m
		}
		n := 0
		ops := []op{
			{name: "viewer", query: `{ viewer { externalId } }`, check: sees("viewer"),
				want: with(all("FORBIDDEN"), "MEMBER_SELF", "alice", "MEMBER_OTHER", "bob")},
			{name: "member", query: `{ member(externalId: "alice") { externalId } }`, check: sees("member"),
				want: with(all("null"), "ADMIN", "alice", "SERVICE", "alice", "MEMBER_SELF", "alice")},
			{name: "members", query: `{ members(first: 10) { edges { node { externalId } } } }`, check: sees("members"),
				want: with(all("FORBIDDEN"), "ADMIN", "alice", "SERVICE", "alice")},
			{name: "node", query: `query($id: ID!) { node(id: $id) { id ... on Member { externalId } } }`,
				vars: map[string]any{"id": aliceID}, check: sees("node"),
				want: with(all("NOT_FOUND"), "ADMIN", "alice", "SERVICE", "alice", "MEMBER_SELF", "alice")},
			{name: "nodes", query: `query($id: ID!) { nodes(ids: [$id]) { id ... on Member { externalId } } }`,
				vars: map[string]any{"id": aliceID}, check: sees("nodes"),
				want: with(all("NOT_FOUND"), "ADMIN", "alice", "SERVICE", "alice", "MEMBER_SELF", "alice")},
			{name: "program", query: `{ program { key tiers { key } } }`, check: sees("program"), want: all("ok")},
			{name: "registerMember", check: payload("registerMember"),
				query: `mutation($x: String!) { registerMember(input: {externalId: $x, registrationChannel: WEB}) { member { externalId } userErrors { code } } }`,
				want:  with(all("FORBIDDEN"), "ADMIN", "ok", "SERVICE", "ok")},
			{name: "updateMember", check: payload("updateMember"),
				query: `mutation { updateMember(input: {externalId: "alice", nickname: "Al"}) { member { nickname } userErrors { code } } }`,
				want:  with(all("FORBIDDEN"), "ADMIN", "ok", "SERVICE", "ok", "MEMBER_SELF", "ok", "MEMBER_OTHER", "userError:NOT_FOUND")},
		}
		for _, o := range ops {
			for role, tok := range roles {
				vars := o.vars
				if o.name == "registerMember" {
					n++
					vars = map[string]any{"x": fmt.Sprintf("new-%d", n)}
				}
				r := a.do(tok, o.query, vars)
				if role == "ANONYMOUS" && r.Status != http.StatusUnauthorized {
					t.Errorf("%s as %s: HTTP %d, want 401", o.name, role, r.Status)
				}
				if role == "ANONYMOUS" && r.Data != nil {
					t.Errorf("%s as %s: got data %s", o.name, role, r.Data)
				}
				if got := o.check(t, role, r); got != o.want[role] {
					t.Errorf("%s as %s: got %s, want %s (errors %+v)", o.name, role, got, o.want[role], r.Errors)
				}
			}
		}
	})
}

func TestUnknownAndForbiddenIDsLookAlike(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		aliceID := a.register("alice", nil)
		a.register("bob", nil)
		bob := a.token(auth.RoleMember, "bob")
		q := `query($id: ID!) { node(id: $id) { id } }`
		forbidden := a.do(bob, q, map[string]any{"id": aliceID})
		var unknownID int64
		fmt.Sscan(aliceID, &unknownID)
		unknown := a.do(bob, q, map[string]any{"id": fmt.Sprint(unknownID + 1000)})
		strip := func(r result) string {
			if len(r.Errors) != 1 {
				return fmt.Sprintf("%d errors", len(r.Errors))
			}
			return fmt.Sprintf("%d %s %s", r.Status, r.code(), string(r.Data["node"]))
		}
		if strip(forbidden) != strip(unknown) || forbidden.code() != graph.CodeNotFound {
			t.Errorf("forbidden id answers %q, unknown id %q", strip(forbidden), strip(unknown))
		}
	})
}

func TestPhoneMaskedForAllButAdmin(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", map[string]any{"phone": "13812345678"})
		for role, want := range map[auth.Role]string{
			auth.RoleAdmin:   "13812345678",
			auth.RoleService: "138****5678",
			auth.RoleMember:  "138****5678",
		} {
			var out struct{ Member struct{ Phone string } }
			a.must(a.token(role, "alice"), `{ member(externalId: "alice") { phone } }`, nil, &out)
			if out.Member.Phone != want {
				t.Errorf("%s sees phone %q, want %q", role, out.Member.Phone, want)
			}
		}
	})
}

func TestPagination(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		for i := range 25 {
			a.register(fmt.Sprintf("m%02d", i), nil)
		}
		admin := a.token(auth.RoleAdmin, "")
		for _, q := range []string{
			`{ members(first: 101) { totalCount } }`,
			`{ members(first: 1000) { totalCount } }`,
			`{ members(last: 101) { totalCount } }`,
			`{ members(first: -1) { totalCount } }`,
		} {
			if r := a.do(admin, q, nil); r.code() != graph.CodeBadUserInput || string(r.Data["members"]) != "" && string(r.Data["members"]) != "null" {
				t.Errorf("%s: code %q data %s, want BAD_USER_INPUT", q, r.code(), r.Data["members"])
			}
		}
		type page struct {
			Members struct {
				TotalCount int
				Edges      []struct{ Node struct{ ExternalID string } }
				PageInfo   struct {
					HasNextPage bool
					EndCursor   *string
				}
			}
		}
		var p page
		a.must(admin, `{ members(orderBy: {field: EXTERNAL_ID}) { totalCount edges { node { externalId } } pageInfo { hasNextPage endCursor } } }`, nil, &p)
		if len(p.Members.Edges) != graph.DefaultPageSize || !p.Members.PageInfo.HasNextPage || p.Members.TotalCount != 25 {
			t.Fatalf("default page: %d edges, hasNext %v, total %d", len(p.Members.Edges), p.Members.PageInfo.HasNextPage, p.Members.TotalCount)
		}
		var seen []string
		var after *string
		for {
			var p page
			a.must(admin, `query($after: Cursor) { members(first: 7, after: $after, orderBy: {field: EXTERNAL_ID}) { edges { node { externalId } } pageInfo { hasNextPage endCursor } } }`,
				map[string]any{"after": after}, &p)
			for _, e := range p.Members.Edges {
				seen = append(seen, e.Node.ExternalID)
			}
			if !p.Members.PageInfo.HasNextPage {
				break
			}
			after = p.Members.PageInfo.EndCursor
		}
		if len(seen) != 25 || seen[0] != "m00" || seen[24] != "m24" {
			t.Errorf("paged through %d members: %v", len(seen), seen)
		}
		var f page
		a.must(admin, `{ members(first: 100, where: {externalIdHasPrefix: "m1", statusIn: [ACTIVE]}) { totalCount } }`, nil, &f)
		if f.Members.TotalCount != 10 {
			t.Errorf("where externalIdHasPrefix m1: %d members, want 10", f.Members.TotalCount)
		}
	})
}

func TestQueryCostLimits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db, func(c *graph.ServerConfig) { c.DepthLimit = 4 })
		admin := a.token(auth.RoleAdmin, "")
		var b strings.Builder
		b.WriteString("{")
		for i := range 200 {
			fmt.Fprintf(&b, " a%d: members(first: 100) { edges { node { id externalId } } }", i)
		}
		b.WriteString(" }")
		r := a.do(admin, b.String(), nil)
		if r.code() != "COMPLEXITY_LIMIT_EXCEEDED" || r.Data["a0"] != nil {
			t.Errorf("200 aliased pages: code %q, want COMPLEXITY_LIMIT_EXCEEDED", r.code())
		}
		if r := a.do(admin, `{ a: members(first: 100) { edges { node { id } } } b: members(first: 100) { edges { node { id } } } }`, nil); len(r.Errors) > 0 {
			t.Errorf("two full pages refused: %+v", r.Errors)
		}
		r = a.do(admin, `{ members { edges { node { tier { benefits { key } } } } } }`, nil)
		if r.code() != "DEPTH_LIMIT_EXCEEDED" {
			t.Errorf("6-deep query with limit 4: code %q", r.code())
		}
		r = a.do(admin, `{ progra { key } }`, nil)
		if len(r.Errors) == 0 || strings.Contains(r.Errors[0].Message, "Did you mean") {
			t.Errorf("unknown field error suggests fields: %+v", r.Errors)
		}
	})
}

func TestRegisterMemberUserErrors(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		admin := a.token(auth.RoleAdmin, "")
		count := func() int {
			var out struct{ Members struct{ TotalCount int } }
			a.must(admin, `{ members { totalCount } }`, nil, &out)
			return out.Members.TotalCount
		}
		before := count()
		for _, tc := range []struct {
			input map[string]any
			code  string
			field string
		}{
			{map[string]any{"externalId": "alice"}, "ALREADY_EXISTS", "input.externalId"},
			{map[string]any{"externalId": "has space"}, "INVALID_ARGUMENT", "input.externalId"},
			{map[string]any{"externalId": strings.Repeat("x", 65)}, "INVALID_ARGUMENT", "input.externalId"},
			{map[string]any{"externalId": "p1", "phone": "12ab"}, "INVALID_ARGUMENT", "input.phone"},
			{map[string]any{"externalId": "b1", "birthday": "2099-01-01"}, "INVALID_ARGUMENT", "input.birthday"},
			{map[string]any{"externalId": "r1", "registeredAt": "2099-01-01T00:00:00Z"}, "INVALID_ARGUMENT", "input.registeredAt"},
			{map[string]any{"externalId": "n1", "nickname": strings.Repeat("名", 65)}, "INVALID_ARGUMENT", "input.nickname"},
			{map[string]any{"externalId": "a1", "boundAccounts": []string{"wechat"}}, "INVALID_ARGUMENT", "input.boundAccounts"},
		} {
			tc.input["registrationChannel"] = "APP"
			var out struct {
				RegisterMember struct {
					Member     *struct{ ID string }
					UserErrors []userError
				}
			}
			a.must(admin, registerMutation, map[string]any{"input": tc.input}, &out)
			ue := out.RegisterMember.UserErrors
			if out.RegisterMember.Member != nil || len(ue) == 0 || ue[0].Code != tc.code || strings.Join(ue[0].Field, ".") != tc.field || ue[0].Message == "" {
				t.Errorf("%v: member %v, userErrors %+v; want %s on %s", tc.input, out.RegisterMember.Member, ue, tc.code, tc.field)
			}
		}
		if got := count(); got != before {
			t.Errorf("rejected registrations changed the member count: %d → %d", before, got)
		}
		// A bad enum value is a GraphQL validation error, not a write.
		if r := a.do(admin, `mutation { registerMember(input: {externalId: "z", registrationChannel: FAX}) { userErrors { code } } }`, nil); r.code() != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("unknown channel: code %q", r.code())
		}
	})
}

func TestUpdateMemberFieldPermissions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		q := `mutation($input: UpdateMemberInput!) { updateMember(input: $input) { member { nickname status realNameVerified boundAccounts birthday } userErrors { field code message } } }`
		type out struct {
			UpdateMember struct {
				Member *struct {
					Nickname, Status string
					RealNameVerified bool
					BoundAccounts    []string
					Birthday         *string
				}
				UserErrors []userError
			}
		}
		for _, tc := range []struct {
			role  auth.Role
			input map[string]any
			code  string
		}{
			{auth.RoleMember, map[string]any{"realNameVerified": true}, "PERMISSION_DENIED"},
			{auth.RoleMember, map[string]any{"status": "FROZEN"}, "PERMISSION_DENIED"},
			{auth.RoleService, map[string]any{"status": "FROZEN"}, "PERMISSION_DENIED"},
			{auth.RoleMember, map[string]any{"nickname": "Alice", "birthday": "1990-05-17"}, ""},
			{auth.RoleService, map[string]any{"realNameVerified": true, "boundAccounts": []string{"WECHAT", "QQ", "WECHAT"}}, ""},
			{auth.RoleAdmin, map[string]any{"status": "FROZEN"}, ""},
		} {
			tc.input["externalId"] = "alice"
			var o out
			a.must(a.token(tc.role, "alice"), q, map[string]any{"input": tc.input}, &o)
			ue := o.UpdateMember.UserErrors
			if tc.code == "" && len(ue) > 0 || tc.code != "" && (len(ue) == 0 || ue[0].Code != tc.code || o.UpdateMember.Member != nil) {
				t.Errorf("%s %v: %+v", tc.role, tc.input, ue)
			}
		}
		var o struct {
			Member struct {
				Nickname, Status string
				RealNameVerified bool
				BoundAccounts    []string
				Birthday         string
			}
		}
		a.must(a.token(auth.RoleAdmin, ""), `{ member(externalId: "alice") { nickname status realNameVerified boundAccounts birthday } }`, nil, &o)
		m := o.Member
		if m.Nickname != "Alice" || m.Status != "FROZEN" || !m.RealNameVerified || strings.Join(m.BoundAccounts, ",") != "WECHAT,QQ" || m.Birthday != "1990-05-17" {
			t.Errorf("after updates: %+v", m)
		}
	})
}

func TestHTTPEdges(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		get := func(path string) (int, string, http.Header) {
			resp, err := http.Get(a.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b), resp.Header
		}
		if code, _, h := get("/healthz"); code != 200 || h.Get(graph.RequestIDHeader) == "" {
			t.Errorf("/healthz: %d, request id %q", code, h.Get(graph.RequestIDHeader))
		}
		if code, body, _ := get("/readyz"); code != 200 {
			t.Errorf("/readyz: %d %s", code, body)
		}
		a.do(a.token(auth.RoleAdmin, ""), `query Tiers { program { tiers { key } } }`, nil)
		_, metrics, _ := get("/metrics")
		for _, want := range []string{
			`membergraph_graphql_operations_total{operation="Tiers",outcome="ok",type="query"} 1`,
			`membergraph_graphql_operation_duration_seconds_bucket{operation="Tiers"`,
			`go_sql_open_connections{db_name="membergraph"}`,
			`membergraph_http_requests_total{code="200",route="/graphql"}`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		// Body limit: a 2 MiB body is refused before it is parsed.
		big := `{"query":"{ program { key } }","variables":{"pad":"` + strings.Repeat("x", 2<<20) + `"}}`
		req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/graphql", strings.NewReader(big))
		req.Header.Set("Authorization", "Bearer "+a.token(auth.RoleAdmin, ""))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("2 MiB body: HTTP %d, want 413", resp.StatusCode)
		}
		// The scheme is case-insensitive; anything but Bearer is refused.
		for header, want := range map[string]int{"bearer " + a.token(auth.RoleAdmin, ""): 200,
			"BEARER " + a.token(auth.RoleAdmin, ""): 200, "Basic " + a.token(auth.RoleAdmin, ""): 401} {
			req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/graphql", strings.NewReader(`{"query":"{ program { key } }"}`))
			req.Header.Set("Authorization", header)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("Authorization %.12s…: HTTP %d, want %d", header, resp.StatusCode, want)
			}
		}
		// A forged token and a token for an unknown programme are both refused.
		forged, _ := auth.NewSigner([]byte(strings.Repeat("k", 32)), nil)
		tok, _ := forged.Issue(auth.TokenRequest{Role: auth.RoleAdmin, TTL: time.Hour})
		if r := a.do(tok, `{ program { key } }`, nil); r.Status != 401 || r.code() != graph.CodeUnauthenticated {
			t.Errorf("forged token: %d %s", r.Status, r.code())
		}
		other, _ := a.signer.Issue(auth.TokenRequest{Role: auth.RoleAdmin, Program: "nope", TTL: time.Hour})
		if r := a.do(other, `{ program { key } }`, nil); r.Status != 401 {
			t.Errorf("unknown programme token: %d", r.Status)
		}
		// Introspection and the playground are on by default.
		if r := a.do(a.token(auth.RoleService, ""), `{ __schema { queryType { name } } }`, nil); len(r.Errors) > 0 {
			t.Errorf("introspection refused in development: %+v", r.Errors)
		}
		if code, body, _ := get("/"); code != 200 || !strings.Contains(body, "graphiql") {
			t.Errorf("GET /: %d", code)
		}
	})
}

func TestProductionMode(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db, func(c *graph.ServerConfig) { c.Production = true })
		r := a.do(a.token(auth.RoleAdmin, ""), `{ __schema { queryType { name } } }`, nil)
		if r.code() != "INTROSPECTION_DISABLED" {
			t.Errorf("introspection in production: %+v", r.Errors)
		}
		if r := a.do(a.token(auth.RoleAdmin, ""), `{ program { __typename key } }`, nil); len(r.Errors) > 0 {
			t.Errorf("__typename refused in production: %+v", r.Errors)
		}
		resp, err := http.Get(a.srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("playground in production: HTTP %d", resp.StatusCode)
		}
	})
}

// TestFaultsDoNotLeak: when a query meets a fault a retry would meet again (here a table
// gone from the schema), the caller learns only that there was an internal error and the
// request id, never SQL or driver text. An outage is UNAVAILABLE instead (errors_test.go).
func TestFaultsDoNotLeak(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		tok := a.token(auth.RoleAdmin, "")
		if _, err := db.SQL.Exec("DROP TABLE audit_entries"); err != nil {
			t.Fatal(err)
		}
		r := a.do(tok, `{ auditEntries { totalCount } }`, nil)
		if r.code() != graph.CodeInternal || r.Errors[0].Message != "internal error" || r.Errors[0].Extensions["requestId"] == nil {
			t.Errorf("fault answered %+v", r.Errors)
		}
	})
}

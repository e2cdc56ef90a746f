package graph_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

const createStoreProgramMutation = `mutation($in: CreateStoreProgramInput!) { createStoreProgram(input: $in) {
	program { key name kind stores { key } } userErrors { field message code } } }`
const createStoreMutation = `mutation($in: CreateStoreInput!) { createStore(input: $in) {
	store { key name brand program { key } } userErrors { field message code } } }`
const joinStoreMutation = `mutation($in: JoinStoreProgramInput!) { joinStoreProgram(input: $in) {
	consent { program { key } joinedAt channel textVersion leftAt } userErrors { field message code } } }`
const leaveStoreMutation = `mutation($in: LeaveStoreProgramInput!) { leaveStoreProgram(input: $in) {
	consent { program { key } joinedAt channel textVersion leftAt } userErrors { field message code } } }`
const storeMembersQuery = `query($first: Int, $after: Cursor, $where: StoreMemberWhereInput) {
	storeMembers(first: $first, after: $after, where: $where) {
		edges { cursor node { externalId tier { key } settledScore plus preferences { category sharePercent } } }
		pageInfo { hasNextPage endCursor } } }`
const grantStoreMutation = `mutation($in: GrantStorePointsInput!) { grantStorePoints(input: $in) {
	entry { amount funding } balance replayed userErrors { field message code } } }`
const fundStoreMutation = `mutation($in: FundStoreBudgetInput!) { fundStoreBudget(input: $in) {
	budget { storeId funded granted remaining } replayed userErrors { field message code } } }`

type consentView struct {
	Program     struct{ Key string }
	JoinedAt    time.Time
	Channel     string
	TextVersion string
	LeftAt      *time.Time
}

type consentPayload struct {
	Consent    *consentView
	UserErrors []userError
}

type storeMember struct {
	ExternalID   string
	Tier         struct{ Key string }
	SettledScore int
	Plus         bool
	Preferences  []struct {
		Category     string
		SharePercent float64
	}
}

type storePage struct {
	Edges []struct {
		Cursor string
		Node   storeMember
	}
	PageInfo struct {
		HasNextPage bool
		EndCursor   *string
	}
}

type storeGrantView struct {
	Entry *struct {
		Amount  int
		Funding string
	}
	Balance    int
	Replayed   bool
	UserErrors []userError
}

type budgetView struct {
	StoreID                    string
	Funded, Granted, Remaining int
}

func (a *api) storeProgram(key, kind string) {
	a.t.Helper()
	var out struct {
		CreateStoreProgram struct{ UserErrors []userError }
	}
	a.must(a.token(auth.RoleAdmin, "ops"), createStoreProgramMutation, map[string]any{"in": map[string]any{"key": key, "name": "Programme " + key, "kind": kind}}, &out)
	if len(out.CreateStoreProgram.UserErrors) > 0 {
		a.t.Fatalf("createStoreProgram %s: %+v", key, out.CreateStoreProgram.UserErrors)
	}
}

func (a *api) createStore(key, prog string) []userError {
	a.t.Helper()
	in := map[string]any{"key": key, "name": "Store " + key, "brand": "Brand " + key}
	if prog != "" {
		in["program"] = prog
	}
	var out struct {
		CreateStore struct{ UserErrors []userError }
	}
	a.must(a.token(auth.RoleAdmin, "ops"), createStoreMutation, map[string]any{"in": in}, &out)
	return out.CreateStore.UserErrors
}

func (a *api) join(token string, in map[string]any) consentPayload {
	a.t.Helper()
	var out struct{ JoinStoreProgram consentPayload }
	a.must(token, joinStoreMutation, map[string]any{"in": in}, &out)
	return out.JoinStoreProgram
}

func (a *api) leave(token string, in map[string]any) consentPayload {
	a.t.Helper()
	var out struct{ LeaveStoreProgram consentPayload }
	a.must(token, leaveStoreMutation, map[string]any{"in": in}, &out)
	return out.LeaveStoreProgram
}

func (a *api) storeMembers(storeKey string, first int, after *string, where map[string]any) storePage {
	a.t.Helper()
	vars := map[string]any{"first": first, "after": after, "where": where}
	var out struct{ StoreMembers storePage }
	a.must(a.token(auth.RoleStore, storeKey), storeMembersQuery, vars, &out)
	return out.StoreMembers
}

func (p storePage) ids() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.ExternalID
	}
	return out
}

func (a *api) grantAsStore(token, storeID, ext string, pts int, key string) storeGrantView {
	a.t.Helper()
	var out struct{ GrantStorePoints storeGrantView }
	a.must(token, grantStoreMutation, map[string]any{"in": map[string]any{"storeId": storeID, "externalId": ext, "points": pts,
		"reason": "store gift", "idempotencyKey": key}}, &out)
	return out.GrantStorePoints
}

func (a *api) fund(storeID string, pts int, key string) (*budgetView, []userError) {
	a.t.Helper()
	var out struct {
		FundStoreBudget struct {
			Budget     *budgetView
			UserErrors []userError
		}
	}
	a.must(a.token(auth.RoleAdmin, "ops"), fundStoreMutation, map[string]any{"in": map[string]any{"storeId": storeID, "points": pts,
		"reason": "bought points", "idempotencyKey": key}}, &out)
	return out.FundStoreBudget.Budget, out.FundStoreBudget.UserErrors
}

func (a *api) budget(token, storeID string) *budgetView {
	a.t.Helper()
	var out struct{ StoreBudget *budgetView }
	a.must(token, `query($s: String!) { storeBudget(storeId: $s) { storeId funded granted remaining } }`, map[string]any{"s": storeID}, &out)
	return out.StoreBudget
}

// storeWorld is the fixture of the store tests: a UNION programme "mall" (stores mall-a,
// mall-b, mall-c), a SINGLE "cafe" (cafe-1), another UNION "plaza" (plaza-1) nobody joined, a
// store "lone" in none; alice and bob consent
// to mall, carol joined and left, dave never joined, erin consents to cafe only.
//
// October 2026 orders, one day each, no other activity, settled for 2026-11 (score =
// spend in ¥ + 5 for the one purchase day, coefficient 1.0, docs/domain.md §4):
//   - alice: PHONES ¥3,000, FOOD ¥1,000, BOOKS ¥500, APPAREL ¥500 = ¥5,000 → 5,005, GOLD;
//     shares PHONES 60.0 %, FOOD 20.0 %, then APPAREL and BOOKS tie at 10.0 % and the
//     category key decides: APPAREL. She buys PLUS (¥99: settled ≥ 4,500).
//   - bob: HOME ¥200, FOOD ¥100 = ¥300 → 305, REGISTERED; HOME 200/300 = 66.66… → 66.6 %,
//     FOOD 33.33… → 33.3 % (tenths of a percent, rounded down).
//   - carol: BEAUTY ¥1,200 → 1,205, BRONZE. dave, erin: nothing.
func storeWorld(t *testing.T, db *store.DB) *api {
	a := newAPI(t, db)
	for _, m := range []string{"alice", "bob", "carol", "dave", "erin"} {
		a.register(m, nil)
	}
	a.record(
		at(orderEvent("o-alice", "alice", "O-A", "WEB", ln("p", "PHONES", 300000), ln("f", "FOOD", 100000), ln("b", "BOOKS", 50000), ln("c", "APPAREL", 50000)), "2026-10-15T04:00:00Z"),
		at(orderEvent("o-bob", "bob", "O-B", "WEB", ln("h", "HOME", 20000), ln("f", "FOOD", 10000)), "2026-10-16T04:00:00Z"),
		at(orderEvent("o-carol", "carol", "O-C", "WEB", ln("m", "BEAUTY", 120000)), "2026-10-17T04:00:00Z"),
	)
	a.settle("2026-11")
	if p := a.purchasePlus("alice", 9900, "plus-alice"); len(p.UserErrors) > 0 {
		t.Fatalf("purchasePlus: %+v", p.UserErrors)
	}
	a.storeProgram("mall", "UNION")
	a.storeProgram("cafe", "SINGLE")
	a.storeProgram("plaza", "UNION")
	for _, s := range [][2]string{{"mall-a", "mall"}, {"mall-b", "mall"}, {"mall-c", "mall"}, {"cafe-1", "cafe"}, {"plaza-1", "plaza"}, {"lone", ""}} {
		if ue := a.createStore(s[0], s[1]); len(ue) > 0 {
			t.Fatalf("createStore %s: %+v", s[0], ue)
		}
	}
	svc := a.token(auth.RoleService, "shop")
	for _, j := range []struct {
		token string
		in    map[string]any
	}{
		{a.token(auth.RoleMember, "alice"), map[string]any{"program": "mall", "channel": "APP", "textVersion": "mall-2026-01"}},
		{svc, map[string]any{"externalId": "bob", "program": "mall", "channel": "WEB", "textVersion": "mall-2026-01"}},
		{svc, map[string]any{"externalId": "carol", "program": "mall", "channel": "STORE", "textVersion": "mall-2026-01"}},
		{a.token(auth.RoleMember, "erin"), map[string]any{"program": "cafe", "channel": "MINI_PROGRAM", "textVersion": "cafe-v1"}},
	} {
		if p := a.join(j.token, j.in); len(p.UserErrors) > 0 || p.Consent == nil {
			t.Fatalf("join %v: %+v", j.in, p.UserErrors)
		}
	}
	if p := a.leave(a.token(auth.RoleMember, "carol"), map[string]any{"program": "mall"}); len(p.UserErrors) > 0 {
		t.Fatalf("leave: %+v", p.UserErrors)
	}
	return a
}

// TestStoreSeesConsentingMembers: what storeMembers shows a union's store, by member id,
// with the figures worked in storeWorld; its filters; what other stores see.
func TestStoreSeesConsentingMembers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := storeWorld(t, db)
		page := a.storeMembers("mall-a", 20, nil, nil)
		if got := strings.Join(page.ids(), ","); got != "alice,bob" || page.PageInfo.HasNextPage {
			t.Fatalf("mall-a sees %s (more %v), want alice,bob", got, page.PageInfo.HasNextPage)
		}
		prefs := func(m storeMember) string {
			var s []string
			for _, p := range m.Preferences {
				s = append(s, fmt.Sprintf("%s %.1f", p.Category, p.SharePercent))
			}
			return strings.Join(s, ", ")
		}
		alice, bob := page.Edges[0].Node, page.Edges[1].Node
		if alice.Tier.Key != "GOLD" || alice.SettledScore != 5005 || !alice.Plus || prefs(alice) != "PHONES 60.0, FOOD 20.0, APPAREL 10.0" {
			t.Errorf("alice as a store sees her: %+v (%s)", alice, prefs(alice))
		}
		if bob.Tier.Key != "REGISTERED" || bob.SettledScore != 305 || bob.Plus || prefs(bob) != "HOME 66.6, FOOD 33.3" {
			t.Errorf("bob as a store sees him: %+v (%s)", bob, prefs(bob))
		}
		// Every store of the union sees the same members.
		if got := strings.Join(a.storeMembers("mall-c", 20, nil, nil).ids(), ","); got != "alice,bob" {
			t.Errorf("mall-c sees %s", got)
		}
		for _, f := range []struct {
			where map[string]any
			want  string
		}{
			{map[string]any{"tier": "GOLD"}, "alice"},
			{map[string]any{"tier": "REGISTERED"}, "bob"},
			{map[string]any{"tier": "BRONZE"}, ""}, // carol is BRONZE, but withdrew
			{map[string]any{"preference": "FOOD"}, "alice,bob"},
			{map[string]any{"preference": "HOME"}, "bob"},
			{map[string]any{"preference": "BOOKS"}, ""}, // alice's 4th category
			{map[string]any{"preference": "BEAUTY"}, ""},
			{map[string]any{"tier": "GOLD", "preference": "HOME"}, ""},
			{map[string]any{"tier": "REGISTERED", "preference": "FOOD"}, "bob"},
		} {
			if got := strings.Join(a.storeMembers("mall-b", 20, nil, f.where).ids(), ","); got != f.want {
				t.Errorf("where %v: %q, want %q", f.where, got, f.want)
			}
		}
		// Paging with a filter: one at a time, the cursor carries on past filtered-out ids.
		p1 := a.storeMembers("mall-b", 1, nil, map[string]any{"preference": "FOOD"})
		p2 := a.storeMembers("mall-b", 1, p1.PageInfo.EndCursor, map[string]any{"preference": "FOOD"})
		if strings.Join(p1.ids(), ",") != "alice" || !p1.PageInfo.HasNextPage || strings.Join(p2.ids(), ",") != "bob" || p2.PageInfo.HasNextPage {
			t.Errorf("FOOD one by one: %v (more %v), %v (more %v)", p1.ids(), p1.PageInfo.HasNextPage, p2.ids(), p2.PageInfo.HasNextPage)
		}
		// Another programme's store, a store in none and a token naming no store see none of mall's.
		if got := strings.Join(a.storeMembers("cafe-1", 20, nil, nil).ids(), ","); got != "erin" {
			t.Errorf("cafe-1 sees %s, want erin", got)
		}
		for _, s := range []string{"plaza-1", "lone", "no-such-store"} {
			if got := a.storeMembers(s, 20, nil, nil).ids(); len(got) != 0 {
				t.Errorf("%s sees %v", s, got)
			}
		}
		// Bad pages are named.
		if r := a.do(a.token(auth.RoleStore, "mall-a"), storeMembersQuery, map[string]any{"first": 101}); r.code() == "" {
			t.Error("first: 101 accepted")
		}
	})
}

// TestStoreWithdrawalHidesAtOnce: a member who leaves is gone from the next page, also the
// next page of a cursor opened before; joining again brings it back with a new consent.
func TestStoreWithdrawalHidesAtOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := storeWorld(t, db)
		svc := a.token(auth.RoleService, "shop")
		a.join(svc, map[string]any{"externalId": "dave", "program": "mall", "channel": "APP", "textVersion": "mall-2026-01"})
		// By member id: alice, bob, dave.
		p1 := a.storeMembers("mall-a", 1, nil, nil)
		if strings.Join(p1.ids(), ",") != "alice" || !p1.PageInfo.HasNextPage {
			t.Fatalf("page 1: %v", p1.ids())
		}
		a.clock.Advance(time.Minute)
		if p := a.leave(a.token(auth.RoleMember, "bob"), map[string]any{"program": "mall"}); len(p.UserErrors) > 0 || p.Consent.LeftAt == nil ||
			!p.Consent.LeftAt.Equal(a.clock.Now()) {
			t.Fatalf("bob leaves: %+v", p)
		}
		p2 := a.storeMembers("mall-a", 1, p1.PageInfo.EndCursor, nil)
		if strings.Join(p2.ids(), ",") != "dave" || p2.PageInfo.HasNextPage {
			t.Errorf("page 2 after bob left: %v (more %v), want dave", p2.ids(), p2.PageInfo.HasNextPage)
		}
		if got := strings.Join(a.storeMembers("mall-a", 20, nil, nil).ids(), ","); got != "alice,dave" {
			t.Errorf("after bob left: %s", got)
		}
		// Leaving again changes nothing; joining again is a new consent.
		if p := a.leave(svc, map[string]any{"externalId": "bob", "program": "mall"}); len(p.UserErrors) > 0 || !p.Consent.LeftAt.Equal(a.clock.Now()) {
			t.Errorf("leaving again: %+v", p)
		}
		a.clock.Advance(time.Minute)
		a.join(a.token(auth.RoleMember, "bob"), map[string]any{"program": "mall", "channel": "APP", "textVersion": "mall-2026-12"})
		if got := strings.Join(a.storeMembers("mall-a", 20, nil, nil).ids(), ","); got != "alice,bob,dave" {
			t.Errorf("after bob joined again: %s", got)
		}
		var cs struct{ StoreConsents []consentView }
		a.must(a.token(auth.RoleMember, "bob"), `{ storeConsents(externalId: "bob") { program { key } joinedAt channel textVersion leftAt } }`, nil, &cs)
		if len(cs.StoreConsents) != 2 || cs.StoreConsents[0].LeftAt == nil || cs.StoreConsents[1].LeftAt != nil ||
			cs.StoreConsents[0].TextVersion != "mall-2026-01" || cs.StoreConsents[1].TextVersion != "mall-2026-12" ||
			cs.StoreConsents[0].Channel != "WEB" || cs.StoreConsents[1].Channel != "APP" || !cs.StoreConsents[1].JoinedAt.Equal(a.clock.Now()) {
			t.Errorf("bob's consents: %+v", cs.StoreConsents)
		}
	})
}

// TestStoreJoinRoles: a MEMBER joins itself and nobody else, SERVICE joins for a member,
// other roles cannot; the consent records when, where and which text; bad input is named.
func TestStoreJoinRoles(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := storeWorld(t, db)
		in := map[string]any{"program": "cafe", "channel": "APP", "textVersion": "cafe-v1"}
		// dave's token naming alice: NOT_FOUND, as an unknown member, and nothing joined.
		other := a.join(a.token(auth.RoleMember, "dave"), map[string]any{"externalId": "alice", "program": "cafe", "channel": "APP", "textVersion": "cafe-v1"})
		if len(other.UserErrors) != 1 || other.UserErrors[0].Code != "NOT_FOUND" {
			t.Errorf("dave joining for alice: %+v", other)
		}
		for _, role := range []auth.Role{auth.RoleAdmin, auth.RoleStore, auth.RolePartner} {
			if r := a.do(a.token(role, "alice"), joinStoreMutation, map[string]any{"in": map[string]any{"externalId": "alice", "program": "cafe",
				"channel": "APP", "textVersion": "v"}}); r.code() != graph.CodeForbidden {
				t.Errorf("%s joins: %q", role, r.code())
			}
			if r := a.do(a.token(role, "alice"), leaveStoreMutation, map[string]any{"in": map[string]any{"externalId": "alice", "program": "mall"}}); r.code() != graph.CodeForbidden {
				t.Errorf("%s leaves: %q", role, r.code())
			}
		}
		var cs struct{ StoreConsents []consentView }
		a.must(a.token(auth.RoleAdmin, "ops"), `{ storeConsents(externalId: "alice") { program { key } joinedAt channel textVersion leftAt } }`, nil, &cs)
		if len(cs.StoreConsents) != 1 || cs.StoreConsents[0].Program.Key != "mall" || cs.StoreConsents[0].Channel != "APP" ||
			cs.StoreConsents[0].TextVersion != "mall-2026-01" || !cs.StoreConsents[0].JoinedAt.Equal(a.clock.Now()) || cs.StoreConsents[0].LeftAt != nil {
			t.Errorf("alice's consents after others tried: %+v", cs.StoreConsents)
		}
		a.clock.Advance(time.Hour)
		dave := a.join(a.token(auth.RoleMember, "dave"), in)
		if len(dave.UserErrors) > 0 || dave.Consent.Program.Key != "cafe" || !dave.Consent.JoinedAt.Equal(a.clock.Now()) || dave.Consent.Channel != "APP" {
			t.Errorf("dave joins: %+v", dave)
		}
		// Joining again returns the consent that holds, unchanged.
		a.clock.Advance(time.Hour)
		again := a.join(a.token(auth.RoleService, "shop"), map[string]any{"externalId": "dave", "program": "cafe", "channel": "WEB", "textVersion": "cafe-v2"})
		if len(again.UserErrors) > 0 || !again.Consent.JoinedAt.Equal(dave.Consent.JoinedAt) || again.Consent.TextVersion != "cafe-v1" {
			t.Errorf("joining again: %+v", again)
		}
		for _, c := range []struct {
			in    map[string]any
			field string
			code  string
		}{
			{map[string]any{"program": "nope", "channel": "APP", "textVersion": "v1"}, "input.program", "NOT_FOUND"},
			{map[string]any{"program": "mall", "channel": "APP", "textVersion": "has space"}, "input.textVersion", "INVALID_ARGUMENT"},
			{map[string]any{"program": "mall", "channel": "APP", "textVersion": ""}, "input.textVersion", "INVALID_ARGUMENT"},
		} {
			p := a.join(a.token(auth.RoleMember, "dave"), c.in)
			if len(p.UserErrors) != 1 || strings.Join(p.UserErrors[0].Field, ".") != c.field || p.UserErrors[0].Code != c.code {
				t.Errorf("join %v: %+v", c.in, p.UserErrors)
			}
		}
		if p := a.leave(a.token(auth.RoleMember, "dave"), map[string]any{"program": "mall"}); len(p.UserErrors) != 1 || p.UserErrors[0].Code != "NOT_FOUND" {
			t.Errorf("leaving a programme never joined: %+v", p)
		}
		if got := strings.Join(a.storeMembers("mall-a", 20, nil, nil).ids(), ","); got != "alice,bob" {
			t.Errorf("mall after the refused joins: %s", got)
		}
	})
}

// TestStoreGrants: a union's stores grant from its shared budget, each entry naming the
// store; only to consenting members; never as another store; a retry replays, also after
// the member left; the union's budget is funded as UNION:mall.
func TestStoreGrants(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := storeWorld(t, db)
		if _, ue := a.fund("mall-a", 100, "f-own"); len(ue) != 1 || ue[0].Code != "FAILED_PRECONDITION" || strings.Join(ue[0].Field, ".") != "input.storeId" {
			t.Errorf("funding a union store's own budget: %+v", ue)
		}
		if _, ue := a.fund("UNION:nope", 100, "f-nope"); len(ue) != 1 || ue[0].Code != "NOT_FOUND" {
			t.Errorf("funding an unknown union: %+v", ue)
		}
		if _, ue := a.fund("UNION:cafe", 100, "f-cafe"); len(ue) != 1 || ue[0].Code != "NOT_FOUND" {
			t.Errorf("funding a SINGLE programme as a union: %+v", ue)
		}
		if b, ue := a.fund("UNION:mall", 100, "f-mall"); len(ue) > 0 || b.StoreID != "UNION:mall" || b.Remaining != 100 {
			t.Fatalf("funding the union: %+v %+v", b, ue)
		}
		if b, ue := a.fund("cafe-1", 50, "f-cafe-1"); len(ue) > 0 || b.Remaining != 50 {
			t.Fatalf("funding a SINGLE store: %+v %+v", b, ue)
		}
		mallA, mallB := a.token(auth.RoleStore, "mall-a"), a.token(auth.RoleStore, "mall-b")
		aliceBefore := a.points("alice").Balance
		g := a.grantAsStore(mallA, "mall-a", "alice", 30, "g1")
		if len(g.UserErrors) > 0 || g.Entry.Amount != 30 || g.Entry.Funding != "STORE:mall-a" || g.Balance != aliceBefore+30 {
			t.Fatalf("mall-a grants alice 30: %+v", g)
		}
		if g := a.grantAsStore(mallB, "mall-b", "bob", 20, "g2"); len(g.UserErrors) > 0 || g.Entry.Funding != "STORE:mall-b" {
			t.Fatalf("mall-b grants bob 20: %+v", g)
		}
		// Both drew on the one budget: 100 - 30 - 20; every store of the union reads it.
		for _, s := range []string{"mall-a", "mall-c"} {
			if b := a.budget(a.token(auth.RoleStore, s), s); b == nil || b.StoreID != "UNION:mall" || b.Granted != 50 || b.Remaining != 50 {
				t.Errorf("%s reads its budget: %+v", s, b)
			}
		}
		for _, s := range []string{"cafe-1", "plaza-1", "lone"} {
			for _, id := range []string{"UNION:mall", "mall-a"} {
				if b := a.budget(a.token(auth.RoleStore, s), id); b != nil {
					t.Errorf("%s reads %s's budget: %+v", s, id, b)
				}
			}
		}
		if b := a.budget(a.token(auth.RoleAdmin, "ops"), "UNION:mall"); b == nil || b.Remaining != 50 {
			t.Errorf("ADMIN reads mall's budget: %+v", b)
		}
		balances := func() map[string]int {
			m := map[string]int{}
			for _, x := range []string{"alice", "bob", "carol", "dave", "erin"} {
				m[x] = a.points(x).Balance
			}
			return m
		}
		before := balances()
		// Refused, alike for the withdrawn, the never joined, another programme's member and
		// an unknown id; as another store; beyond the budget.
		for _, c := range []struct {
			token, store, member string
			pts                  int
			field, code          string
		}{
			{mallA, "mall-a", "carol", 1, "input.externalId", "NOT_FOUND"},
			{mallA, "mall-a", "dave", 1, "input.externalId", "NOT_FOUND"},
			{mallA, "mall-a", "erin", 1, "input.externalId", "NOT_FOUND"},
			{mallA, "mall-a", "nobody", 1, "input.externalId", "NOT_FOUND"},
			{a.token(auth.RoleStore, "cafe-1"), "cafe-1", "alice", 1, "input.externalId", "NOT_FOUND"},
			{a.token(auth.RoleStore, "lone"), "lone", "alice", 1, "input.externalId", "NOT_FOUND"},
			{a.token(auth.RoleStore, "plaza-1"), "plaza-1", "alice", 1, "input.externalId", "NOT_FOUND"},
			{mallA, "mall-b", "alice", 1, "input.storeId", "PERMISSION_DENIED"},
			{mallA, "UNION:mall", "alice", 1, "input.storeId", "INVALID_ARGUMENT"},
			{a.token(auth.RoleService, "shop"), "mall-a", "dave", 1, "input.externalId", "NOT_FOUND"},
			{mallA, "mall-a", "alice", 51, "input.points", "FAILED_PRECONDITION"},
		} {
			key := fmt.Sprintf("r-%s-%s-%d", c.store, c.member, c.pts)
			g := a.grantAsStore(c.token, c.store, c.member, c.pts, key)
			if len(g.UserErrors) != 1 || strings.Join(g.UserErrors[0].Field, ".") != c.field || g.UserErrors[0].Code != c.code || g.Entry != nil {
				t.Errorf("%s grants %s %d: %+v, want %s %s", c.store, c.member, c.pts, g, c.field, c.code)
			}
		}
		// The withdrawn and the unknown read the same.
		carol := a.grantAsStore(mallA, "mall-a", "carol", 1, "same-1")
		nobody := a.grantAsStore(mallA, "mall-a", "nobody", 1, "same-2")
		if carol.UserErrors[0].Message != strings.Replace(nobody.UserErrors[0].Message, "nobody", "carol", 1) {
			t.Errorf("withdrawn %q, unknown %q", carol.UserErrors[0].Message, nobody.UserErrors[0].Message)
		}
		if got := balances(); !reflect.DeepEqual(got, before) {
			t.Errorf("refused grants changed balances: %v → %v", before, got)
		}
		if b := a.budget(a.token(auth.RoleAdmin, "ops"), "UNION:mall"); b.Granted != 50 {
			t.Errorf("refused grants changed the budget: %+v", b)
		}
		// A retry replays, also after the member left; a new grant to her is refused.
		a.leave(a.token(auth.RoleMember, "alice"), map[string]any{"program": "mall"})
		if g := a.grantAsStore(mallA, "mall-a", "alice", 30, "g1"); len(g.UserErrors) > 0 || !g.Replayed || g.Entry.Amount != 30 {
			t.Errorf("retry of g1 after alice left: %+v", g)
		}
		if g := a.grantAsStore(mallA, "mall-a", "alice", 30, "g3"); len(g.UserErrors) != 1 || g.UserErrors[0].Code != "NOT_FOUND" {
			t.Errorf("new grant after alice left: %+v", g)
		}
		if g := a.grantAsStore(mallA, "mall-a", "alice", 31, "g1"); len(g.UserErrors) != 1 || g.UserErrors[0].Code != "CONFLICT" {
			t.Errorf("g1 with another body: %+v", g)
		}
		if b := a.points("alice").Balance; b != aliceBefore+30 {
			t.Errorf("alice's balance %d, want %d", b, aliceBefore+30)
		}
		// The SINGLE store grants from its own budget.
		if g := a.grantAsStore(a.token(auth.RoleStore, "cafe-1"), "cafe-1", "erin", 50, "c1"); len(g.UserErrors) > 0 || g.Entry.Funding != "STORE:cafe-1" {
			t.Errorf("cafe-1 grants erin: %+v", g)
		}
		if b := a.budget(a.token(auth.RoleStore, "cafe-1"), "cafe-1"); b == nil || b.StoreID != "cafe-1" || b.Remaining != 0 {
			t.Errorf("cafe-1's budget: %+v", b)
		}
	})
}

// TestStoreGrantsRace: 12 grants of 10 from the three stores of a union at once, on a shared
// budget of 100: exactly 10 pass, the budget is spent to 0 and never beyond, and the members'
// STORE:<id> entries add up, per store, to what each store was told it granted.
func TestStoreGrantsRace(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := storeWorld(t, db)
		if _, ue := a.fund("UNION:mall", 100, "f-mall"); len(ue) > 0 {
			t.Fatal(ue)
		}
		stores := []string{"mall-a", "mall-b", "mall-c"}
		tokens := map[string]string{}
		for _, s := range stores {
			tokens[s] = a.token(auth.RoleStore, s)
		}
		var mu sync.Mutex
		granted := map[string]int{}
		refused := 0
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := stores[i%3]
				m := []string{"alice", "bob"}[i%2]
				g := a.grantAsStore(tokens[s], s, m, 10, fmt.Sprintf("race-%d", i))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case len(g.UserErrors) == 0 && g.Entry != nil:
					granted[g.Entry.Funding] += g.Entry.Amount
				case len(g.UserErrors) == 1 && g.UserErrors[0].Code == "FAILED_PRECONDITION":
					refused++
				default:
					t.Errorf("grant %d: %+v", i, g)
				}
			}()
		}
		wg.Wait()
		total := 0
		for _, v := range granted {
			total += v
		}
		if total != 100 || refused != 2 {
			t.Errorf("granted %v (%d), refused %d; want 100 and 2", granted, total, refused)
		}
		if b := a.budget(a.token(auth.RoleAdmin, "ops"), "UNION:mall"); b.Granted != 100 || b.Remaining != 0 {
			t.Errorf("budget after the race: %+v", b)
		}
		ledger := map[string]int{}
		for _, m := range []string{"alice", "bob"} {
			for _, e := range a.points(m).Entries.Edges {
				if strings.HasPrefix(e.Node.Funding, "STORE:") {
					ledger[e.Node.Funding] += e.Node.Amount
				}
			}
		}
		if !reflect.DeepEqual(ledger, granted) {
			t.Errorf("ledger entries by store %v, grants answered %v", ledger, granted)
		}
	})
}

// TestStoreRoleMatrix: a STORE token reads storeMembers and grants to consenting members,
// and nothing else of members: every root operation that does not admit STORE answers
// FORBIDDEN (found from the schema, so a new one is covered), the open ones answer no
// member, and below the resolvers a STORE viewer reads no member-owned row of any type.
func TestStoreRoleMatrix(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := storeWorld(t, db)
		storeTok := a.token(auth.RoleStore, "mall-a")
		schema := graph.NewExecutableSchema(graph.Config{}).Schema()
		admits := func(f *ast.FieldDefinition) (bool, bool) {
			d := f.Directives.ForName("auth")
			if d == nil {
				return false, false
			}
			for _, c := range d.Arguments.ForName("requires").Value.Children {
				if c.Value.Raw == "STORE" {
					return true, true
				}
			}
			return true, false
		}
		// What a STORE may call: storeMembers and grantStorePoints (tested above and below),
		// storeBudget (its own or its union's), storePrograms and partners (programme data).
		allowed := map[string]bool{"Query.storeMembers": true, "Query.storePrograms": true, "Query.storeBudget": true,
			"Query.partners": true, "Mutation.grantStorePoints": true}
		// Root fields without @auth answer by the privacy rules; what a STORE gets of each.
		aliceID := a.memberNodeID("alice")
		// Every field of Member at once; ADMIN reads alice through it, a STORE nothing.
		everyField := memberSelection(schema)
		var asAdmin struct{ Member map[string]any }
		a.must(a.token(auth.RoleAdmin, "ops"), `{ member(externalId: "alice") `+everyField+` }`, nil, &asAdmin)
		if asAdmin.Member["externalId"] != "alice" {
			t.Fatalf("ADMIN reads every field of alice: %v", asAdmin.Member)
		}
		open := map[string]struct {
			query, want string
		}{
			"Query.member":  {`{ member(externalId: "alice") ` + everyField + ` }`, "null"},
			"Query.node":    {fmt.Sprintf(`{ node(id: %q) { id ... on Member { externalId } } }`, aliceID), graph.CodeNotFound},
			"Query.nodes":   {fmt.Sprintf(`{ nodes(ids: [%q]) { id ... on Member { externalId } } }`, aliceID), graph.CodeNotFound},
			"Query.program": {`{ program { key tiers { key } } }`, "ok"},
			"Query.viewer":  {`{ viewer { externalId } }`, graph.CodeForbidden},
		}
		var checked int
		for _, root := range []*ast.Definition{schema.Query, schema.Mutation} {
			for _, f := range root.Fields {
				if strings.HasPrefix(f.Name, "__") {
					continue
				}
				name := root.Name + "." + f.Name
				hasAuth, store := admits(f)
				switch {
				case store:
					if !allowed[name] {
						t.Errorf("%s admits STORE: a store reads only storeMembers of members (docs/domain.md §8)", name)
					}
				case hasAuth:
					op := "query"
					if root == schema.Mutation {
						op = "mutation"
					}
					q := op + " { " + f.Name + fieldArgs(schema, f.Arguments) + selectionOf(schema, f.Type) + " }"
					if r := a.do(storeTok, q, nil); r.code() != graph.CodeForbidden {
						t.Errorf("%s as STORE: %q, want FORBIDDEN (%s; %+v)", name, r.code(), q, r.Errors)
					}
					checked++
				default:
					o, ok := open[name]
					if !ok {
						t.Errorf("%s has no @auth: add what a STORE gets of it to this test", name)
						continue
					}
					r := a.do(storeTok, o.query, nil)
					got := r.code()
					if got == "" {
						got = "ok"
						if raw := string(r.Data[f.Name]); raw == "null" {
							got = "null"
						}
						if strings.Contains(string(r.Data[f.Name]), "alice") {
							got = "sees alice"
						}
					}
					if got != o.want {
						t.Errorf("%s as STORE: %s, want %s", name, got, o.want)
					}
				}
			}
		}
		if checked < 40 {
			t.Errorf("only %d operations refused: the schema walk found too few", checked)
		}

		// Below the resolvers: of every entity type, a STORE viewer reads no row that a member
		// owns (a Member or a row with a member id), while ADMIN reads many.
		pid, err := program.NewService(a.db.Client).IDByKey(context.Background(), program.PresetKey)
		if err != nil {
			t.Fatal(err)
		}
		storeCtx := auth.NewContext(context.Background(), auth.Viewer{Role: auth.RoleStore, Subject: "mall-a", ProgramID: pid})
		adminCtx := auth.NewContext(context.Background(), auth.Viewer{Role: auth.RoleAdmin, Subject: "ops", ProgramID: pid})
		adminSees := 0
		var seen []string
		cv := reflect.ValueOf(a.db.Client).Elem()
		for i := range cv.NumField() {
			f := cv.Field(i)
			if !cv.Type().Field(i).IsExported() || f.Kind() != reflect.Pointer || !f.MethodByName("Query").IsValid() {
				continue
			}
			rows := func(ctx context.Context) (reflect.Value, error) {
				out := f.MethodByName("Query").Call(nil)[0].MethodByName("All").Call([]reflect.Value{reflect.ValueOf(ctx)})
				err, _ := out[1].Interface().(error)
				return out[0], err
			}
			all, err := rows(adminCtx)
			if err != nil {
				t.Errorf("%s as ADMIN: %v", cv.Type().Field(i).Name, err)
				continue
			}
			el := all.Type().Elem().Elem()
			if _, owned := el.FieldByName("MemberID"); !owned && el.Name() != "Member" {
				continue
			}
			seen = append(seen, el.Name())
			if all.Len() > 0 {
				adminSees++
			}
			got, err := rows(storeCtx)
			if err == nil && got.Len() > 0 {
				t.Errorf("a STORE viewer reads %d %s rows", got.Len(), el.Name())
			}
		}
		sort.Strings(seen)
		if adminSees < 8 {
			t.Errorf("ADMIN reads rows of only %d member-owned types (%v): the fixture is too thin to prove anything", adminSees, seen)
		}
	})
}

// memberNodeID is a member's global id, as ADMIN reads it.
func (a *api) memberNodeID(ext string) string {
	a.t.Helper()
	var out struct{ Member struct{ ID string } }
	a.must(a.token(auth.RoleAdmin, "ops"), `query($m: String!) { member(externalId: $m) { id } }`, map[string]any{"m": ext}, &out)
	return out.Member.ID
}

// fieldArgs writes a well-formed value for each required argument, so that the request
// passes validation and meets the field's @auth.
func fieldArgs(s *ast.Schema, args ast.ArgumentDefinitionList) string {
	var parts []string
	for _, arg := range args {
		if arg.Type.NonNull && arg.DefaultValue == nil {
			parts = append(parts, arg.Name+": "+literal(s, arg.Type, 0))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func literal(s *ast.Schema, t *ast.Type, depth int) string {
	if t.Elem != nil {
		return "[" + literal(s, t.Elem, depth) + "]"
	}
	def := s.Types[t.NamedType]
	switch def.Kind {
	case ast.Enum:
		return def.EnumValues[0].Name
	case ast.InputObject:
		var parts []string
		for _, f := range def.Fields {
			if f.Type.NonNull && f.DefaultValue == nil && depth < 6 {
				parts = append(parts, f.Name+": "+literal(s, f.Type, depth+1))
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	switch def.Name {
	case "Int", "Float":
		return "1"
	case "Boolean":
		return "true"
	case "Time":
		return strconv.Quote("2026-01-01T00:00:00Z")
	case "Date":
		return strconv.Quote("2026-01-01")
	case "ID":
		return strconv.Quote("1")
	}
	return strconv.Quote("x")
}

func selectionOf(s *ast.Schema, t *ast.Type) string {
	for t.Elem != nil {
		t = t.Elem
	}
	switch s.Types[t.NamedType].Kind {
	case ast.Object, ast.Interface, ast.Union:
		return " { __typename }"
	}
	return ""
}

// memberSelection selects every field of Member: scalars by name, objects by __typename,
// connections with a page of one, required arguments filled as fieldArgs does.
func memberSelection(s *ast.Schema) string {
	var parts []string
	for _, f := range s.Types["Member"].Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		args := fieldArgs(s, f.Arguments)
		if f.Arguments.ForName("first") != nil && args == "" {
			args = "(first: 1)"
		}
		parts = append(parts, f.Name+args+selectionOf(s, f.Type))
	}
	return "{ " + strings.Join(parts, " ") + " }"
}

package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// logLevels records the level of every record logged through slog's default logger while
// a test runs (the error presenter logs there).
type logLevels struct {
	mu     sync.Mutex
	levels []slog.Level
}

func (l *logLevels) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLevels) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.levels = append(l.levels, r.Level)
	return nil
}
func (l *logLevels) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logLevels) WithGroup(string) slog.Handler      { return l }

func (l *logLevels) errors() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, lv := range l.levels {
		if lv >= slog.LevelError {
			n++
		}
	}
	return n
}

func captureLog(t *testing.T) *logLevels {
	l := &logLevels{}
	prev := slog.Default()
	slog.SetDefault(slog.New(l))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return l
}

// TestMalformedQueryArguments: a Time, Date-less filter or Cursor that cannot be read is
// the caller's mistake: BAD_USER_INPUT naming the argument, logged below ERROR.
func TestMalformedQueryArguments(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		logs := captureLog(t)
		admin := a.token(auth.RoleAdmin, "")
		for _, tc := range []struct {
			name, query string
			vars        map[string]any
			argument    string
			path        string
		}{
			{"cursor literal", `{ members(after: "bad") { totalCount } }`, nil, "after", "members"},
			{"cursor variable", `query($c: Cursor) { members(before: $c, last: 2) { totalCount } }`, map[string]any{"c": "not-a-cursor"}, "before", "members"},
			{"nested cursor", `{ member(externalId: "alice") { points { entries(after: "zz") { totalCount } } } }`, nil, "after", "member.points.entries"},
			{"time literal", `{ members(where: {registeredAtGT: "yesterday"}) { totalCount } }`, nil, "where.registeredAtGT", "members"},
			{"time variable", `query($t: Time) { members(where: {registeredAtLT: $t}) { totalCount } }`, map[string]any{"t": "2026-11-22 08:00:00"}, "where.registeredAtLT", "members"},
			{"time in a list", `query($t: [Time!]) { members(where: {registeredAtIn: $t}) { totalCount } }`, map[string]any{"t": []any{"2026-11-22T08:00:00Z", ""}}, "where.registeredAtIn[1]", "members"},
			{"time as a number", `query($t: Time) { members(where: {registeredAtGT: $t}) { totalCount } }`, map[string]any{"t": 1764000000}, "where.registeredAtGT", "members"},
			{"page size", `{ members(first: 101) { totalCount } }`, nil, "first", "members"},
		} {
			r := a.do(admin, tc.query, tc.vars)
			if len(r.Errors) != 1 {
				t.Errorf("%s: %d errors %+v", tc.name, len(r.Errors), r.Errors)
				continue
			}
			e := r.Errors[0]
			path := strings.ReplaceAll(fmt.Sprintf("%v", e.Path), " ", ".")
			if r.code() != graph.CodeBadUserInput || e.Extensions["argument"] != tc.argument ||
				!strings.HasPrefix(e.Message, "argument "+tc.argument+": ") || path != "["+tc.path+"]" {
				t.Errorf("%s: %+v, want BAD_USER_INPUT on argument %s at %s", tc.name, e, tc.argument, tc.path)
			}
			if strings.Contains(e.Message, "msgpack") || strings.Contains(e.Message, "RFC3339Nano") {
				t.Errorf("%s: message speaks of the decoder: %q", tc.name, e.Message)
			}
		}
		if n := logs.errors(); n > 0 {
			t.Errorf("malformed arguments logged %d ERROR records", n)
		}
		// The well-formed forms are read: a cursor from pageInfo, RFC 3339 with any zone.
		var p struct {
			Members struct{ PageInfo struct{ EndCursor string } }
		}
		a.must(admin, `{ members(first: 1) { edges { cursor } pageInfo { endCursor } } }`, nil, &p)
		a.must(admin, `query($c: Cursor, $t: Time) { members(after: $c, where: {registeredAtLT: $t}) { totalCount } }`,
			map[string]any{"c": p.Members.PageInfo.EndCursor, "t": "2026-11-22T16:00:00.5+08:00"}, &struct{}{})
	})
}

// TestMalformedMutationInput: a malformed Date or Time inside a mutation's input is a
// userError INVALID_ARGUMENT naming the input field; nothing is written.
func TestMalformedMutationInput(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		logs := captureLog(t)
		admin := a.token(auth.RoleAdmin, "")
		type payload struct {
			Member     *struct{ ExternalID string }
			UserErrors []userError
		}
		for _, tc := range []struct {
			name  string
			input map[string]any
			field string
		}{
			{"no 30 February", map[string]any{"externalId": "b1", "birthday": "2026-02-30"}, "input.birthday"},
			{"day first", map[string]any{"externalId": "b2", "birthday": "31/12/1990"}, "input.birthday"},
			{"date and time", map[string]any{"externalId": "b3", "birthday": "1990-12-31T00:00:00Z"}, "input.birthday"},
			{"time without zone", map[string]any{"externalId": "r1", "registeredAt": "2026-01-01T08:00:00"}, "input.registeredAt"},
			{"empty time", map[string]any{"externalId": "r2", "registeredAt": ""}, "input.registeredAt"},
		} {
			tc.input["registrationChannel"] = "APP"
			var out struct{ RegisterMember payload }
			a.must(admin, registerMutation, map[string]any{"input": tc.input}, &out)
			ue := out.RegisterMember.UserErrors
			if out.RegisterMember.Member != nil || len(ue) != 1 || ue[0].Code != "INVALID_ARGUMENT" ||
				strings.Join(ue[0].Field, ".") != tc.field || ue[0].Message == "" {
				t.Errorf("%s: member %v, userErrors %+v; want INVALID_ARGUMENT on %s", tc.name, out.RegisterMember.Member, ue, tc.field)
			}
		}
		// A literal in the document is read the same way as a variable.
		var lit struct{ UpdateMember payload }
		a.must(admin, `mutation { updateMember(input: {externalId: "alice", birthday: "1990-13-01"}) { member { externalId } userErrors { field message code } } }`, nil, &lit)
		if ue := lit.UpdateMember.UserErrors; len(ue) != 1 || strings.Join(ue[0].Field, ".") != "input.birthday" || ue[0].Code != "INVALID_ARGUMENT" {
			t.Errorf("updateMember with 1990-13-01: %+v", lit.UpdateMember)
		}
		// Every malformed value is named, down lists of inputs.
		var rec struct {
			RecordEvents struct {
				Results    []eventResult
				UserErrors []userError
			}
		}
		a.must(a.token(auth.RoleService, "orders"), `mutation($events: [EventInput!]!) { recordEvents(input: {events: $events}) { results { status } userErrors { field message code } } }`,
			map[string]any{"events": []map[string]any{
				{"idempotencyKey": "k1", "externalId": "alice", "kind": "LOGIN", "channel": "APP", "occurredAt": a.now()},
				{"idempotencyKey": "k2", "externalId": "alice", "kind": "LOGIN", "channel": "APP", "occurredAt": "now"},
				{"idempotencyKey": "k3", "externalId": "alice", "kind": "LOGIN", "channel": "APP", "occurredAt": "22/11/2026"},
			}}, &rec)
		var fields []string
		for _, ue := range rec.RecordEvents.UserErrors {
			fields = append(fields, strings.Join(ue.Field, ".")+" "+ue.Code)
		}
		if got := strings.Join(fields, ", "); got != "input.events.1.occurredAt INVALID_ARGUMENT, input.events.2.occurredAt INVALID_ARGUMENT" || len(rec.RecordEvents.Results) != 0 {
			t.Errorf("recordEvents with two bad times: userErrors %s, results %+v", got, rec.RecordEvents.Results)
		}
		// Nothing was written: b1..r2 do not exist and k1 was not recorded.
		var m struct {
			Members struct{ TotalCount int }
		}
		a.must(admin, `{ members { totalCount } }`, nil, &m)
		if m.Members.TotalCount != 1 {
			t.Errorf("%d members after refused registrations, want 1", m.Members.TotalCount)
		}
		if res := a.record(map[string]any{"idempotencyKey": "k1", "externalId": "alice", "kind": "LOGIN", "channel": "APP", "occurredAt": a.now()}); res[0].Status != "ACCEPTED" {
			t.Errorf("k1 after the refused batch: %s, want ACCEPTED (it was not stored)", res[0].Status)
		}
		// A role that may not call the mutation learns that, not what is wrong with its input.
		r := a.do(a.token(auth.RoleStore, "s1"), registerMutation, map[string]any{"input": map[string]any{
			"externalId": "x", "registrationChannel": "APP", "birthday": "2026-02-30"}})
		if r.code() != graph.CodeForbidden {
			t.Errorf("STORE registering with a bad birthday: %+v %s, want FORBIDDEN", r.Errors, r.Data)
		}
		if n := logs.errors(); n > 0 {
			t.Errorf("malformed input logged %d ERROR records", n)
		}
	})
}

// TestMalformedIDsLookUnknown: node(id:) and nodes(ids:) answer a malformed id exactly as
// an unknown one and as one the caller may not see.
func TestMalformedIDsLookUnknown(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		aliceID := a.register("alice", nil)
		bobID := a.register("bob", nil)
		logs := captureLog(t)
		bob := a.token(auth.RoleMember, "bob")
		var id int64
		fmt.Sscan(aliceID, &id)
		strip := func(r result) string {
			b, _ := json.Marshal(map[string]any{"status": r.Status, "errors": r.Errors, "data": r.Data})
			return string(b)
		}
		q := `query($id: ID!) { node(id: $id) { id } }`
		want := strip(a.do(bob, q, map[string]any{"id": aliceID})) // forbidden
		for _, bad := range []any{fmt.Sprint(id + 1000), "abc", "", "1e3", "99999999999999999999999", 1.5} {
			if got := strip(a.do(bob, q, map[string]any{"id": bad})); got != want {
				t.Errorf("node(id: %#v) = %s\nforbidden id     = %s", bad, got, want)
			}
		}
		if !strings.Contains(want, graph.CodeNotFound) {
			t.Errorf("forbidden id: %s", want)
		}
		// In a list, each malformed id is a null with its own NOT_FOUND, like an unknown one.
		qs := `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`
		unknown := strip(a.do(bob, qs, map[string]any{"ids": []any{fmt.Sprint(id + 1000), bobID}}))
		malformed := strip(a.do(bob, qs, map[string]any{"ids": []any{"x1", bobID}}))
		if unknown != malformed || !strings.Contains(unknown, `"nodes":[null,{"id":"`+bobID+`"}]`) {
			t.Errorf("nodes with an unknown id: %s\nwith a malformed id:  %s", unknown, malformed)
		}
		if n := logs.errors(); n > 0 {
			t.Errorf("malformed ids logged %d ERROR records", n)
		}
	})
}

// TestDatabaseOutageIsUnavailable: with the database gone under a live server, callers
// learn UNAVAILABLE with a retry hint, never INTERNAL, SQL or driver text.
func TestDatabaseOutageIsUnavailable(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		admin := a.token(auth.RoleAdmin, "")
		db.SQL.Close()
		for _, q := range []string{
			`{ member(externalId: "alice") { externalId } }`,
			`{ members { totalCount } }`,
			`mutation { registerMember(input: {externalId: "bob", registrationChannel: APP}) { userErrors { code } } }`,
		} {
			r := a.do(admin, q, nil)
			if len(r.Errors) != 1 {
				t.Errorf("%s: %+v", q, r.Errors)
				continue
			}
			e := r.Errors[0]
			if r.code() != graph.CodeUnavailable || e.Extensions["retryAfterSeconds"] == nil || e.Extensions["requestId"] == nil ||
				strings.Contains(strings.ToLower(e.Message), "sql") || strings.Contains(e.Message, "closed") {
				t.Errorf("%s during an outage: %+v", q, e)
			}
		}
		// A token whose programme is not known yet cannot be checked: 503, not 401.
		other, err := a.signer.Issue(auth.TokenRequest{Role: auth.RoleAdmin, Program: "other", TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if r := a.do(other, `{ program { key } }`, nil); r.Status != http.StatusServiceUnavailable || r.code() != graph.CodeUnavailable {
			t.Errorf("token of an uncached programme during an outage: HTTP %d %+v", r.Status, r.Errors)
		}
	})
}

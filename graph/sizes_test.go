package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// TestClaimParamsBounded: a claim's params are refused beyond 64 bytes a key, 1024 a value
// and 50 entries, as INVALID_ARGUMENT naming each, and nothing is stored; within the
// bounds the same claim is recorded (a refusal, alice not being eligible for videovip).
func TestClaimParamsBounded(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _, _ := newPartnerAPI(t, db)
		a.register("alice", nil)
		alice := a.token(auth.RoleMember, "alice")
		claim := func(key string, params []map[string]string) []userError {
			var out struct {
				ClaimPartnerBenefit struct{ UserErrors []userError }
			}
			a.must(alice, `mutation($k: String!, $ps: [ConfigEntryInput!]) {
				claimPartnerBenefit(input: {externalId: "alice", partner: "videovip", benefit: "VIP_YEAR", idempotencyKey: $k, params: $ps}) {
					userErrors { field code message } } }`, map[string]any{"k": key, "ps": params}, &out)
			return out.ClaimPartnerBenefit.UserErrors
		}
		grants := func() int {
			var out struct {
				Member struct{ PartnerGrants struct{ TotalCount int } }
			}
			a.must(a.token(auth.RoleAdmin, ""), `{ member(externalId: "alice") { partnerGrants { totalCount } } }`, nil, &out)
			return out.Member.PartnerGrants.TotalCount
		}
		entry := func(k, v string) map[string]string { return map[string]string{"key": k, "value": v} }
		many := make([]map[string]string, 51)
		for i := range many {
			many[i] = entry(fmt.Sprint("k", i), "v")
		}
		for name, c := range map[string]struct {
			params []map[string]string
			fields []string
		}{
			"long value": {[]map[string]string{entry("a", "ok"), entry("b", strings.Repeat("v", 1025))}, []string{"input.params.1.value"}},
			"long key":   {[]map[string]string{entry(strings.Repeat("k", 65), "v")}, []string{"input.params.0.key"}},
			"both":       {[]map[string]string{entry(strings.Repeat("k", 65), strings.Repeat("v", 1025))}, []string{"input.params.0.key", "input.params.0.value"}},
			"51 entries": {many, []string{"input.params"}},
		} {
			ue := claim("big-"+name, c.params)
			var got []string
			for _, e := range ue {
				if e.Code != "INVALID_ARGUMENT" {
					t.Errorf("%s: %+v, want INVALID_ARGUMENT", name, e)
				}
				got = append(got, strings.Join(e.Field, "."))
			}
			if strings.Join(got, " ") != strings.Join(c.fields, " ") {
				t.Errorf("%s: fields %v, want %v (%+v)", name, got, c.fields, ue)
			}
		}
		if n := grants(); n != 0 {
			t.Errorf("refused claims stored %d grants", n)
		}
		// At the bounds exactly: 64-byte keys, 1024-byte values; the claim is recorded.
		if ue := claim("at-bounds", []map[string]string{entry(strings.Repeat("k", 64), strings.Repeat("v", 1024))}); len(ue) != 1 || ue[0].Code != "FAILED_PRECONDITION" {
			t.Errorf("claim at the bounds: %+v, want the partner's FAILED_PRECONDITION", ue)
		}
		if n := grants(); n != 1 {
			t.Errorf("claim at the bounds stored %d grants, want 1", n)
		}
	})
}

// TestInputSizesBounded: a string over 1024 bytes or a list over 1000 items anywhere in the
// arguments is refused before the resolver: BAD_USER_INPUT naming it on a query, an
// INVALID_ARGUMENT userError naming it on a mutation, which writes nothing.
func TestInputSizesBounded(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		admin := a.token(auth.RoleAdmin, "")
		long := strings.Repeat("x", 1025)
		r := a.do(admin, `query($e: String!) { member(externalId: $e) { id } }`, map[string]any{"e": long})
		if r.code() != graph.CodeBadUserInput || r.Errors[0].Extensions["argument"] != "externalId" || !strings.Contains(r.Errors[0].Message, "at most 1024 bytes") {
			t.Errorf("1025-byte externalId: %+v", r.Errors)
		}
		ids := make([]string, 1001)
		for i := range ids {
			ids[i] = fmt.Sprint("m", i)
		}
		const in = `query($ids: [String!]) { members(where: {nicknameIn: $ids}) { totalCount } }`
		r = a.do(admin, in, map[string]any{"ids": ids})
		if r.code() != graph.CodeBadUserInput || r.Errors[0].Extensions["argument"] != "where.nicknameIn" || !strings.Contains(r.Errors[0].Message, "at most 1000 items") {
			t.Errorf("1001 ids: %+v", r.Errors)
		}
		if r := a.do(admin, in, map[string]any{"ids": ids[:1000]}); len(r.Errors) > 0 {
			t.Errorf("1000 ids refused: %+v", r.Errors)
		}
		// A string inside the where filter is named by its path.
		r = a.do(admin, `query($e: String) { members(where: {nicknameContains: $e}) { totalCount } }`, map[string]any{"e": long})
		if r.code() != graph.CodeBadUserInput || r.Errors[0].Extensions["argument"] != "where.nicknameContains" {
			t.Errorf("1025-byte filter: %+v", r.Errors)
		}
		var out struct {
			RegisterMember struct{ UserErrors []userError }
		}
		a.must(admin, `mutation($e: String!) { registerMember(input: {externalId: $e, registrationChannel: APP}) { userErrors { field code } } }`,
			map[string]any{"e": strings.Repeat("é", 600)}, &out)
		if ue := out.RegisterMember.UserErrors; len(ue) != 1 || ue[0].Code != "INVALID_ARGUMENT" || strings.Join(ue[0].Field, ".") != "input.externalId" {
			t.Errorf("1200-byte externalId: %+v", ue)
		}
		var members struct{ Members struct{ TotalCount int } }
		if a.must(admin, `{ members { totalCount } }`, nil, &members); members.Members.TotalCount != 0 {
			t.Errorf("refused registration stored %d members", members.Members.TotalCount)
		}
		// A role the mutation is not for learns FORBIDDEN, not what was too long.
		r = a.do(a.token(auth.RoleMember, "alice"), `mutation($e: String!) { registerMember(input: {externalId: $e, registrationChannel: APP}) { userErrors { field } } }`,
			map[string]any{"e": long})
		if r.code() != graph.CodeForbidden {
			t.Errorf("member registering a long id: %+v", r.Errors)
		}
	})
}

// post sends body to /graphql as admin; chunked hides its length, so the client sends it
// in chunks without Content-Length.
func (a *api) post(body []byte, chunked bool) (int, string) {
	a.t.Helper()
	var rd io.Reader = bytes.NewReader(body)
	if chunked {
		rd = io.MultiReader(rd) // no Len: net/http cannot know the size
	}
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/graphql", rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.token(auth.RoleAdmin, ""))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	if chunked != (req.ContentLength <= 0) {
		a.t.Fatalf("chunked %v but Content-Length %d", chunked, req.ContentLength)
	}
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// TestBodyLimitAndEchoes: a body over MaxBodyBytes answers 413 alike whether it is sized or
// chunked; a batch (a JSON array) and a body gqlgen cannot decode are 400 without the body
// echoed back.
func TestBodyLimitAndEchoes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		big := []byte(`{"query":"{ program { key } }","variables":{"pad":"` + strings.Repeat("x", 2<<20) + `"}}`)
		sizedCode, sizedBody := a.post(big, false)
		chunkedCode, chunkedBody := a.post(big, true)
		if sizedCode != http.StatusRequestEntityTooLarge || chunkedCode != sizedCode || chunkedBody != sizedBody {
			t.Errorf("sized: %d %s; chunked: %d %s", sizedCode, sizedBody, chunkedCode, chunkedBody)
		}
		// Just within the limit, chunked is served.
		small := []byte(`{"query":"{ program { key } }"}`)
		if code, body := a.post(small, true); code != http.StatusOK || !strings.Contains(body, `"key"`) {
			t.Errorf("small chunked body: %d %s", code, body)
		}
		const secret = "SECRET-IN-THE-BODY"
		for name, body := range map[string]string{
			"batch":          `[{"query":"{ program { key } }","variables":{"s":"` + secret + `"}}]`,
			"query a number": `{"query":5,"variables":{"s":"` + secret + `"}}`,
			"not JSON":       `{"query":"{ program { key } }", "` + secret,
		} {
			code, resp := a.post([]byte(body), false)
			var r result
			_ = json.Unmarshal([]byte(resp), &r)
			if code != http.StatusBadRequest || r.code() != graph.CodeBadRequest || strings.Contains(resp, secret) {
				t.Errorf("%s: %d %s", name, code, resp)
			}
			if name == "batch" && !strings.Contains(resp, "batching is not supported") {
				t.Errorf("batch: %s", resp)
			}
		}
	})
}

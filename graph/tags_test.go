package graph_test

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/tag"
)

// tagsAPI is a server whose tag service the test holds, to wait for its background
// evaluations.
func tagsAPI(t *testing.T, db *store.DB) (*api, *tag.Service) {
	var tags *tag.Service
	a := newAPI(t, db, func(c *graph.ServerConfig) {
		tags = tag.NewService(db.Client, c.Ledger.Clock(), db.Dialect, tag.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		c.Events.AddCommitListener(tags.Touched)
		c.Tags = tags
	})
	return a, tags
}

const (
	createTagRuleMutation = `mutation($input: CreateTagRuleInput!) {
  createTagRule(input: $input) { rule { key name version members condition { field min windowMonths } } userErrors { field code } } }`
	tagMemberMutation = `mutation($input: TagMemberInput!) {
  tagMember(input: $input) { tag { key kind since setBy reason source } userErrors { field code } } }`
	createSegmentMutation = `mutation($input: CreateSegmentInput!) {
  createSegment(input: $input) { segment { key count } userErrors { field code } } }`
	previewQuery = `query($filter: ConditionInput!) { previewSegment(filter: $filter) { count userErrors { field code } } }`
	segmentQuery = `query($key: String!, $after: Cursor) { segment(key: $key) { key count
  members(first: 2, after: $after) { edges { node { externalId } } pageInfo { hasNextPage endCursor } } } }`
)

// TestTagsAndSegmentsAPI: an automatic tag over November's spend, manual tags with who and
// why, Member.tags in key order, segments with AND / OR / NOT whose preview is the saved
// count, a segment paged by member id, and a new event re-tagging its member.
//
// Members (registered in this order, so ids ascend): alice ¥600, bob ¥100, carol nothing,
// dave ¥700 — all in November 2026, the clock's month. "big" = spend ≥ ¥500 this month →
// alice, dave. "vip" is set by hand on alice and carol.
func TestTagsAndSegmentsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, tags := tagsAPI(t, db)
		for _, m := range []string{"alice", "bob", "carol", "dave"} {
			a.register(m, nil)
		}
		a.record(at(orderEvent("o1", "alice", "o1", "WEB", ln("novel", "BOOKS", 60000)), "2026-11-20T04:00:00Z"),
			at(orderEvent("o2", "bob", "o2", "WEB", ln("rice", "FOOD", 10000)), "2026-11-20T04:00:00Z"),
			at(orderEvent("o3", "dave", "o3", "WEB", ln("phone", "PHONES", 70000)), "2026-11-21T04:00:00Z"))
		tags.Wait()
		admin, service := a.token(auth.RoleAdmin, "ops"), a.token(auth.RoleService, "crm")

		var rule struct {
			CreateTagRule struct {
				Rule       *struct{ Key string }
				UserErrors []userError
			}
		}
		a.must(admin, createTagRuleMutation, map[string]any{"input": map[string]any{"key": "big", "name": "Big spenders",
			"condition": map[string]any{"field": "SPEND", "min": 500, "windowMonths": 1}}}, &rule)
		if len(rule.CreateTagRule.UserErrors) > 0 {
			t.Fatalf("createTagRule: %+v", rule.CreateTagRule.UserErrors)
		}
		tags.Wait()
		for _, c := range []struct{ who, token string }{{"alice", admin}, {"carol", service}} {
			var out struct {
				TagMember struct {
					Tag        *struct{ Key, Kind, SetBy, Reason, Source string }
					UserErrors []userError
				}
			}
			a.must(c.token, tagMemberMutation, map[string]any{"input": map[string]any{"externalId": c.who, "tag": "vip", "reason": "key account"}}, &out)
			want := map[string]string{"alice": "ADMIN:ops", "carol": "SERVICE:crm"}[c.who]
			if tg := out.TagMember.Tag; tg == nil || tg.SetBy != want || tg.Kind != "MANUAL" || tg.Source != "MANUAL" || tg.Reason != "key account" {
				t.Errorf("tagMember %s: %+v", c.who, out.TagMember)
			}
		}
		var alice struct {
			Members struct {
				Edges []struct {
					Node struct {
						Tags []struct{ Key, Source, SetBy, Since string }
					}
				}
			}
		}
		a.must(admin, `{ members(first: 1) { edges { node { tags { key source setBy since } } } } }`, nil, &alice)
		got := alice.Members.Edges[0].Node.Tags
		if len(got) != 2 || got[0].Key != "big" || got[0].Source != "RULE" || got[0].SetBy != "RULE:v1" ||
			got[1].Key != "vip" || got[1].SetBy != "ADMIN:ops" || got[1].Since != "2026-11-22T08:00:00Z" {
			t.Errorf("alice's tags: %+v", got)
		}

		tagLeaf := func(k string) map[string]any { return map[string]any{"tag": k} }
		for _, c := range []struct {
			key    string
			filter map[string]any
			want   []string
		}{
			{"big-or-vip", map[string]any{"or": []any{tagLeaf("big"), tagLeaf("vip")}}, []string{"alice", "carol", "dave"}},
			{"big-not-vip", map[string]any{"and": []any{tagLeaf("big"), map[string]any{"not": tagLeaf("vip")}}}, []string{"dave"}},
			{"not-big", map[string]any{"not": tagLeaf("big")}, []string{"bob", "carol"}},
		} {
			var pre struct {
				PreviewSegment struct {
					Count      *int
					UserErrors []userError
				}
			}
			a.must(admin, previewQuery, map[string]any{"filter": c.filter}, &pre)
			var saved struct {
				CreateSegment struct {
					Segment    *struct{ Count int }
					UserErrors []userError
				}
			}
			a.must(admin, createSegmentMutation, map[string]any{"input": map[string]any{"key": c.key, "name": c.key, "filter": c.filter}}, &saved)
			if pre.PreviewSegment.Count == nil || saved.CreateSegment.Segment == nil || *pre.PreviewSegment.Count != len(c.want) ||
				saved.CreateSegment.Segment.Count != len(c.want) {
				t.Errorf("%s: preview %+v, saved %+v, want %d", c.key, pre.PreviewSegment, saved.CreateSegment, len(c.want))
			}
			if got := a.segmentMembers(service, c.key); !slices.Equal(got, c.want) {
				t.Errorf("%s: members %v, want %v", c.key, got, c.want)
			}
		}

		// bob's ¥450 brings November to ¥550: the batch re-tags him once it committed.
		a.record(at(orderEvent("o4", "bob", "o4", "WEB", ln("wok", "HOME", 45000)), "2026-11-22T07:00:00Z"))
		tags.Wait()
		if got := a.segmentMembers(admin, "not-big"); !slices.Equal(got, []string{"carol"}) {
			t.Errorf("after bob's order, not-big: %v, want [carol]", got)
		}
	})
}

// segmentMembers pages through a segment two members at a time.
func (a *api) segmentMembers(token, key string) []string {
	a.t.Helper()
	out := []string{}
	var after any
	for range 10 {
		var page struct {
			Segment struct {
				Members struct {
					Edges []struct {
						Node struct{ ExternalID string }
					}
					PageInfo struct {
						HasNextPage bool
						EndCursor   *string
					}
				}
			}
		}
		a.must(token, segmentQuery, map[string]any{"key": key, "after": after}, &page)
		for _, e := range page.Segment.Members.Edges {
			out = append(out, e.Node.ExternalID)
		}
		if !page.Segment.Members.PageInfo.HasNextPage {
			return out
		}
		after = *page.Segment.Members.PageInfo.EndCursor
	}
	a.t.Fatalf("segment %s: more than 10 pages", key)
	return nil
}

// TestTagRoles: MEMBER, STORE and PARTNER cannot tag or read tags; SERVICE tags but cannot
// change rules or save segments; bad conditions come back as userErrors naming the field.
func TestTagRoles(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _ := tagsAPI(t, db)
		a.register("alice", nil)
		tagOp := `mutation { tagMember(input: {externalId: "alice", tag: "vip", reason: "r"}) { userErrors { code } } }`
		untagOp := `mutation { untagMember(input: {externalId: "alice", tag: "vip", reason: "r"}) { userErrors { code } } }`
		ruleOp := `mutation { createTagRule(input: {key: "k", name: "n", condition: {field: GENDER, values: ["MALE"]}}) { userErrors { code } } }`
		segOp := `mutation { createSegment(input: {key: "s", name: "n", filter: {field: PLUS, flag: true}}) { userErrors { code } } }`
		readOp := `{ tagRules { key } segments { key } }`
		f := "FORBIDDEN"
		a.checkRoles([]string{tagOp, untagOp, ruleOp, segOp, readOp}, map[auth.Role][]string{
			auth.RoleAdmin:   {"", "", "", "", ""},
			auth.RoleService: {"", "", f, f, ""},
			auth.RoleMember:  {f, f, f, f, f},
			auth.RoleStore:   {f, f, f, f, f},
			auth.RolePartner: {f, f, f, f, f},
		})
		admin := a.token(auth.RoleAdmin, "ops")
		for _, c := range []struct {
			cond  map[string]any
			field string
		}{
			{map[string]any{"tag": "vip"}, "input.condition.tag"},
			{map[string]any{"field": "SPEND", "min": 500}, "input.condition.windowMonths"},
			{map[string]any{"field": "AGE", "min": 151}, "input.condition.min"},
			{map[string]any{"and": []any{map[string]any{"field": "TIER", "values": []any{"PLATINUM"}}}}, "input.condition.and.0.values.0"},
			{map[string]any{"field": "GENDER", "values": []any{"MALE"}, "flag": true}, "input.condition.flag"},
		} {
			var out struct {
				CreateTagRule struct{ UserErrors []userError }
			}
			a.must(admin, createTagRuleMutation, map[string]any{"input": map[string]any{"key": "bad", "name": "Bad", "condition": c.cond}}, &out)
			ue := out.CreateTagRule.UserErrors
			if len(ue) != 1 || fmt.Sprint(ue[0].Field) != fmt.Sprint(splitField(c.field)) || ue[0].Code == "" {
				t.Errorf("condition %v: userErrors %+v, want one at %s", c.cond, ue, c.field)
			}
		}
	})
}

func splitField(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

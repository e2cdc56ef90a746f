package graph_test

import (
	"strings"
	"testing"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// TestPagesAfterAnEmptyValue: members ordered by nickname, paged one at a time, when some
// nicknames are "". entgql's cursor dropped the empty value and the next page then went by
// id alone, so after b ("", id 2) and c ("", id 3) the page of zed (id 1) came back empty.
// By hand: ascending by nickname then id, the order is b, c, a.
func TestPagesAfterAnEmptyValue(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("a", map[string]any{"nickname": "zed"})
		a.register("b", nil)
		a.register("c", nil)
		admin := a.token(auth.RoleAdmin, "")
		var seen []string
		var after any
		for range 5 {
			var p struct {
				Members struct {
					Edges    []struct{ Node struct{ ExternalID string } }
					PageInfo struct {
						HasNextPage bool
						EndCursor   *string
					}
				}
			}
			a.must(admin, `query($after: Cursor) { members(first: 1, after: $after, orderBy: {field: NICKNAME}) {
				edges { node { externalId } } pageInfo { hasNextPage endCursor } } }`, map[string]any{"after": after}, &p)
			for _, e := range p.Members.Edges {
				seen = append(seen, e.Node.ExternalID)
			}
			if !p.Members.PageInfo.HasNextPage {
				break
			}
			after = *p.Members.PageInfo.EndCursor
		}
		if got := strings.Join(seen, " "); got != "b c a" {
			t.Errorf("paged by nickname: %s, want b c a", got)
		}
	})
}

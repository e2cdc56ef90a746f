package graph_test

import (
	"testing"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// TestMedalsAPI: a member's 26 medals with progress and benefits, its medal history, the
// programme's catalogue, and the leaders of a category for ADMIN only.
func TestMedalsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		a.register("alice", nil)
		a.register("bob", nil)
		a.record(at(orderEvent("o1", "alice", "o1", "WEB", ln("lipstick", "BEAUTY", 520000)), "2026-10-15T04:00:00Z"),
			at(orderEvent("o2", "bob", "o2", "WEB", ln("cream", "BEAUTY", 60000)), "2026-10-15T04:00:00Z"))
		var v struct {
			Viewer struct {
				Medals []struct {
					Key, Name, Kind string
					Level           int
					Progress        struct {
						Current     int
						NextLevelAt *int
						Unit        string
					}
					Benefits []struct{ Key string }
				}
				MedalHistory struct {
					TotalCount int
					Edges      []struct {
						Node struct {
							MedalKey           string
							FromLevel, ToLevel int
							Reason             string
						}
					}
				}
			}
		}
		a.must(a.token(auth.RoleMember, "alice"), `{ viewer {
			medals { key name kind level progress { current nextLevelAt unit } benefits { key } }
			medalHistory(first: 10) { totalCount edges { node { medalKey fromLevel toLevel reason } } } } }`, nil, &v)
		if len(v.Viewer.Medals) != 26 {
			t.Fatalf("%d medals", len(v.Viewer.Medals))
		}
		for _, m := range v.Viewer.Medals {
			switch m.Key {
			case "BEAUTY":
				if m.Kind != "CATEGORY" || m.Level != 3 || m.Progress.Current != 5200 || *m.Progress.NextLevelAt != 10000 ||
					m.Progress.Unit != "YUAN" || len(m.Benefits) != 1 || m.Benefits[0].Key != "MEDAL_COUPON" {
					t.Errorf("BEAUTY: %+v", m)
				}
			case "ORDERS":
				if m.Kind != "BEHAVIOR" || m.Level != 0 || m.Progress.Current != 1 || *m.Progress.NextLevelAt != 5 || m.Progress.Unit != "COUNT" {
					t.Errorf("ORDERS: %+v", m)
				}
			default:
				if m.Level != 0 || m.Progress.Current != 0 {
					t.Errorf("%s: %+v", m.Key, m)
				}
			}
		}
		if h := v.Viewer.MedalHistory; h.TotalCount != 1 || h.Edges[0].Node.MedalKey != "BEAUTY" || h.Edges[0].Node.ToLevel != 3 {
			t.Fatalf("history = %+v", h)
		}
		var cat struct {
			Program struct {
				Medals []struct {
					Key        string
					Thresholds []int
				}
			}
		}
		a.must(a.token(auth.RoleMember, "alice"), `{ program { medals { key thresholds } } }`, nil, &cat)
		if len(cat.Program.Medals) != 26 || cat.Program.Medals[0].Key != "PHONES" || cat.Program.Medals[0].Thresholds[4] != 20000 {
			t.Fatalf("catalogue = %+v", cat.Program.Medals[:1])
		}
		const leaders = `{ medalLeaders(key: "BEAUTY", first: 10) { totalCount edges { node { level member { externalId } } } } }`
		var l struct {
			MedalLeaders struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						Level  int
						Member struct{ ExternalID string }
					}
				}
			}
		}
		a.must(a.token(auth.RoleAdmin, "ops"), leaders, nil, &l)
		if l.MedalLeaders.TotalCount != 2 || l.MedalLeaders.Edges[0].Node.Member.ExternalID != "alice" || l.MedalLeaders.Edges[1].Node.Level != 1 {
			t.Fatalf("leaders = %+v", l)
		}
		for _, role := range []auth.Role{auth.RoleService, auth.RoleMember, auth.RoleStore, auth.RolePartner} {
			if r := a.do(a.token(role, "alice"), leaders, nil); r.code() != "FORBIDDEN" {
				t.Errorf("medalLeaders as %s: %q", role, r.code())
			}
		}
	})
}

package graph_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// profileQuery is what a front end sends for a member's profile page: the tier, the score,
// the 26 medals with their progress, the balance and PLUS.
const profileQuery = `query Profile($id: String!) {
  member(externalId: $id) {
    externalId
    nickname
    tier { key name level }
    score { settled provisional }
    medals { key name kind level progress { current nextLevelAt unit } }
    points { balance }
    plus { status end daysLeft }
  }
}`

// statementCounter counts every statement the ent client of a database sends, through ent's
// debug driver (the mechanism of events.TestBatchStatementsIndependentOfSize).
type statementCounter struct {
	mu         sync.Mutex
	statements []string
}

// counted is db with a client whose statements c records.
func (c *statementCounter) counted(db *store.DB) *store.DB {
	drv := dialect.DebugWithContext(entsql.OpenDB(db.Dialect, db.SQL), func(_ context.Context, v ...any) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.statements = append(c.statements, fmt.Sprint(v...))
	})
	out := *db
	out.Client = ent.NewClient(ent.Driver(drv))
	return &out
}

func (c *statementCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.statements = nil
}

func (c *statementCounter) taken() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.statements...)
}

// maxProfileStatements is the bound on a profile read: the member, its score row with
// its months' counters, its medal progress, its balance, its PLUS terms.
const maxProfileStatements = 5

// TestMemberProfileStatements: profileQuery costs at most 5 SQL statements, counted over the
// whole request (the token's programme, the member, every field), for a member with an order
// and PLUS and for one with nothing, once the programme's catalogue (programme, tiers, medals,
// benefits) is cached by an earlier query.
func TestMemberProfileStatements(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		var c statementCounter
		a := newAPI(t, c.counted(db))
		a.register("pam", nil)
		a.register("pat", nil)
		a.do(a.token(auth.RoleService, "shop"), recordMutation, map[string]any{"events": []map[string]any{
			at(orderEvent("pam-1", "pam", "O1", "APP", ln("a", "PHONES", 129900), ln("b", "BOOKS", 5800)), a.now())}})
		a.purchasePlus("pam", 14900, "pam-plus")
		a.do(a.token(auth.RoleAdmin, "ops"), `{ program { key } }`, nil) // warms the catalogue
		for _, ext := range []string{"pam", "pat"} {
			c.reset()
			var out struct {
				Member struct {
					Medals []struct{ Key string }
					Points struct{ Balance int }
					Plus   struct{ Status string }
				}
			}
			a.must(a.token(auth.RoleMember, ext), profileQuery, map[string]any{"id": ext}, &out)
			if st := c.taken(); len(st) > maxProfileStatements {
				t.Errorf("%s: %d statements, want at most %d:\n%s", ext, len(st), maxProfileStatements, strings.Join(st, "\n"))
			}
			// pam: ¥1,299 → 129 and ¥58 → 5 points, +10 for the first mobile order of the day;
			// PLUS came after the order, so no bonus. 26 medals: 21 categories, 5 behaviours.
			want := map[string]struct {
				balance int
				status  string
			}{"pam": {144, "ACTIVE"}, "pat": {0, "NONE"}}[ext]
			if len(out.Member.Medals) != 26 || out.Member.Points.Balance != want.balance || out.Member.Plus.Status != want.status {
				t.Errorf("%s: %+v", ext, out.Member)
			}
		}
	})
}

// TestCatalogueCacheInvalidation: the profile's tier comes from the programme's cached
// catalogue, and an admin's change to the tier table is seen by the very next query: the
// cache is dropped when the change commits. A refused change drops nothing it need not.
func TestCatalogueCacheInvalidation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		var c statementCounter
		a := newAPI(t, c.counted(db))
		a.register("pam", nil)
		tok, admin := a.token(auth.RoleMember, "pam"), a.token(auth.RoleAdmin, "ops")
		tierName := func() string {
			var out struct {
				Member struct{ Tier struct{ Name string } }
			}
			a.must(tok, profileQuery, map[string]any{"id": "pam"}, &out)
			return out.Member.Tier.Name
		}
		if n := tierName(); n != "Registered" {
			t.Fatalf("tier %q", n)
		}
		c.reset()
		tierName()
		warm := len(c.taken())
		const update = `mutation($t: [TierRowInput!]!) { updateTierTable(input: {tiers: $t}) { userErrors { field code } } }`
		table := func(entry string, silver int) []map[string]any {
			row := func(key, name string, min int, benefits ...string) map[string]any {
				return map[string]any{"key": key, "name": name, "minScore": min, "benefits": benefits}
			}
			return []map[string]any{row("REGISTERED", entry, 0, "MEMBER_PRICE"), row("BRONZE", "Bronze", 1000, "MEMBER_PRICE"),
				row("SILVER", "Silver", silver, "MEMBER_PRICE", "FLASH_REFUND"), row("GOLD", "Gold", 4500, "VIP_HOTLINE"),
				row("DIAMOND", "Diamond", 7000, "VIP_HOTLINE", "SERVICE_24H")}
		}
		var res struct {
			UpdateTierTable struct{ UserErrors []userError }
		}
		a.must(admin, update, map[string]any{"t": table("Newcomer", 2500)}, &res)
		if len(res.UpdateTierTable.UserErrors) > 0 {
			t.Fatalf("%+v", res.UpdateTierTable.UserErrors)
		}
		if n := tierName(); n != "Newcomer" {
			t.Errorf("after the rename the profile says %q, want Newcomer", n)
		}
		// Silver below Bronze is refused (INVALID_ARGUMENT) and changes nothing.
		a.must(admin, update, map[string]any{"t": table("Refused", 500)}, &res)
		if len(res.UpdateTierTable.UserErrors) == 0 {
			t.Fatal("a non-increasing table was accepted")
		}
		if n := tierName(); n != "Newcomer" {
			t.Errorf("after a refused change the profile says %q", n)
		}
		c.reset()
		tierName()
		if again := len(c.taken()); again != warm {
			t.Errorf("a warm profile read took %d statements, %d before the change: the catalogue is not cached again", again, warm)
		}
	})
}

package graph_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/storetest"
)

// orderQueries read every list of a programme's answer whose order the database could
// choose: catalogues, tiers and their benefits, a member's benefits, medals, history,
// ledger, the member list and the administration lists. Ids are left out: MySQL spends
// auto-increment values on refused inserts, SQLite does not.
var orderQueries = map[string]string{
	"program": `{ program { tiers { key level minScore benefits { key kind } giftBenefits }
		benefits { key kind quota quotaPeriod } medals { key kind thresholds }
		pointsRules { earning { excludedCategories excludedProductTypes excludedOrderTypes excludedPaymentMethods } }
		scoreRules { coefficient { bands { percent } } } } }`,
	"member": `{ member(externalId: "alice") { boundAccounts tier { key benefits { key } } nextTier { key benefits { key } }
		nextTierAdds { key } benefits { benefit { key } used remaining }
		medals { key kind level benefits { key } }
		tierHistory(first: 10) { edges { node { period direction score reason from { key benefits { key } } to { key } } } }
		points { balance entries(first: 50) { edges { node { amount kind funding description } } } } } }`,
	"members": `{ byId: members(first: 10) { edges { node { externalId tier { key } } } }
		sameInstant: members(first: 10, orderBy: {field: REGISTERED_AT, direction: DESC}) { edges { node { externalId } } } }`,
	"leaders": `{ medalLeaders(key: "PHONES", first: 10) { edges { node { level member { externalId } } } } }`,
	"admin": `{ settlements(first: 5) { period status run members tierChanges }
		auditEntries(first: 10) { edges { node { action actor } } }
		simulateTierTable(input: {thresholds: [0, 1000, 2000, 4000, 6000]}) { members tiers { tier { key } current proposed } }
		partners { key } }`,
}

// TestListOrderSameOnEveryDatabase: the same programme on SQLite and on MariaDB answers the
// same queries with the same bytes; every list has an order the query fixes. Tier.benefits
// is also checked against the order its description gives, worked out from the preset.
func TestListOrderSameOnEveryDatabase(t *testing.T) {
	answers := map[string]map[string]string{}
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			a := newAPI(t, storetest.Open(t, b))
			for _, m := range []string{"carol", "alice", "bob", "dave"} {
				a.register(m, map[string]any{"boundAccounts": []string{"WECHAT", "ALIPAY"}})
			}
			// alice: ¥3,000 of phones in October = 3,005, Silver; carol ¥5,000 = 5,005, Gold;
			// bob ¥600 (PHONES medal level 1), dave nothing.
			// One batch a member: a batch applies its members side by side, so rows of one
			// batch (e.g. medal holders, whose ties are ordered by the latest first) may be
			// stored in either order; the databases must be given the same data.
			a.record(at(orderEvent("o1", "alice", "o1", "WEB", ln("phone", "PHONES", 300000)), "2026-10-15T04:00:00Z"))
			a.record(at(orderEvent("o2", "carol", "o2", "APP", ln("tv", "APPLIANCES", 250000), ln("phone", "PHONES", 250000)), "2026-10-16T04:00:00Z"))
			a.record(at(orderEvent("o3", "bob", "o3", "WEB", ln("case", "PHONES", 60000)), "2026-10-17T04:00:00Z"))
			a.adjust("alice", 1500, "adj-1")
			a.settle("2026-11")
			answers[b.Name] = map[string]string{}
			admin := a.token(auth.RoleAdmin, "ops")
			for name, q := range orderQueries {
				r := a.do(admin, q, nil)
				if len(r.Errors) > 0 {
					t.Fatalf("%s: %+v", name, r.Errors)
				}
				raw, _ := json.Marshal(r.Data)
				answers[b.Name][name] = string(raw)
			}

			var out struct {
				Program struct {
					Tiers []struct {
						Key      string
						Benefits []struct{ Key string }
					}
				}
				Member struct {
					NextTierAdds []struct{ Key string }
					Benefits     []struct{ Benefit struct{ Key string } }
				}
			}
			a.must(admin, orderQueries["program"], nil, &out)
			a.must(admin, orderQueries["member"], nil, &out)
			keys := func(n int, at func(int) string) []string {
				out := make([]string, n)
				for i := range out {
					out[i] = at(i)
				}
				return out
			}
			// Kinds PRICE, LOGISTICS, SERVICE, VALUE_ADDED, then keys.
			silver := []string{"BIRTHDAY_COUPON", "MEMBER_PRICE", "TIER_GIFT_PACK", "FREE_SHIPPING_2", "FLASH_REFUND"}
			gold := []string{"BIRTHDAY_COUPON", "MEMBER_PRICE", "TIER_GIFT_PACK", "DOORSTEP_EXCHANGE", "FREE_SHIPPING_5",
				"FLASH_REFUND", "REPLACE_NOT_REPAIR", "VIP_HOTLINE", "POINTS_BOOST"}
			tiers := out.Program.Tiers
			if got := keys(len(tiers[2].Benefits), func(i int) string { return tiers[2].Benefits[i].Key }); !reflect.DeepEqual(got, silver) {
				t.Errorf("Silver's benefits %v, want %v", got, silver)
			}
			if got := keys(len(tiers[3].Benefits), func(i int) string { return tiers[3].Benefits[i].Key }); !reflect.DeepEqual(got, gold) {
				t.Errorf("Gold's benefits %v, want %v", got, gold)
			}
			m := out.Member
			if got := keys(len(m.Benefits), func(i int) string { return m.Benefits[i].Benefit.Key }); !reflect.DeepEqual(got, silver) {
				t.Errorf("alice's benefits %v, want %v", got, silver)
			}
			adds := []string{"DOORSTEP_EXCHANGE", "FREE_SHIPPING_5", "REPLACE_NOT_REPAIR", "VIP_HOTLINE", "POINTS_BOOST"}
			if got := keys(len(m.NextTierAdds), func(i int) string { return m.NextTierAdds[i].Key }); !reflect.DeepEqual(got, adds) {
				t.Errorf("Gold adds %v, want %v", got, adds)
			}
		})
	}
	lite, maria := answers["sqlite"], answers["mysql"]
	if maria == nil {
		t.Skipf("%s is not set: nothing to compare SQLite's answers with", storetest.EnvMySQLDSN)
	}
	for name := range orderQueries {
		if lite[name] != maria[name] {
			t.Errorf("%s differs:\nsqlite: %s\nmysql:  %s", name, lite[name], maria[name])
		}
	}
}

package cond

import (
	"strings"
	"testing"

	"github.com/membergraph/membergraph/internal/usererr"
)

func i64(v int64) *int64 { return &v }

// TestValidate: each fault is refused at the field it is about, with the bound it breaks.
func TestValidate(t *testing.T) {
	yes := true
	deep := Node{Field: Plus, Flag: &yes}
	for range MaxDepth {
		deep = Node{Not: &deep}
	}
	wide := Node{Or: make([]Node, MaxNodes)}
	for i := range wide.Or {
		wide.Or[i] = Node{Field: Plus, Flag: &yes}
	}
	names := Names{Tiers: map[string]bool{"GOLD": true}, Medals: map[string]bool{"REVIEWS": true}, Tags: map[string]bool{"vip": true}}
	for _, c := range []struct {
		name  string
		n     Node
		tags  bool
		field string // "" = valid
	}{
		{"a valid tree", Node{And: []Node{{Field: Spend, Min: i64(500), WindowMonths: 3}, {Not: &Node{Tag: "vip"}}}}, true, ""},
		{"two kinds at once", Node{Tag: "vip", Field: Plus, Flag: &yes}, true, "c"},
		{"nothing set", Node{}, true, "c"},
		{"empty and", Node{And: []Node{}}, true, "c.and"},
		{"a tag in a rule", Node{Tag: "vip"}, false, "c.tag"},
		{"an unknown tag", Node{Tag: "gold"}, true, "c.tag"},
		{"an unknown field", Node{Field: "HEIGHT", Min: i64(1)}, true, "c.field"},
		{"no bound", Node{Field: Age}, true, "c.min"},
		{"age above 150", Node{Field: Age, Max: i64(151)}, true, "c.max"},
		{"share above 100", Node{Field: CategoryShare, Category: "BOOKS", Min: i64(101), WindowMonths: 1}, true, "c.min"},
		{"max below min", Node{Field: Score, Min: i64(10), Max: i64(9)}, true, "c.max"},
		{"no window", Node{Field: Orders, Min: i64(1)}, true, "c.windowMonths"},
		{"window of 25 months", Node{Field: Spend, Min: i64(1), WindowMonths: MaxWindowMonths + 1}, true, "c.windowMonths"},
		{"a window on score", Node{Field: Score, Min: i64(1), WindowMonths: 3}, true, "c.windowMonths"},
		{"no category", Node{Field: CategoryShare, Min: i64(1), WindowMonths: 1}, true, "c.category"},
		{"an unknown medal", Node{Field: MedalLevel, Medal: "SMILES", Min: i64(1)}, true, "c.medal"},
		{"an unknown tier, nested", Node{Or: []Node{{Field: Tier, Values: []string{"GOLD"}}, {Field: Tier, Values: []string{"TIN"}}}}, true, "c.or.1.values.0"},
		{"an unknown gender", Node{Field: Gender, Values: []string{"OTHER"}}, true, "c.values.0"},
		{"a flag on gender", Node{Field: Gender, Values: []string{"MALE"}, Flag: &yes}, true, "c.flag"},
		{"min on PLUS", Node{Field: Plus, Flag: &yes, Min: i64(1)}, true, "c.min"},
		{"no flag", Node{Field: RealName}, true, "c.flag"},
		{"too deep", deep, true, "c" + strings.Repeat(".not", MaxDepth)},
		{"too many nodes", wide, true, "c"},
	} {
		err := Validate(c.n, "c", c.tags, names)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		l, ok := usererr.From(err)
		if !ok || len(l) == 0 || strings.Join(l[0].Field, ".") != c.field {
			t.Errorf("%s: %v, want an error at %s", c.name, err, c.field)
		}
	}
}

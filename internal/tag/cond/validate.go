package cond

import (
	"fmt"
	"slices"

	"github.com/membergraph/membergraph/internal/amount"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Bounds of a condition tree. They keep one evaluation one statement of bounded size.
const (
	MaxDepth        = 8   // nesting of and / or / not
	MaxNodes        = 64  // nodes of a tree, leaves included
	MaxValues       = 32  // values of a GENDER / REGISTRATION_CHANNEL / TIER leaf
	MaxWindowMonths = 24  // the longest RFM window
	MaxAge          = 150 // years
	MaxDays         = 3660
	MaxOrders       = 1_000_000
	MaxLevel        = 5
)

// numeric bounds each numeric field's Min and Max, in the unit the API takes.
var numeric = map[Field][2]int64{
	Age:                {0, MaxAge},
	Score:              {0, amount.MaxBalance},
	Spend:              {0, 2_000_000_000}, // yuan; GraphQL's Int holds it
	Orders:             {0, MaxOrders},
	DaysSinceLastOrder: {0, MaxDays},
	CategoryShare:      {0, 100},
	MedalLevel:         {0, MaxLevel},
}

// choices are the values an enum field takes; TIER's are the programme's tier keys, given
// by the caller.
var choices = map[Field][]string{
	Gender:              {"UNKNOWN", "MALE", "FEMALE"},
	RegistrationChannel: {"APP", "WEB", "MINI_PROGRAM", "STORE"},
}

// Names are what a tree may name that only the programme knows: its tier keys, medal keys
// and tag keys. A nil map skips the check of that kind.
type Names struct {
	Tiers  map[string]bool
	Medals map[string]bool
	Tags   map[string]bool
}

// Validate checks n at field (a dotted path such as "input.condition") against the bounds
// and names; tags says whether tag leaves are allowed (segments, not rules — a rule over
// other tags would make the order of evaluation matter). Every fault is reported, each at
// the field it is about.
func Validate(n Node, field string, tags bool, names Names) error {
	v := validator{tags: tags, names: names}
	v.node(n, field, 1)
	if v.count > MaxNodes {
		v.errs.Add(usererr.InvalidArgument, field, "a condition has at most %d nodes, got %d", MaxNodes, v.count)
	}
	return v.errs.Err()
}

type validator struct {
	tags  bool
	names Names
	count int
	errs  usererr.List
}

func (v *validator) node(n Node, field string, depth int) {
	v.count++
	if v.count > MaxNodes {
		return
	}
	if depth > MaxDepth {
		v.errs.Add(usererr.InvalidArgument, field, "conditions nest at most %d deep", MaxDepth)
		return
	}
	set := 0
	for _, b := range []bool{n.And != nil, n.Or != nil, n.Not != nil, n.Tag != "", n.Field != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		v.errs.Add(usererr.InvalidArgument, field, "a condition sets exactly one of and, or, not, tag, field; got %d", set)
		return
	}
	switch {
	case n.And != nil || n.Or != nil:
		list, name := n.And, "and"
		if n.Or != nil {
			list, name = n.Or, "or"
		}
		if len(list) == 0 {
			v.errs.Add(usererr.InvalidArgument, field+"."+name, "%s needs at least one condition", name)
		}
		for i, c := range list {
			v.node(c, fmt.Sprintf("%s.%s.%d", field, name, i), depth+1)
		}
	case n.Not != nil:
		v.node(*n.Not, field+".not", depth+1)
	case n.Tag != "":
		if !v.tags {
			v.errs.Add(usererr.InvalidArgument, field+".tag", "a tag rule cannot test tags; a segment can")
		} else if v.names.Tags != nil && !v.names.Tags[n.Tag] {
			v.errs.Add(usererr.NotFound, field+".tag", "no tag %q", n.Tag)
		}
	default:
		v.leaf(n, field)
	}
}

func (v *validator) leaf(n Node, field string) {
	if !slices.Contains(Fields, n.Field) {
		v.errs.Add(usererr.InvalidArgument, field+".field", "unknown field %q", n.Field)
		return
	}
	bounds, isNumeric := numeric[n.Field]
	flag := n.Field == RealName || n.Field == Plus
	enum := !isNumeric && !flag
	unused := func(set bool, name string) {
		if set {
			v.errs.Add(usererr.InvalidArgument, field+"."+name, "%s does not apply to %s", name, n.Field)
		}
	}
	unused(!isNumeric && n.Min != nil, "min")
	unused(!isNumeric && n.Max != nil, "max")
	unused(!enum && n.Values != nil, "values")
	unused(!flag && n.Flag != nil, "flag")
	windowed := n.Field == Spend || n.Field == Orders || n.Field == CategoryShare
	unused(!windowed && n.WindowMonths != 0, "windowMonths")
	unused(n.Field != CategoryShare && n.Category != "", "category")
	unused(n.Field != MedalLevel && n.Medal != "", "medal")
	switch {
	case isNumeric:
		if n.Min == nil && n.Max == nil {
			v.errs.Add(usererr.InvalidArgument, field+".min", "%s needs min, max or both", n.Field)
		}
		for _, b := range []struct {
			name string
			p    *int64
		}{{"min", n.Min}, {"max", n.Max}} {
			if name, p := b.name, b.p; p != nil && (*p < bounds[0] || *p > bounds[1]) {
				v.errs.Add(usererr.InvalidArgument, field+"."+name, "%s's %s must be %d to %d, got %d", n.Field, name, bounds[0], bounds[1], *p)
			}
		}
		if n.Min != nil && n.Max != nil && *n.Min > *n.Max {
			v.errs.Add(usererr.InvalidArgument, field+".max", "max %d is below min %d", *n.Max, *n.Min)
		}
	case flag:
		if n.Flag == nil {
			v.errs.Add(usererr.InvalidArgument, field+".flag", "%s needs flag", n.Field)
		}
	default:
		if len(n.Values) == 0 || len(n.Values) > MaxValues {
			v.errs.Add(usererr.InvalidArgument, field+".values", "%s needs 1–%d values, got %d", n.Field, MaxValues, len(n.Values))
		}
		for i, val := range n.Values {
			known := slices.Contains(choices[n.Field], val)
			if n.Field == Tier {
				known = v.names.Tiers == nil || v.names.Tiers[val]
			}
			if !known {
				v.errs.Add(usererr.InvalidArgument, fmt.Sprintf("%s.values.%d", field, i), "%s has no value %q", n.Field, val)
			}
		}
	}
	if windowed && (n.WindowMonths < 1 || n.WindowMonths > MaxWindowMonths) {
		v.errs.Add(usererr.InvalidArgument, field+".windowMonths", "%s needs windowMonths 1–%d, got %d", n.Field, MaxWindowMonths, n.WindowMonths)
	}
	if n.Field == CategoryShare && (n.Category == "" || len(n.Category) > 64) {
		v.errs.Add(usererr.InvalidArgument, field+".category", "CATEGORY_SHARE needs a category of 1–64 characters")
	}
	if n.Field == MedalLevel {
		if n.Medal == "" {
			v.errs.Add(usererr.InvalidArgument, field+".medal", "MEDAL_LEVEL needs a medal key")
		} else if v.names.Medals != nil && !v.names.Medals[n.Medal] {
			v.errs.Add(usererr.NotFound, field+".medal", "no medal %q", n.Medal)
		}
	}
}

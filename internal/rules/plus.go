package rules

import (
	"fmt"
	"regexp"
)

// Plus is the PLUS membership's plans (docs/domain.md §5 "Prices"): what an operator changes
// with updatePlusPlans.
type Plus struct {
	// Plans are the plans on offer, in the order program.plusPlans and plusQuote list them.
	Plans []PlusPlan `json:"plans"`
}

// PlusPlan is one plan. A paid plan runs Months months (the same local date-time that many
// months later, clamped to the month's last day: 29 February → 28 February); the trial runs
// Days days and costs nothing.
type PlusPlan struct {
	// Key names the plan, e.g. ANNUAL; terms record it.
	Key string `json:"key"`
	// Name is the display name.
	Name string `json:"name"`
	// Trial marks the free trial, offered once per member ever; it runs Days days.
	Trial bool `json:"trial,omitempty"`
	// Months is a paid plan's length; 0 for the trial.
	Months int `json:"months,omitempty"`
	// Days is the trial's length; 0 for a paid plan.
	Days int `json:"days,omitempty"`
	// PriceCents is what the plan costs.
	PriceCents int64 `json:"priceCents"`
	// ExclusivePriceCents is the price for members whose settled score is at least
	// ExclusiveMinScore; 0 when the plan has no exclusive price.
	ExclusivePriceCents int64 `json:"exclusivePriceCents,omitempty"`
	ExclusiveMinScore   int64 `json:"exclusiveMinScore,omitempty"`
}

// The preset's plan keys.
const (
	PlusAnnual = "ANNUAL"
	PlusTrial  = "TRIAL"
)

// JDPlus is the preset's plans: annual at ¥149, ¥99 from a settled score of 4,500, and a
// 30-day trial.
func JDPlus() Plus {
	return Plus{Plans: []PlusPlan{
		{Key: PlusAnnual, Name: "PLUS annual", Months: 12, PriceCents: 14900, ExclusivePriceCents: 9900, ExclusiveMinScore: 4500},
		{Key: PlusTrial, Name: "PLUS 30-day trial", Trial: true, Days: 30},
	}}
}

// PlusPlans returns the PLUS plans; a programme stored before PLUS was served gets the
// preset's.
func (r Rules) PlusPlans() Plus {
	if r.Plus.Plans == nil {
		return JDPlus()
	}
	return r.Plus
}

// Plan returns the plan named key.
func (p Plus) Plan(key string) (PlusPlan, bool) {
	for _, pl := range p.Plans {
		if pl.Key == key {
			return pl, true
		}
	}
	return PlusPlan{}, false
}

// TrialPlan returns the trial plan, if the programme offers one.
func (p Plus) TrialPlan() (PlusPlan, bool) {
	for _, pl := range p.Plans {
		if pl.Trial {
			return pl, true
		}
	}
	return PlusPlan{}, false
}

var planKey = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)

// Check reports every value of p that cannot work, each with its path (plans.0.priceCents).
func (p Plus) Check() []Violation {
	var vs []Violation
	add := func(path, format string, args ...any) {
		vs = append(vs, Violation{path, fmt.Sprintf(format, args...)})
	}
	if len(p.Plans) == 0 || len(p.Plans) > 10 {
		add("plans", "there must be 1..10 plans, not %d", len(p.Plans))
	}
	seen, trials := map[string]bool{}, 0
	for i, pl := range p.Plans {
		f := fmt.Sprintf("plans.%d", i)
		switch {
		case !planKey.MatchString(pl.Key):
			add(f+".key", "%q is not a plan key (A-Z, 0-9 and _, at most 32, starting with a letter)", pl.Key)
		case seen[pl.Key]:
			add(f+".key", "%q is listed twice", pl.Key)
		}
		seen[pl.Key] = true
		if n := len([]rune(pl.Name)); n == 0 || n > 64 {
			add(f+".name", "a plan needs a name of 1..64 characters")
		}
		if pl.Trial {
			trials++
			if pl.Days < 1 || pl.Days > 366 {
				add(f+".days", "a trial lasts 1..366 days, not %d", pl.Days)
			}
			if pl.Months != 0 || pl.PriceCents != 0 || pl.ExclusivePriceCents != 0 || pl.ExclusiveMinScore != 0 {
				add(f, "a trial is free and counted in days: no months, price or exclusive price")
			}
			continue
		}
		if pl.Months < 1 || pl.Months > 36 {
			add(f+".months", "a paid plan lasts 1..36 months, not %d", pl.Months)
		}
		if pl.Days != 0 {
			add(f+".days", "a paid plan is counted in months; days are for the trial")
		}
		if pl.PriceCents < 1 || pl.PriceCents > 100_000_000 {
			add(f+".priceCents", "the price must be in 1..100000000 cents, not %d", pl.PriceCents)
		}
		switch {
		case pl.ExclusivePriceCents == 0 && pl.ExclusiveMinScore != 0:
			add(f+".exclusiveMinScore", "a minimum score needs an exclusive price")
		case pl.ExclusivePriceCents < 0 || pl.ExclusivePriceCents >= pl.PriceCents && pl.ExclusivePriceCents != 0:
			add(f+".exclusivePriceCents", "the exclusive price must be below the price (%d), not %d", pl.PriceCents, pl.ExclusivePriceCents)
		case pl.ExclusivePriceCents > 0 && (pl.ExclusiveMinScore < 1 || pl.ExclusiveMinScore > 1_000_000):
			add(f+".exclusiveMinScore", "the exclusive price's minimum score must be in 1..1000000, not %d", pl.ExclusiveMinScore)
		}
	}
	if trials > 1 {
		add("plans", "at most one plan is the trial")
	}
	return vs
}

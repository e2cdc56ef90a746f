package program_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/usererr"
)

func TestPresetIsValid(t *testing.T) {
	if err := program.JDPreset().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRefusesBrokenDefinitions(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*program.Definition)
		field  string
	}{
		"thresholds not increasing": {func(d *program.Definition) { d.Tiers[2].MinScore = d.Tiers[1].MinScore }, "tiers.2.minScore"},
		"first tier above zero":     {func(d *program.Definition) { d.Tiers[0].MinScore = 10 }, "tiers.0.minScore"},
		"no tiers":                  {func(d *program.Definition) { d.Tiers = nil }, "tiers"},
		"duplicate tier key":        {func(d *program.Definition) { d.Tiers[1].Key = d.Tiers[0].Key }, "tiers.1.key"},
		"unknown benefit":           {func(d *program.Definition) { d.Tiers[0].Benefits = []string{"NOPE"} }, "tiers.0.benefits"},
		"duplicate benefit":         {func(d *program.Definition) { d.Benefits[1].Key = d.Benefits[0].Key }, "benefits.1.key"},
		"quota without period":      {func(d *program.Definition) { d.Benefits[0].Quota = 3 }, "benefits.0.quota"},
		"bad time zone":             {func(d *program.Definition) { d.TimeZone = "Mars/Olympus" }, "timeZone"},
		"zero points per yuan":      {func(d *program.Definition) { d.PointsPerYuan = 0 }, "pointsPerYuan"},
		"bad rules":                 {func(d *program.Definition) { d.Rules.Spending.DeductionMaxPercent = 150 }, "rules"},
		"bad key":                   {func(d *program.Definition) { d.Key = "JD Style" }, "key"},
	} {
		d := program.JDPreset()
		tc.change(&d)
		errs, ok := usererr.From(d.Validate())
		if !ok {
			t.Errorf("%s: no user error", name)
			continue
		}
		found := false
		for _, e := range errs {
			found = found || strings.Join(e.Field, ".") == tc.field && e.Code == usererr.InvalidArgument
		}
		if !found {
			t.Errorf("%s: errors %v do not name %s", name, errs, tc.field)
		}
	}
}

// TestEnsurePresetOnce starts several servers' seeding at once on an empty database: the
// programme is created once and every caller succeeds.
func TestEnsurePresetOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := program.NewService(db.Client)
		var wg sync.WaitGroup
		created := make([]bool, 4)
		errs := make([]error, 4)
		for i := range created {
			wg.Go(func() { created[i], errs[i] = svc.EnsurePreset(ctx, program.JDPreset()) })
		}
		wg.Wait()
		n := 0
		for i := range created {
			if errs[i] != nil {
				t.Fatalf("caller %d: %v", i, errs[i])
			}
			if created[i] {
				n++
			}
		}
		sys := auth.SystemContext(ctx, 0)
		programs, _ := db.Client.Program.Query().Count(sys)
		tiers, _ := db.Client.Tier.Query().Count(sys)
		if n != 1 || programs != 1 || tiers != 5 {
			t.Errorf("created by %d callers; %d programmes, %d tiers; want 1, 1, 5", n, programs, tiers)
		}
		if again, err := svc.EnsurePreset(ctx, program.JDPreset()); again || err != nil {
			t.Errorf("EnsurePreset on a seeded database = %v, %v", again, err)
		}
	})
}

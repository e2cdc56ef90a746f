package tag

import (
	"context"
	"fmt"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/medal"
	enttag "github.com/membergraph/membergraph/ent/tag"
	"github.com/membergraph/membergraph/ent/tier"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/tag/cond"
)

// Env loads what a condition of the programme is checked and compiled against: its zone,
// tier, medal and tag keys, as of now. Segments use it too.
func Env(ctx context.Context, client *ent.Client, programID int, now time.Time) (cond.Env, cond.Names, error) {
	sys := auth.SystemContext(ctx, programID)
	prog, err := client.Program.Get(sys, programID)
	if err != nil {
		return cond.Env{}, cond.Names{}, err
	}
	loc, err := points.Location(prog.TimeZone)
	if err != nil {
		return cond.Env{}, cond.Names{}, fmt.Errorf("programme %s: %w", prog.Key, err)
	}
	env := cond.Env{Now: now, Loc: loc, TierID: map[string]int{}, TagID: map[string]int{}}
	names := cond.Names{Tiers: map[string]bool{}, Medals: map[string]bool{}, Tags: map[string]bool{}}
	tiers, err := client.Tier.Query().Where(tier.ProgramID(programID)).Select(tier.FieldID, tier.FieldKey).All(sys)
	if err != nil {
		return cond.Env{}, cond.Names{}, err
	}
	for _, t := range tiers {
		env.TierID[t.Key], names.Tiers[t.Key] = t.ID, true
	}
	medals, err := client.Medal.Query().Where(medal.ProgramID(programID)).Select(medal.FieldKey).All(sys)
	if err != nil {
		return cond.Env{}, cond.Names{}, err
	}
	for _, m := range medals {
		names.Medals[m.Key] = true
	}
	tags, err := client.Tag.Query().Where(enttag.ProgramID(programID)).Select(enttag.FieldID, enttag.FieldKey).All(sys)
	if err != nil {
		return cond.Env{}, cond.Names{}, err
	}
	for _, t := range tags {
		env.TagID[t.Key], names.Tags[t.Key] = t.ID, true
	}
	return env, names, nil
}

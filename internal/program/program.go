// Package program manages member programmes: their definition (rules, tier ladder, benefit
// catalogue), its validation, and the shipped presets. A preset is created through Create,
// the same path an operator's definition takes.
package program

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/benefit"
	entmedal "github.com/membergraph/membergraph/ent/medal"
	"github.com/membergraph/membergraph/ent/program"
	"github.com/membergraph/membergraph/ent/tier"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/usererr"
)

// ErrUnknownProgram is returned for a programme key that does not exist.
var ErrUnknownProgram = errors.New("unknown programme")

// Definition is everything a programme is made of.
type Definition struct {
	Key           string
	Name          string
	TimeZone      string
	PointsPerYuan int64
	Rules         rules.Rules
	Benefits      []BenefitDef
	Tiers         []TierDef // in ladder order, the first at score 0
	Medals        []MedalDef
}

// MedalDef is an entry of the medal catalogue (docs/domain.md §6).
type MedalDef struct {
	Key, Name string
	Kind      entmedal.Kind
	// Thresholds are levels 1–5: yuan spent in the category (CATEGORY, whose key is the
	// category's) or the count (BEHAVIOR), over the last 12 months.
	Thresholds []int64
	// LevelBenefits are, per level, catalogue keys granted once when it is first reached.
	LevelBenefits [][]string
}

// BenefitDef is an entry of the benefit catalogue.
type BenefitDef struct {
	Key, Name, Description string
	Kind                   benefit.Kind
	Quota                  int // claims per QuotaPeriod; 0 = unlimited
	QuotaPeriod            benefit.QuotaPeriod
	// FaceValueCents is a coupon's face value, recorded on each claim; 0 for none.
	FaceValueCents int64
}

// TierDef is a step of the ladder; Benefits and GiftBenefits name catalogue keys. The JSON
// names are the audit log's.
type TierDef struct {
	Key         string   `json:"key"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	MinScore    int64    `json:"minScore"`
	Benefits    []string `json:"benefits"`
	// GiftPoints and GiftBenefits are the upgrade gift: granted the first time in a
	// calendar year a member reaches the tier.
	GiftPoints   int64    `json:"giftPoints"`
	GiftBenefits []string `json:"giftBenefits"`
	// YearlyDeduction is taken from the growth of the tier's members on 1 January when
	// the programme runs cumulative growth.
	YearlyDeduction int64 `json:"yearlyDeduction"`
}

var keyPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)

// Validate reports every mistake of d.
func (d Definition) Validate() error {
	var errs usererr.List
	if !regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`).MatchString(d.Key) {
		errs.Add(usererr.InvalidArgument, "key", "programme key must be 1–32 lower-case letters, digits, _ or -, starting with a letter")
	}
	if d.Name == "" {
		errs.Add(usererr.InvalidArgument, "name", "name is required")
	}
	if err := rules.ValidateTimeZone(d.TimeZone); err != nil {
		errs.Add(usererr.InvalidArgument, "timeZone", "%v", err)
	}
	if d.PointsPerYuan <= 0 {
		errs.Add(usererr.InvalidArgument, "pointsPerYuan", "must be positive")
	}
	if err := d.Rules.Validate(); err != nil {
		errs.Add(usererr.InvalidArgument, "rules", "%v", err)
	}
	benefits := map[string]bool{}
	for i, b := range d.Benefits {
		f := fmt.Sprintf("benefits.%d", i)
		switch {
		case !keyPattern.MatchString(b.Key):
			errs.Add(usererr.InvalidArgument, f+".key", "benefit key %q must be UPPER_SNAKE_CASE", b.Key)
		case benefits[b.Key]:
			errs.Add(usererr.InvalidArgument, f+".key", "benefit key %q is used twice", b.Key)
		}
		benefits[b.Key] = true
		if b.Name == "" {
			errs.Add(usererr.InvalidArgument, f+".name", "name is required")
		}
		if err := benefit.KindValidator(b.Kind); err != nil {
			errs.Add(usererr.InvalidArgument, f+".kind", "unknown kind %q", b.Kind)
		}
		if err := benefit.QuotaPeriodValidator(b.QuotaPeriod); err != nil {
			errs.Add(usererr.InvalidArgument, f+".quotaPeriod", "unknown quota period %q", b.QuotaPeriod)
		}
		if b.Quota < 0 || (b.Quota > 0) != (b.QuotaPeriod != benefit.QuotaPeriodNONE) {
			errs.Add(usererr.InvalidArgument, f+".quota", "a quota needs a period and a period a positive quota")
		}
		if b.FaceValueCents < 0 {
			errs.Add(usererr.InvalidArgument, f+".faceValueCents", "a face value must be ≥ 0")
		}
	}
	for i, k := range d.Rules.PlusBenefits.Benefits {
		if !benefits[k] {
			errs.Add(usererr.InvalidArgument, fmt.Sprintf("rules.plusBenefits.benefits.%d", i), "PLUS benefit %q is not in the catalogue", k)
		}
	}
	ValidateLadder(&errs, "tiers", d.Tiers, benefits)
	validateMedals(&errs, d.Medals, d.Rules, benefits)
	return errs.Err()
}

// MaxGiftPoints bounds a tier's upgrade gift.
const MaxGiftPoints = 1_000_000

// ValidateLadder checks a tier ladder, reporting mistakes under field (e.g. "tiers"): at
// least one tier, the first from score 0, keys unique, names of 1–64 characters, thresholds
// strictly increasing, benefits from the catalogue, gifts and deductions in range.
func ValidateLadder(errs *usererr.List, field string, tiers []TierDef, catalogue map[string]bool) {
	if len(tiers) == 0 {
		errs.Add(usererr.InvalidArgument, field, "a programme needs at least one tier")
		return
	}
	if tiers[0].MinScore != 0 {
		errs.Add(usererr.InvalidArgument, field+".0.minScore", "the first tier must start at score 0, so every member has a tier")
	}
	keys := map[string]bool{}
	for i, t := range tiers {
		f := fmt.Sprintf("%s.%d", field, i)
		if !keyPattern.MatchString(t.Key) || keys[t.Key] {
			errs.Add(usererr.InvalidArgument, f+".key", "tier key %q must be UPPER_SNAKE_CASE and unique", t.Key)
		}
		keys[t.Key] = true
		if t.Name == "" || len(t.Name) > 64 {
			errs.Add(usererr.InvalidArgument, f+".name", "a name of 1–64 characters is required")
		}
		if i > 0 && t.MinScore <= tiers[i-1].MinScore {
			errs.Add(usererr.InvalidArgument, f+".minScore", "thresholds must increase strictly: %d after %d", t.MinScore, tiers[i-1].MinScore)
		}
		for _, b := range t.Benefits {
			if !catalogue[b] {
				errs.Add(usererr.InvalidArgument, f+".benefits", "unknown benefit %q", b)
			}
		}
		for _, b := range t.GiftBenefits {
			if !catalogue[b] {
				errs.Add(usererr.InvalidArgument, f+".giftBenefits", "unknown benefit %q", b)
			}
		}
		if t.GiftPoints < 0 || t.GiftPoints > MaxGiftPoints {
			errs.Add(usererr.InvalidArgument, f+".giftPoints", "giftPoints must be 0–%d", MaxGiftPoints)
		}
		if t.YearlyDeduction < 0 {
			errs.Add(usererr.InvalidArgument, f+".yearlyDeduction", "yearlyDeduction must not be negative")
		}
	}
}

// validateMedals checks the medal catalogue: unique keys; a category medal per existing
// category, a behaviour medal per known count; five strictly increasing positive thresholds;
// benefits from the catalogue.
func validateMedals(errs *usererr.List, medals []MedalDef, r rules.Rules, catalogue map[string]bool) {
	keys := map[string]bool{}
	for i, m := range medals {
		f := fmt.Sprintf("medals.%d", i)
		if keys[m.Key] {
			errs.Add(usererr.InvalidArgument, f+".key", "medal key %q is used twice", m.Key)
		}
		keys[m.Key] = true
		switch m.Kind {
		case entmedal.KindCATEGORY:
			if !r.HasCategory(m.Key) {
				errs.Add(usererr.InvalidArgument, f+".key", "category medal %q names no category", m.Key)
			}
		case entmedal.KindBEHAVIOR:
			if !slices.Contains(medal.Behaviours, m.Key) {
				errs.Add(usererr.InvalidArgument, f+".key", "behaviour medal %q must be one of %v", m.Key, medal.Behaviours)
			}
		default:
			errs.Add(usererr.InvalidArgument, f+".kind", "unknown kind %q", m.Kind)
		}
		if m.Name == "" {
			errs.Add(usererr.InvalidArgument, f+".name", "name is required")
		}
		if len(m.Thresholds) != medal.Levels {
			errs.Add(usererr.InvalidArgument, f+".thresholds", "a medal has %d thresholds", medal.Levels)
		}
		for j, t := range m.Thresholds {
			if t <= 0 || j > 0 && t <= m.Thresholds[j-1] {
				errs.Add(usererr.InvalidArgument, f+".thresholds", "thresholds must be positive and increase strictly")
				break
			}
		}
		if len(m.LevelBenefits) > medal.Levels {
			errs.Add(usererr.InvalidArgument, f+".levelBenefits", "at most %d levels", medal.Levels)
		}
		for _, level := range m.LevelBenefits {
			for _, b := range level {
				if !catalogue[b] {
					errs.Add(usererr.InvalidArgument, f+".levelBenefits", "unknown benefit %q", b)
				}
			}
		}
	}
}

// Service reads and writes programmes.
type Service struct {
	client *ent.Client
	ids    sync.Map // programme key → id; ids never change once created
}

// NewService returns a Service over client.
func NewService(client *ent.Client) *Service { return &Service{client: client} }

// Create validates d and writes the programme, its catalogue and its ladder in one
// transaction. A key that exists already is an ALREADY_EXISTS user error.
func (s *Service) Create(ctx context.Context, d Definition) (*ent.Program, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	var p *ent.Program
	err := store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
		var err error
		p, err = tx.Program.Create().SetKey(d.Key).SetName(d.Name).SetTimeZone(d.TimeZone).
			SetPointsPerYuan(d.PointsPerYuan).SetRules(d.Rules).Save(ctx)
		if ent.IsConstraintError(err) {
			return usererr.New(usererr.AlreadyExists, "key", "programme %q exists already", d.Key)
		}
		if err != nil {
			return err
		}
		// The new programme's rows are written in its own scope, as its operator would.
		ctx := auth.SystemContext(ctx, p.ID)
		ids := map[string]int{}
		for _, b := range d.Benefits {
			row, err := tx.Benefit.Create().SetProgramID(p.ID).SetKey(b.Key).SetName(b.Name).
				SetDescription(b.Description).SetKind(b.Kind).SetQuota(b.Quota).SetQuotaPeriod(b.QuotaPeriod).
				SetFaceValueCents(b.FaceValueCents).Save(ctx)
			if err != nil {
				return err
			}
			ids[b.Key] = row.ID
		}
		for level, t := range d.Tiers {
			c := tx.Tier.Create().SetProgramID(p.ID).SetKey(t.Key).SetName(t.Name).SetDescription(t.Description).
				SetLevel(level).SetMinScore(t.MinScore).SetGiftPoints(t.GiftPoints).SetGiftBenefits(t.GiftBenefits).
				SetYearlyDeduction(t.YearlyDeduction)
			for _, b := range t.Benefits {
				c.AddBenefitIDs(ids[b])
			}
			if _, err := c.Save(ctx); err != nil {
				return err
			}
		}
		for _, m := range d.Medals {
			err := tx.Medal.Create().SetProgramID(p.ID).SetKey(m.Key).SetName(m.Name).SetKind(m.Kind).
				SetThresholds(m.Thresholds).SetLevelBenefits(m.LevelBenefits).Exec(ctx)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// EnsurePreset creates the programme d when the database holds no programme at all, and
// reports whether it did: what the first start on an empty database runs. Several servers
// may start at once; one creates it, the others find it.
func (s *Service) EnsurePreset(ctx context.Context, d Definition) (bool, error) {
	ctx = auth.SystemContext(ctx, 0)
	exists, err := s.client.Program.Query().Exist(ctx)
	if err != nil {
		return false, err
	}
	if exists {
		return false, s.addPlusCatalogue(ctx, d)
	}
	_, err = s.Create(ctx, d)
	if ue, ok := usererr.From(err); ok && ue[0].Code == usererr.AlreadyExists {
		return false, nil
	}
	return err == nil, err
}

// addPlusCatalogue gives the programme d, created before PLUS was served, the catalogue
// entries of d's PLUS benefits it lacks (its rules already fall back to the preset's PLUS
// benefits), so a database from an earlier version lists and claims them. An entry of the
// same key is left as the operator has it; several servers may start at once, and the key's
// unique index lets one of them add it.
func (s *Service) addPlusCatalogue(ctx context.Context, d Definition) error {
	p, err := s.client.Program.Query().Where(program.Key(d.Key)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx = auth.SystemContext(ctx, p.ID)
	keys := p.Rules.PlusBenefitRules().Benefits
	have, err := s.client.Benefit.Query().Where(benefit.ProgramID(p.ID), benefit.KeyIn(keys...)).Select(benefit.FieldKey).Strings(ctx)
	if err != nil {
		return err
	}
	for _, b := range d.Benefits {
		if !slices.Contains(keys, b.Key) || slices.Contains(have, b.Key) {
			continue
		}
		err := s.client.Benefit.Create().SetProgramID(p.ID).SetKey(b.Key).SetName(b.Name).SetDescription(b.Description).
			SetKind(b.Kind).SetQuota(b.Quota).SetQuotaPeriod(b.QuotaPeriod).SetFaceValueCents(b.FaceValueCents).Exec(ctx)
		if err != nil && !ent.IsConstraintError(err) {
			return err
		}
	}
	return nil
}

// IDByKey resolves a programme key, as tokens carry it, to its id.
func (s *Service) IDByKey(ctx context.Context, key string) (int, error) {
	if id, ok := s.ids.Load(key); ok {
		return id.(int), nil
	}
	id, err := s.client.Program.Query().Where(program.Key(key)).OnlyID(auth.SystemContext(ctx, 0))
	if ent.IsNotFound(err) {
		return 0, fmt.Errorf("%w %q", ErrUnknownProgram, key)
	}
	if err != nil {
		return 0, err
	}
	s.ids.Store(key, id)
	return id, nil
}

// Current returns the programme of the viewer in ctx.
func (s *Service) Current(ctx context.Context) (*ent.Program, error) {
	v, _ := auth.FromContext(ctx)
	return s.client.Program.Get(ctx, v.ProgramID)
}

// Tiers returns the ladder of the viewer's programme, lowest first.
func (s *Service) Tiers(ctx context.Context) ([]*ent.Tier, error) {
	return s.client.Tier.Query().Order(ent.Asc(tier.FieldLevel)).All(ctx)
}

// Benefits returns the catalogue of the viewer's programme in store.BenefitOrder.
func (s *Service) Benefits(ctx context.Context) ([]*ent.Benefit, error) {
	return s.client.Benefit.Query().Order(store.BenefitOrder()...).All(ctx)
}

// Package tag keeps the labels members carry (docs/domain.md §8): manual tags, set and
// removed by ADMIN or SERVICE with who, when and why, and automatic tags, which a TagRule's
// condition sets. A rule is evaluated set-based: for one member range, one INSERT adds the
// tag to the members the condition now selects and one DELETE takes it from those it no
// longer selects — whatever the range holds, two statements. The pair is idempotent (a
// member gains the tag once, its since stays), so two workers evaluating the same range at
// once, or an evaluation repeated after a crash, leave the same rows.
package tag

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"golang.org/x/sync/errgroup"

	"github.com/membergraph/membergraph/ent"
	entmember "github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/membertag"
	enttag "github.com/membergraph/membergraph/ent/tag"
	"github.com/membergraph/membergraph/ent/tagrule"
	"github.com/membergraph/membergraph/internal/audit"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/ident"
	"github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/tag/cond"
	"github.com/membergraph/membergraph/internal/usererr"
)

// DailyCheck is how often serve's RunDaily looks for rules not evaluated today.
const DailyCheck = time.Hour

// Bounds of the inputs.
const (
	MaxName   = 100 // characters of a tag's name
	MaxReason = 256 // characters of a manual tag's reason
)

// Config tunes the evaluation. The zero value of a field picks its default.
type Config struct {
	// PartitionSize is how many consecutive member ids one statement pair of a full
	// evaluation spans (default 10,000): small enough for a short transaction-free
	// statement, large enough that a million members take 100 pairs per rule.
	PartitionSize int
	// Workers is how many partitions evaluate at once (default 2).
	Workers int
	// TouchedChunk is how many touched members one statement pair evaluates (default 1,000).
	TouchedChunk int
	// Logger hears the failures of background evaluations (default slog.Default()).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.PartitionSize <= 0 {
		c.PartitionSize = 10_000
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.TouchedChunk <= 0 {
		c.TouchedChunk = 1000
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// The sentinel errors.
var (
	// ErrNotFound: no tag or rule of that key in the viewer's programme.
	ErrNotFound = errors.New("tag not found")
)

// Service sets tags and evaluates tag rules.
type Service struct {
	client  *ent.Client
	clock   clock.Clock
	dialect string
	cfg     Config

	// Background evaluations (touched members, rule changes): bg counts them for Wait;
	// pending collects touched members per programme until the drainer takes them, so a
	// burst of batches costs one evaluation per member, and memory is bounded by the
	// number of distinct members touched meanwhile.
	bg       sync.WaitGroup
	mu       sync.Mutex
	pending  map[int]map[int]bool
	draining bool
}

// NewService returns a Service over client; dialectName is the database's (dialect.MySQL
// or dialect.SQLite), for the one statement that differs.
func NewService(client *ent.Client, clk clock.Clock, dialectName string, cfg Config) *Service {
	return &Service{client: client, clock: clk, dialect: dialectName, cfg: cfg.withDefaults(), pending: map[int]map[int]bool{}}
}

// Tagged is a tag a member carries.
type Tagged struct {
	Key, Name string
	Kind      enttag.Kind
	Since     time.Time
	SetBy     string
	Reason    string
	Source    membertag.Source
}

// Of returns the tags member memberID carries, in key order.
func (s *Service) Of(ctx context.Context, memberID int) ([]Tagged, error) {
	rows, err := s.client.MemberTag.Query().Where(membertag.MemberID(memberID)).WithTag().All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Tagged, len(rows))
	for i, r := range rows {
		out[i] = Tagged{Key: r.Edges.Tag.Key, Name: r.Edges.Tag.Name, Kind: r.Edges.Tag.Kind, Since: r.Since,
			SetBy: r.SetBy, Reason: r.Reason, Source: r.Source}
	}
	slices.SortFunc(out, func(a, b Tagged) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// actor names the viewer as the audit log does.
func actor(v auth.Viewer) string {
	if v.Subject != "" {
		return fmt.Sprintf("%s:%s", v.Role, v.Subject)
	}
	return string(v.Role)
}

func checkName(errs *usererr.List, field, name string, max int, required bool) {
	n := len([]rune(name))
	if (required && strings.TrimSpace(name) == "") || n > max {
		lo := 0
		if required {
			lo = 1
		}
		errs.Add(usererr.InvalidArgument, field, "must have %d–%d characters, got %d", lo, max, n)
	}
}

// trail records a manual tag's change in the audit log as the viewer did it. The log is
// written only for ADMIN (rule.AdminDataPolicy), and SERVICE sets manual tags too: so the
// entry is written as the platform, naming the viewer as its actor, as audit.Record would.
func trail(ctx context.Context, tx *ent.Tx, now time.Time, action string, before, after any) error {
	v, _ := auth.FromContext(ctx)
	b, err := json.Marshal(before)
	if err != nil {
		return err
	}
	a, err := json.Marshal(after)
	if err != nil {
		return err
	}
	return tx.AuditEntry.Create().SetProgramID(v.ProgramID).SetActor(actor(v)).SetAction(action).
		SetBefore(string(b)).SetAfter(string(a)).SetCreatedAt(now).Exec(auth.SystemContext(ctx, v.ProgramID))
}

// TagMember gives member externalID the manual tag key (creating the tag, named name or
// its key, the first time), recording who, when and why. Tagging a member who carries the
// tag already changes nothing and answers the existing tag: a retry is harmless. An AUTO
// tag cannot be set by hand: its rule alone decides.
func (s *Service) TagMember(ctx context.Context, externalID, key, name, reason string) (*Tagged, error) {
	var errs usererr.List
	ident.Check(&errs, "input.externalId", ident.ExternalID, externalID)
	ident.Check(&errs, "input.tag", ident.Ref, key)
	checkName(&errs, "input.name", name, MaxName, false)
	checkName(&errs, "input.reason", reason, MaxReason, true)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	m, err := member.Named(ctx, s.client, externalID)
	if err != nil {
		return nil, err
	}
	v, _ := auth.FromContext(ctx)
	now := s.clock.Now().UTC()
	if name == "" {
		name = key
	}
	var out Tagged
	err = store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
		t, err := tx.Tag.Query().Where(enttag.Key(key)).Only(ctx)
		if ent.IsNotFound(err) {
			t, err = tx.Tag.Create().SetProgramID(v.ProgramID).SetKey(key).SetName(name).SetKind(enttag.KindMANUAL).SetCreatedAt(now).Save(ctx)
		}
		if err != nil {
			return err
		}
		if t.Kind != enttag.KindMANUAL {
			return usererr.New(usererr.FailedPrecondition, "input.tag", "tag %q is set by its rule, not by hand", key)
		}
		mt, err := tx.MemberTag.Query().Where(membertag.MemberID(m.ID), membertag.TagID(t.ID)).Only(ctx)
		if ent.IsNotFound(err) {
			mt, err = tx.MemberTag.Create().SetProgramID(v.ProgramID).SetMemberID(m.ID).SetTagID(t.ID).SetSince(now).
				SetSetBy(actor(v)).SetReason(reason).SetSource(membertag.SourceMANUAL).Save(ctx)
			if err == nil {
				err = trail(ctx, tx, now, "tag.set", nil, map[string]string{"member": externalID, "tag": key, "reason": reason})
			}
		}
		if err != nil {
			return err
		}
		out = Tagged{Key: t.Key, Name: t.Name, Kind: t.Kind, Since: mt.Since, SetBy: mt.SetBy, Reason: mt.Reason, Source: mt.Source}
		return nil
	})
	if ent.IsConstraintError(err) && !retried(ctx) {
		// A racing tagMember of the same tag or member won: once more answers its row.
		return s.TagMember(context.WithValue(ctx, retryKey{}, true), externalID, key, name, reason)
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

type retryKey struct{}

func retried(ctx context.Context) bool { v, _ := ctx.Value(retryKey{}).(bool); return v }

// UntagMember takes the manual tag key from member externalID, the audit log keeping who,
// when and why. A member without the tag is left as it is: a retry is harmless. It reports
// whether the member carried the tag.
func (s *Service) UntagMember(ctx context.Context, externalID, key, reason string) (bool, error) {
	var errs usererr.List
	ident.Check(&errs, "input.externalId", ident.ExternalID, externalID)
	ident.Check(&errs, "input.tag", ident.Ref, key)
	checkName(&errs, "input.reason", reason, MaxReason, true)
	if err := errs.Err(); err != nil {
		return false, err
	}
	m, err := member.Named(ctx, s.client, externalID)
	if err != nil {
		return false, err
	}
	t, err := s.client.Tag.Query().Where(enttag.Key(key)).Only(ctx)
	if ent.IsNotFound(err) {
		return false, usererr.New(usererr.NotFound, "input.tag", "no tag %q", key)
	}
	if err != nil {
		return false, err
	}
	if t.Kind != enttag.KindMANUAL {
		return false, usererr.New(usererr.FailedPrecondition, "input.tag", "tag %q is set by its rule, not by hand", key)
	}
	now := s.clock.Now().UTC()
	removed := false
	err = store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
		n, err := tx.MemberTag.Delete().Where(membertag.MemberID(m.ID), membertag.TagID(t.ID)).Exec(ctx)
		if err != nil || n == 0 {
			return err
		}
		removed = true
		return trail(ctx, tx, now, "tag.remove", map[string]string{"member": externalID, "tag": key},
			map[string]string{"reason": reason})
	})
	return removed, err
}

// Rule is an automatic tag and its condition.
type Rule struct {
	Key, Name   string
	Condition   cond.Node
	Version     int
	UpdatedAt   time.Time
	EvaluatedAt *time.Time
	Members     int
}

// RuleInput creates or changes a rule.
type RuleInput struct {
	Key       string
	Name      *string    // required to create
	Condition *cond.Node // required to create
}

// checkRule adds to errs what is wrong with in's name and condition (both required when
// creating, each optional in an update) and returns the whole list as one error, or nil.
func checkRule(errs usererr.List, in RuleInput, names cond.Names, creating bool) error {
	switch {
	case in.Name != nil:
		checkName(&errs, "input.name", *in.Name, MaxName, true)
	case creating:
		errs.Add(usererr.InvalidArgument, "input.name", "a new rule needs a name")
	}
	switch {
	case in.Condition != nil:
		if err := cond.Validate(*in.Condition, "input.condition", false, names); err != nil {
			l, _ := usererr.From(err)
			errs = append(errs, l...)
		}
	case creating:
		errs.Add(usererr.InvalidArgument, "input.condition", "a new rule needs a condition")
	}
	return errs.Err()
}

// CreateRule creates the AUTO tag key with its rule, audited, and evaluates it for every
// member in the background (Wait waits for it).
func (s *Service) CreateRule(ctx context.Context, in RuleInput) (*Rule, error) {
	v, _ := auth.FromContext(ctx)
	now := s.clock.Now().UTC()
	_, names, err := Env(ctx, s.client, v.ProgramID, now)
	if err != nil {
		return nil, err
	}
	var errs usererr.List
	ident.Check(&errs, "input.key", ident.Ref, in.Key)
	if err := checkRule(errs, in, names, true); err != nil {
		return nil, err
	}
	var r *ent.TagRule
	err = store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
		t, err := tx.Tag.Create().SetProgramID(v.ProgramID).SetKey(in.Key).SetName(*in.Name).SetKind(enttag.KindAUTO).SetCreatedAt(now).Save(ctx)
		if ent.IsConstraintError(err) {
			return usererr.New(usererr.AlreadyExists, "input.key", "a tag %q exists", in.Key)
		}
		if err != nil {
			return err
		}
		r, err = tx.TagRule.Create().SetProgramID(v.ProgramID).SetTagID(t.ID).SetCondition(*in.Condition).
			SetCreatedAt(now).SetUpdatedAt(now).Save(ctx)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, "tagRule.create", nil, map[string]any{"key": in.Key, "name": *in.Name, "condition": *in.Condition})
	})
	if err != nil {
		return nil, err
	}
	s.background(v.ProgramID, r.ID)
	return s.RuleByKey(ctx, in.Key)
}

// UpdateRule changes a rule's name and/or condition, audited with before and after; a new
// condition raises its version and re-evaluates every member in the background.
func (s *Service) UpdateRule(ctx context.Context, in RuleInput) (*Rule, error) {
	v, _ := auth.FromContext(ctx)
	now := s.clock.Now().UTC()
	_, names, err := Env(ctx, s.client, v.ProgramID, now)
	if err != nil {
		return nil, err
	}
	if err := checkRule(nil, in, names, false); err != nil {
		return nil, err
	}
	var r *ent.TagRule
	err = store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
		var err error
		r, err = tx.TagRule.Query().Where(tagrule.HasTagWith(enttag.Key(in.Key))).WithTag().Only(ctx)
		if ent.IsNotFound(err) {
			return usererr.New(usererr.NotFound, "input.key", "no tag rule %q", in.Key)
		}
		if err != nil {
			return err
		}
		before := map[string]any{"name": r.Edges.Tag.Name, "condition": r.Condition, "version": r.Version}
		after := map[string]any{"name": r.Edges.Tag.Name, "condition": r.Condition, "version": r.Version}
		if in.Name != nil {
			if err := tx.Tag.UpdateOneID(r.TagID).SetName(*in.Name).Exec(ctx); err != nil {
				return err
			}
			after["name"] = *in.Name
		}
		if in.Condition != nil {
			if r, err = r.Update().SetCondition(*in.Condition).AddVersion(1).SetUpdatedAt(now).Save(ctx); err != nil {
				return err
			}
			after["condition"], after["version"] = r.Condition, r.Version
		}
		return audit.Record(ctx, tx, now, "tagRule.update", before, after)
	})
	if err != nil {
		return nil, err
	}
	if in.Condition != nil {
		s.background(v.ProgramID, r.ID)
	}
	return s.RuleByKey(ctx, in.Key)
}

// RuleByKey returns the viewer's programme's rule of tag key.
func (s *Service) RuleByKey(ctx context.Context, key string) (*Rule, error) {
	r, err := s.client.TagRule.Query().Where(tagrule.HasTagWith(enttag.Key(key))).WithTag().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.rule(ctx, r)
}

// Rules returns the viewer's programme's rules, in key order.
func (s *Service) Rules(ctx context.Context) ([]*Rule, error) {
	rows, err := s.client.TagRule.Query().WithTag().All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Rule, 0, len(rows))
	for _, r := range rows {
		rule, err := s.rule(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, rule)
	}
	slices.SortFunc(out, func(a, b *Rule) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (s *Service) rule(ctx context.Context, r *ent.TagRule) (*Rule, error) {
	n, err := s.client.MemberTag.Query().Where(membertag.TagID(r.TagID)).Count(ctx)
	if err != nil {
		return nil, err
	}
	return &Rule{Key: r.Edges.Tag.Key, Name: r.Edges.Tag.Name, Condition: r.Condition, Version: r.Version,
		UpdatedAt: r.UpdatedAt, EvaluatedAt: r.EvaluatedAt, Members: n}, nil
}

// background evaluates rule ruleID for everyone, detached from the request that changed it.
func (s *Service) background(programID, ruleID int) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx := auth.SystemContext(context.Background(), programID)
		if err := s.evaluateRules(ctx, programID, []int{ruleID}, nil); err != nil {
			s.cfg.Logger.Error("tag rule evaluation failed", "rule", ruleID, "err", err)
		}
	}()
}

// Wait returns once every background evaluation begun before it has finished.
func (s *Service) Wait() { s.bg.Wait() }

// Touched queues members of programID for evaluation; it returns at once. It is the
// events service's commit listener (events.Service.AddCommitListener(tags.Touched)).
func (s *Service) Touched(_ context.Context, programID int, memberIDs []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.pending[programID]
	if set == nil {
		set = map[int]bool{}
		s.pending[programID] = set
	}
	for _, id := range memberIDs {
		set[id] = true
	}
	if !s.draining {
		s.draining = true
		s.bg.Add(1)
		go s.drain()
	}
}

// drain evaluates the queued members until none are left.
func (s *Service) drain() {
	defer s.bg.Done()
	for {
		s.mu.Lock()
		work := s.pending
		if len(work) == 0 {
			s.draining = false
			s.mu.Unlock()
			return
		}
		s.pending = map[int]map[int]bool{}
		s.mu.Unlock()
		for programID, set := range work {
			ids := make([]int, 0, len(set))
			for id := range set {
				ids = append(ids, id)
			}
			ctx := auth.SystemContext(context.Background(), programID)
			if err := s.EvaluateMembers(ctx, programID, ids); err != nil {
				s.cfg.Logger.Error("tag evaluation of touched members failed", "program", programID, "members", len(ids), "err", err)
			}
		}
	}
}

// EvaluateMembers evaluates every rule of programID for the members memberIDs.
func (s *Service) EvaluateMembers(ctx context.Context, programID int, memberIDs []int) error {
	return s.evaluateRules(ctx, programID, nil, memberIDs)
}

// EvaluateAll evaluates every rule of programID for every member: the daily run, which
// moves the time-based conditions (age, days since the last order, RFM windows).
func (s *Service) EvaluateAll(ctx context.Context, programID int) error {
	return s.evaluateRules(ctx, programID, nil, nil)
}

// EvaluateEverywhere runs EvaluateAll for every programme: the CLI's and serve's daily run.
func (s *Service) EvaluateEverywhere(ctx context.Context) error {
	ids, err := s.client.Program.Query().IDs(auth.SystemContext(ctx, 0))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.EvaluateAll(auth.SystemContext(ctx, id), id); err != nil {
			return err
		}
	}
	return nil
}

// RunDaily evaluates every rule for everyone each time the clock passes into a new UTC
// day, checking every interval: rules whose evaluated_at is of an earlier day run again.
// Several replicas may run it at once: the evaluation is idempotent.
func (s *Service) RunDaily(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.evaluateStale(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("daily tag evaluation failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// evaluateStale re-evaluates the rules not fully evaluated since the start of today (UTC).
func (s *Service) evaluateStale(ctx context.Context) error {
	now := s.clock.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	sys := auth.SystemContext(ctx, 0)
	rules, err := s.client.TagRule.Query().Where(tagrule.Or(tagrule.EvaluatedAtIsNil(), tagrule.EvaluatedAtLT(today))).
		Select(tagrule.FieldID, tagrule.FieldProgramID).All(sys)
	if err != nil {
		return err
	}
	byProgram := map[int][]int{}
	for _, r := range rules {
		byProgram[r.ProgramID] = append(byProgram[r.ProgramID], r.ID)
	}
	for pid, ids := range byProgram {
		if err := s.evaluateRules(auth.SystemContext(ctx, pid), pid, ids, nil); err != nil {
			return err
		}
	}
	return nil
}

// evaluateRules evaluates the rules ruleIDs (nil: all of the programme's) for the members
// memberIDs (nil: everyone, a member range at a time, after which the rule's evaluated_at
// is set).
func (s *Service) evaluateRules(ctx context.Context, programID int, ruleIDs, memberIDs []int) error {
	ctx = auth.SystemContext(ctx, programID)
	q := s.client.TagRule.Query().Where(tagrule.ProgramID(programID)).Order(ent.Asc(tagrule.FieldID))
	if ruleIDs != nil {
		q.Where(tagrule.IDIn(ruleIDs...))
	}
	rules, err := q.All(ctx)
	if err != nil || len(rules) == 0 {
		return err
	}
	now := s.clock.Now()
	env, _, err := Env(ctx, s.client, programID, now)
	if err != nil {
		return err
	}
	if memberIDs != nil {
		for _, r := range rules {
			for lo := 0; lo < len(memberIDs); lo += s.cfg.TouchedChunk {
				if err := s.apply(ctx, programID, r, env, scope{ids: memberIDs[lo:min(lo+s.cfg.TouchedChunk, len(memberIDs))]}); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var span []struct {
		Min int `json:"min"`
		Max int `json:"max"`
	}
	if err := s.client.Member.Query().Where(entmember.ProgramID(programID)).
		Aggregate(ent.Min(entmember.FieldID), ent.Max(entmember.FieldID)).Scan(ctx, &span); err != nil {
		return err
	}
	for _, r := range rules {
		if len(span) == 1 && span[0].Max > 0 {
			g, gctx := errgroup.WithContext(ctx)
			g.SetLimit(s.cfg.Workers)
			for lo := span[0].Min; lo <= span[0].Max; lo += s.cfg.PartitionSize {
				g.Go(func() error { return s.apply(gctx, programID, r, env, scope{lo: lo, hi: lo + s.cfg.PartitionSize}) })
			}
			if err := g.Wait(); err != nil {
				return err
			}
		}
		// Only a run of the version it read marks the rule evaluated: a change meanwhile
		// has its own run coming.
		if err := s.client.TagRule.Update().Where(tagrule.ID(r.ID), tagrule.Version(r.Version)).
			SetEvaluatedAt(now.UTC()).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// scope is the members one statement pair decides: ids, or the id range [lo, hi).
type scope struct {
	ids    []int
	lo, hi int
}

func (sc scope) where(col string) (string, []any) {
	if sc.ids == nil {
		return col + " >= ? AND " + col + " < ?", []any{sc.lo, sc.hi}
	}
	args := make([]any, len(sc.ids))
	for i, id := range sc.ids {
		args[i] = id
	}
	return col + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ") + ")", args
}

// apply brings the rule's tag up to date for the members of sc: two statements, neither
// inside a transaction of any other work. A member newly selected gets the tag with since
// = now; one still selected keeps its row; one no longer selected loses it.
func (s *Service) apply(ctx context.Context, programID int, r *ent.TagRule, env cond.Env, sc scope) error {
	pred, args := cond.Compile(r.Condition, env)
	in, inArgs := sc.where("m.`id`")
	// A member who has the tag already keeps its row (and since): the unique (member_id,
	// tag_id) turns the insert into nothing. Testing for the row in the SELECT instead
	// would read member_tags while inserting into it, which MariaDB answers with a
	// temporary table and a scan of the tag's rows per member.
	conflict := " ON CONFLICT (`member_id`, `tag_id`) DO NOTHING"
	if s.dialect == dialect.MySQL {
		conflict = " ON DUPLICATE KEY UPDATE `since` = `member_tags`.`since`"
	}
	setBy := fmt.Sprintf("RULE:v%d", r.Version)
	q := "INSERT INTO `member_tags` (`program_id`, `member_id`, `tag_id`, `since`, `set_by`, `reason`, `source`)" +
		" SELECT ?, m.`id`, ?, ?, ?, ?, 'RULE' FROM `members` m WHERE m.`program_id` = ? AND " + in + " AND " + pred + conflict
	a := append([]any{programID, r.TagID, env.Now.UTC(), setBy, "the rule's condition holds", programID}, inArgs...)
	a = append(a, args...)
	if _, err := s.client.ExecContext(ctx, q, a...); err != nil {
		return fmt.Errorf("tag rule %d: adding: %w", r.ID, err)
	}
	out, outArgs := sc.where("`member_id`")
	q = "DELETE FROM `member_tags` WHERE `tag_id` = ? AND " + out +
		" AND `member_id` NOT IN (SELECT m.`id` FROM `members` m WHERE m.`program_id` = ? AND " + in + " AND " + pred + ")"
	a = append(append([]any{r.TagID}, outArgs...), programID)
	a = append(append(a, inArgs...), args...)
	if _, err := s.client.ExecContext(ctx, q, a...); err != nil {
		return fmt.Errorf("tag rule %d: removing: %w", r.ID, err)
	}
	return nil
}

// Package segment keeps saved filters over tags and member fields (docs/domain.md §8) and
// answers who is in one: a live count and the members in ascending id order, each one SQL
// statement over the members table (the filter compiled by internal/tag/cond's Joined, its
// tags joined by their unique key rather than tested by EXISTS; see there).
package segment

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/membergraph/membergraph/ent"
	entseg "github.com/membergraph/membergraph/ent/segment"
	"github.com/membergraph/membergraph/internal/audit"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/ident"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/tag"
	"github.com/membergraph/membergraph/internal/tag/cond"
	"github.com/membergraph/membergraph/internal/usererr"
)

// MaxMembersPage is the most member ids one MemberIDs call returns.
const MaxMembersPage = 10_000

// The sentinel errors.
var (
	// ErrNotFound: no segment of that id or key in the viewer's programme.
	ErrNotFound = errors.New("segment not found")
)

// Service keeps and evaluates segments.
type Service struct {
	client *ent.Client
	clock  clock.Clock
}

// NewService returns a Service reading and writing through client.
func NewService(client *ent.Client, clk clock.Clock) *Service {
	return &Service{client: client, clock: clk}
}

// Input is a new segment.
type Input struct {
	Key    string
	Name   string
	Filter cond.Node
}

// Create validates and saves a segment in the viewer's programme, audited.
func (s *Service) Create(ctx context.Context, in Input) (*ent.Segment, error) {
	v, _ := auth.FromContext(ctx)
	now := s.clock.Now().UTC()
	_, names, err := tag.Env(ctx, s.client, v.ProgramID, now)
	if err != nil {
		return nil, err
	}
	var errs usererr.List
	ident.Check(&errs, "input.key", ident.Ref, in.Key)
	if n := len([]rune(strings.TrimSpace(in.Name))); n == 0 || n > 100 || len([]rune(in.Name)) > 100 {
		errs.Add(usererr.InvalidArgument, "input.name", "a name has 1–100 characters")
	}
	if err := cond.Validate(in.Filter, "input.filter", true, names); err != nil {
		l, _ := usererr.From(err)
		errs = append(errs, l...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	var seg *ent.Segment
	err = store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
		seg, err = tx.Segment.Create().SetProgramID(v.ProgramID).SetKey(in.Key).SetName(in.Name).
			SetCondition(in.Filter).SetCreatedAt(now).SetUpdatedAt(now).Save(ctx)
		if ent.IsConstraintError(err) {
			return usererr.New(usererr.AlreadyExists, "input.key", "a segment %q exists", in.Key)
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, "segment.create", nil, in)
	})
	return seg, err
}

// Preview counts the members filter selects now, without saving anything; a segment saved
// with the same filter counts the same.
func (s *Service) Preview(ctx context.Context, filter cond.Node) (int, error) {
	v, _ := auth.FromContext(ctx)
	env, names, err := tag.Env(ctx, s.client, v.ProgramID, s.clock.Now())
	if err != nil {
		return 0, err
	}
	if err := cond.Validate(filter, "filter", true, names); err != nil {
		return 0, err
	}
	return s.count(ctx, v.ProgramID, filter, env)
}

// ByKey returns the viewer's programme's segment of key.
func (s *Service) ByKey(ctx context.Context, key string) (*ent.Segment, error) {
	seg, err := s.client.Segment.Query().Where(entseg.Key(key)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return seg, err
}

// List returns the viewer's programme's segments in key order.
func (s *Service) List(ctx context.Context) ([]*ent.Segment, error) {
	return s.client.Segment.Query().Order(ent.Asc(entseg.FieldKey)).All(ctx)
}

// get reads a segment by id for the viewer (a campaign runner passes a system context).
func (s *Service) get(ctx context.Context, id int) (*ent.Segment, cond.Env, error) {
	seg, err := s.client.Segment.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, cond.Env{}, ErrNotFound
	}
	if err != nil {
		return nil, cond.Env{}, err
	}
	env, _, err := tag.Env(ctx, s.client, seg.ProgramID, s.clock.Now())
	return seg, env, err
}

// Count is how many members segment segmentID holds now.
func (s *Service) Count(ctx context.Context, segmentID int) (int, error) {
	seg, env, err := s.get(ctx, segmentID)
	if err != nil {
		return 0, err
	}
	return s.count(ctx, seg.ProgramID, seg.Condition, env)
}

// MemberIDs returns up to limit (1–MaxMembersPage) ids of the segment's members above
// afterMemberID, ascending: a caller pages through a segment of any size by passing the
// last id it got, and a member who joins or leaves meanwhile moves no other.
func (s *Service) MemberIDs(ctx context.Context, segmentID int, afterMemberID int, limit int) ([]int, error) {
	if limit < 1 || limit > MaxMembersPage {
		return nil, usererr.New(usererr.InvalidArgument, "limit", "limit must be 1–%d, got %d", MaxMembersPage, limit)
	}
	seg, env, err := s.get(ctx, segmentID)
	if err != nil {
		return nil, err
	}
	joins, joinArgs, where, args := cond.Joined(seg.Condition, env)
	rows, err := s.client.QueryContext(ctx, "SELECT m.`id` FROM `members` m"+joins+" WHERE m.`program_id` = ? AND m.`id` > ? AND "+
		where+" ORDER BY m.`id` LIMIT ?", append(append(append(joinArgs, seg.ProgramID, afterMemberID), args...), limit)...)
	if err != nil {
		return nil, fmt.Errorf("segment %d members: %w", segmentID, err)
	}
	defer rows.Close()
	ids := make([]int, 0, limit)
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (s *Service) count(ctx context.Context, programID int, filter cond.Node, env cond.Env) (int, error) {
	joins, joinArgs, where, args := cond.Joined(filter, env)
	var n int
	rows, err := s.client.QueryContext(ctx, "SELECT COUNT(*) FROM `members` m"+joins+" WHERE m.`program_id` = ? AND "+where,
		append(append(joinArgs, programID), args...)...)
	if err != nil {
		return 0, fmt.Errorf("segment count: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		err = rows.Scan(&n)
	}
	if err == nil {
		err = rows.Err()
	}
	return n, err
}

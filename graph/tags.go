package graph

import (
	"context"
	"errors"

	"entgo.io/contrib/entgql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/graph/model"
	"github.com/membergraph/membergraph/internal/tag"
)

// The page sizes of Segment.members.
const (
	segmentPageDefault = 20
	segmentPageMax     = 100
)

func rulePayload(r *tag.Rule, err error) (*model.TagRulePayload, error) {
	ue, err := payloadErrors(err)
	if err != nil || ue != nil {
		return &model.TagRulePayload{UserErrors: ue}, err
	}
	return &model.TagRulePayload{Rule: r, UserErrors: []*model.UserError{}}, nil
}

// segmentMembers pages through a segment by member id: one statement for the ids (one more
// than the page, to learn whether another follows) and one for the members.
func (r *Resolver) segmentMembers(ctx context.Context, seg *ent.Segment, first *int, after *entgql.Cursor[int]) (*model.SegmentMemberConnection, error) {
	n := segmentPageDefault
	if first != nil {
		n = *first
	}
	if n < 1 || n > segmentPageMax {
		return nil, badArgument(ctx, "first", errors.New("first must be 1–100"))
	}
	from := 0
	if after != nil {
		from = after.ID
	}
	ids, err := r.segments.MemberIDs(ctx, seg.ID, from, n+1)
	if err != nil {
		return nil, err
	}
	more := len(ids) > n
	if more {
		ids = ids[:n]
	}
	ms, err := r.client.Member.Query().Where(member.IDIn(ids...)).Order(ent.Asc(member.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	conn := &model.SegmentMemberConnection{Edges: make([]*model.SegmentMemberEdge, len(ms)), PageInfo: &entgql.PageInfo[int]{HasNextPage: more}}
	for i, m := range ms {
		c := entgql.Cursor[int]{ID: m.ID}
		conn.Edges[i] = &model.SegmentMemberEdge{Node: m, Cursor: c}
		if i == 0 {
			conn.PageInfo.StartCursor = &c
		}
		conn.PageInfo.EndCursor = &c
	}
	return conn, nil
}

package plus

import (
	"context"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/plusterm"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/points"
)

// LoadActive reads, in one statement through tx, the terms of memberIDs that end after
// from, and answers Active's question for them from memory: set-based ingestion asks it
// for every order of a batch slice. It implements points.PlusLoader.
func (c *Checker) LoadActive(ctx context.Context, tx *ent.Tx, memberIDs []int, from time.Time) (points.PlusSet, error) {
	v, _ := auth.FromContext(ctx)
	sys := auth.SystemContext(ctx, v.ProgramID)
	terms, err := tx.PlusTerm.Query().Where(plusterm.MemberIDIn(memberIDs...), plusterm.EndAtGT(from.UTC())).
		Select(plusterm.FieldMemberID, plusterm.FieldStartAt, plusterm.FieldEndAt).All(sys)
	if err != nil {
		return nil, err
	}
	byMember := map[int][]*ent.PlusTerm{}
	for _, t := range terms {
		byMember[t.MemberID] = append(byMember[t.MemberID], t)
	}
	return func(memberID int, at time.Time) bool {
		for _, t := range byMember[memberID] {
			if !t.StartAt.After(at) && t.EndAt.After(at) {
				return true
			}
		}
		return false
	}, nil
}

package events

import (
	"context"
	"errors"

	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/event"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/page"
)

// ErrNotAuditor: the audit trail is for the programme's operators and the commerce back
// end. A member reads what its events did (points, score, medals), not the raw reports.
var ErrNotAuditor = errors.New("events: only ADMIN and SERVICE read stored events")

// History is a page of a member's stored events, newest first by when they occurred and,
// among events of one instant, the later stored first. The privacy policy of the event
// rows says the same as the role check here; both hold so that neither a new resolver nor
// a new query can forget it. Two statements at most: the page and, when asked, the count.
func (s *Service) History(ctx context.Context, memberID int, r page.Request) (page.Page[*ent.Event], error) {
	if v, _ := auth.FromContext(ctx); !v.Is(auth.RoleAdmin, auth.RoleService) && !v.System() {
		return page.Page[*ent.Event]{}, ErrNotAuditor
	}
	if err := r.Validate(); err != nil {
		return page.Page[*ent.Event]{}, err
	}
	q := s.client.Event.Query().Where(event.MemberID(memberID))
	var total int
	if r.Total {
		var err error
		if total, err = q.Clone().Count(ctx); err != nil {
			return page.Page[*ent.Event]{}, err
		}
	}
	if k := r.After; k != nil {
		q.Where(event.Or(event.OccurredAtLT(k.At.UTC()), event.And(event.OccurredAt(k.At.UTC()), event.IDLT(k.ID))))
	}
	if k := r.Before; k != nil {
		q.Where(event.Or(event.OccurredAtGT(k.At.UTC()), event.And(event.OccurredAt(k.At.UTC()), event.IDGT(k.ID))))
	}
	dir := sql.OrderDesc()
	if r.Backward() {
		dir = sql.OrderAsc()
	}
	q.Order(event.ByOccurredAt(dir), event.ByID(dir))
	if n := r.Limit(); n > 0 {
		q.Limit(n)
	}
	rows, err := q.All(ctx)
	if err != nil {
		return page.Page[*ent.Event]{}, err
	}
	p := page.Trim(r, rows)
	p.TotalCount = total
	return p, nil
}

package points

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/outboxmessage"
	"github.com/membergraph/membergraph/ent/pointlot"
	"github.com/membergraph/membergraph/ent/program"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/outbox"
)

// Expiring is the change of a points.expiring outbox message: how many of the member's
// points lapse within the notice period, and when the first of them does.
type Expiring struct {
	Points     int64     `json:"points"`
	FirstAt    time.Time `json:"firstAt"`
	WithinDays int       `json:"withinDays"`
}

// NotifyExpiring tells the outbox, once per member and day of the programme's calendar, of
// the points that lapse within days (a points.expiring message per member who has any). The
// run holds the programme row's lock, so replicas running it at once tell each member once:
// the second finds the first's messages of the day.
func (l *Ledger) NotifyExpiring(ctx context.Context, programID, days int) (int, error) {
	ctx = auth.SystemContext(ctx, programID)
	prog, err := l.client.Program.Get(ctx, programID)
	if err != nil {
		return 0, err
	}
	loc, err := Location(prog.TimeZone)
	if err != nil {
		return 0, err
	}
	now := l.clock.Now()
	local := now.In(loc)
	dayStart := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc).UTC()
	told := 0
	err = l.WithTx(ctx, func(tx *ent.Tx) error {
		told = 0
		// UPDATE … SET id = id: a write lock on the programme row on MySQL and the database
		// write lock on SQLite, with one statement for both.
		if err := tx.Program.Update().Where(program.ID(programID)).Modify(func(u *sql.UpdateBuilder) {
			u.Set(program.FieldID, sql.Expr(program.FieldID))
		}).Exec(ctx); err != nil {
			return err
		}
		done, err := tx.OutboxMessage.Query().Where(outboxmessage.ProgramID(programID),
			outboxmessage.EventType(outbox.PointsExpiring), outboxmessage.CreatedAtGTE(dayStart)).
			Select(outboxmessage.FieldMemberID).Ints(ctx)
		if err != nil {
			return err
		}
		lots, err := tx.PointLot.Query().Where(pointlot.ProgramID(programID), pointlot.RemainingGT(0),
			pointlot.ExpiresAtGT(now), pointlot.ExpiresAtLTE(now.AddDate(0, 0, days))).
			Order(ent.Asc(pointlot.FieldMemberID), ent.Asc(pointlot.FieldExpiresAt)).
			Select(pointlot.FieldMemberID, pointlot.FieldRemaining, pointlot.FieldExpiresAt).All(ctx)
		if err != nil {
			return err
		}
		var msgs []outbox.Message
		for _, lot := range lots {
			if slices.Contains(done, lot.MemberID) {
				continue
			}
			if n := len(msgs); n > 0 && msgs[n-1].MemberID == lot.MemberID {
				e := msgs[n-1].Data.(Expiring)
				e.Points += lot.Remaining
				msgs[n-1].Data = e
				continue
			}
			msgs = append(msgs, outbox.Message{ProgramID: programID, MemberID: lot.MemberID, Type: outbox.PointsExpiring,
				Data: Expiring{Points: lot.Remaining, FirstAt: lot.ExpiresAt.UTC(), WithinDays: days}, At: now})
		}
		told = len(msgs)
		return outbox.Write(ctx, tx, msgs)
	})
	return told, err
}

// RunExpiringNotices runs NotifyExpiring for every programme now and then every interval
// until ctx ends; days ≤ 0 turns it off.
func (l *Ledger) RunExpiringNotices(ctx context.Context, interval time.Duration, days int, logger *slog.Logger) {
	if days <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ids, err := l.client.Program.Query().IDs(auth.SystemContext(ctx, 0))
		for _, id := range ids {
			if err != nil {
				break
			}
			var n int
			n, err = l.NotifyExpiring(ctx, id, days)
			if n > 0 {
				logger.Info("points expiring notices", "program", id, "members", n)
			}
		}
		if err != nil && ctx.Err() == nil {
			logger.Error("points expiring notices failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

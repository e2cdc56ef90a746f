package points

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/pointaccount"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/ent/pointlot"
	"github.com/membergraph/membergraph/internal/auth"
)

// ExpireStats reports what an expiry run wrote.
type ExpireStats struct {
	Members int   // members given an EXPIRY entry
	Points  int64 // points written off
}

// expireBatch is how many accounts one pass of Expire looks at.
const expireBatch = 500

// Expire writes EXPIRY entries for every lot of the programme whose expiry has passed, for
// members with ids in [fromMember, toMember) (toMember 0: no upper bound). Balances are
// already right before it runs; it makes the ledger say so. It is idempotent, and several
// workers may run it at once, on the same or on different member ranges: each member is
// written off under its account lock, from what remains at that moment.
func (l *Ledger) Expire(ctx context.Context, programID, fromMember, toMember int) (ExpireStats, error) {
	ctx = auth.SystemContext(ctx, programID)
	var st ExpireStats
	prog, err := l.client.Program.Get(ctx, programID)
	if err != nil {
		return st, err
	}
	next := fromMember
	for {
		// Walk the accounts in member order, then look at those members' lots only: the
		// lots index by member keeps each look-up small however many drained lots the
		// programme has accumulated.
		q := l.client.PointAccount.Query().Where(pointaccount.ProgramID(programID), sql.FieldGTE(pointaccount.FieldMemberID, next))
		if toMember > 0 {
			q.Where(sql.FieldLT(pointaccount.FieldMemberID, toMember))
		}
		batch, err := q.Order(ent.Asc(pointaccount.FieldMemberID)).Limit(expireBatch).Select(pointaccount.FieldMemberID).Ints(ctx)
		if err != nil || len(batch) == 0 {
			return st, err
		}
		next = batch[len(batch)-1] + 1
		due, err := l.client.PointLot.Query().
			Where(pointlot.MemberIDIn(batch...), pointlot.ExpiresAtLTE(l.clock.Now()), pointlot.RemainingGT(0)).
			Unique(true).Select(pointlot.FieldMemberID).Ints(ctx)
		if err != nil {
			return st, err
		}
		slices.Sort(due)
		for _, id := range due {
			n, err := l.expireMember(ctx, prog, id)
			if err != nil {
				return st, fmt.Errorf("expiring member %d: %w", id, err)
			}
			if n > 0 {
				st.Members++
				st.Points += n
			}
		}
	}
}

func (l *Ledger) expireMember(ctx context.Context, prog *ent.Program, memberID int) (int64, error) {
	var written int64
	err := l.WithTx(ctx, func(tx *ent.Tx) error {
		written = 0
		b, err := l.Open(ctx, tx, prog, memberID)
		if err != nil {
			return err
		}
		lots, err := tx.PointLot.Query().
			Where(pointlot.MemberID(memberID), pointlot.ExpiresAtLTE(b.Now), pointlot.RemainingGT(0)).All(ctx)
		if err != nil || len(lots) == 0 {
			return err
		}
		for _, lot := range lots {
			written += lot.Remaining
		}
		e, err := tx.PointEntry.Create().SetProgramID(prog.ID).SetMemberID(memberID).SetAmount(-written).
			SetKind(pointentry.KindEXPIRY).SetFunding(FundPlatform).SetCreatedAt(b.Now).
			SetDescription(fmt.Sprintf("%d points reached their expiry date", written)).Save(ctx)
		if err != nil {
			return err
		}
		b.note(pointentry.KindEXPIRY, FundPlatform, -written)
		for _, lot := range lots {
			if err := b.consume(ctx, lot, e.ID, lot.Remaining); err != nil {
				return err
			}
		}
		return b.move(ctx, -written, 0)
	})
	return written, err
}

// ExpireAll runs Expire for every programme, over all members.
func (l *Ledger) ExpireAll(ctx context.Context) (ExpireStats, error) {
	var total ExpireStats
	ids, err := l.client.Program.Query().IDs(auth.SystemContext(ctx, 0))
	if err != nil {
		return total, err
	}
	for _, id := range ids {
		st, err := l.Expire(ctx, id, 0, 0)
		total.Members += st.Members
		total.Points += st.Points
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// RunExpiry runs ExpireAll now and then every interval until ctx ends, logging what it
// wrote. Every server runs it; concurrent runs are safe.
func (l *Ledger) RunExpiry(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		st, err := l.ExpireAll(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("points expiry failed", "err", err)
		case st.Members > 0:
			logger.Info("points expired", "members", st.Members, "points", st.Points)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

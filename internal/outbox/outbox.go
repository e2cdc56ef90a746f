// Package outbox is the transactional outbox: every change of a member that other systems
// hear of (a points change, a tier reached, a medal level, a PLUS term begun or ended, a
// campaign's result, points about to expire) is written as a message in the transaction that
// makes the change. A change committed is then a message kept, a change rolled back is none,
// and the webhook dispatcher (internal/webhook) and the live updates read the messages from
// the table, whichever replica wrote them.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/privacy"
)

// The message types, the value of a message's "type" and the names a webhook endpoint
// subscribes to. Dotted like the Standard Webhooks examples: the object, then what happened.
const (
	PointsChanged  = "points.changed"  // a ledger entry moved the member's points
	PointsExpiring = "points.expiring" // points lapse within the programme's notice period
	TierChanged    = "tier.changed"    // settlement put the member in another tier
	MedalLevel     = "medal.level"     // a medal reached a new level
	PlusStarted    = "plus.started"    // a PLUS term began
	PlusEnded      = "plus.ended"      // a PLUS term ended (cancelled or lapsed)
	CampaignResult = "campaign.result" // a campaign's action for the member
)

// Types are the message types in the order the API lists them.
var Types = []string{PointsChanged, PointsExpiring, TierChanged, MedalLevel, PlusStarted, PlusEnded, CampaignResult}

// Known reports whether t is a message type.
func Known(t string) bool { return slices.Contains(Types, t) }

// MemberTypes are the types a live update (the memberUpdated subscription) carries.
var MemberTypes = []string{PointsChanged, TierChanged, MedalLevel, PlusStarted, PlusEnded}

// Sequence is a message's number from its row id: ent gives each table its own range of
// 2^32 ids (global ids), so the low 32 bits count the outbox's rows in the order written
// (from 0 on MySQL, whose AUTO_INCREMENT starts at the range's first id, from 1 on SQLite) —
// the number receivers see, within GraphQL's 32-bit Int.
func Sequence(id int) int { return id & (1<<32 - 1) }

// Message is one change to tell. Data is the body's "data": any value encoding/json takes.
type Message struct {
	ProgramID int
	MemberID  int
	Type      string
	Data      any
	At        time.Time // when the change happened, the body's "timestamp"
}

// MaxRows is the most messages one INSERT holds (6 values a row: far below SQLite's 32,766
// and MySQL's 65,535 placeholders); Write splits a longer list.
const MaxRows = 2000

// Write stores msgs in tx, in one multi-row INSERT (per MaxRows); nothing for none. It runs inside the
// caller's transaction, whatever its viewer: the outbox is the platform's, not the caller's,
// so the write passes the privacy rules as the platform does.
func Write(ctx context.Context, tx *ent.Tx, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	bulk := make([]*ent.OutboxMessageCreate, len(msgs))
	for i, m := range msgs {
		if !Known(m.Type) {
			return fmt.Errorf("outbox: unknown message type %q", m.Type)
		}
		raw, err := json.Marshal(m.Data)
		if err != nil {
			return fmt.Errorf("outbox: %s: %w", m.Type, err)
		}
		bulk[i] = tx.OutboxMessage.Create().SetProgramID(m.ProgramID).SetMemberID(m.MemberID).
			SetEventType(m.Type).SetPayload(raw).SetCreatedAt(m.At.UTC())
	}
	ctx = privacy.DecisionContext(ctx, privacy.Allow)
	for part := range slices.Chunk(bulk, MaxRows) {
		if err := tx.OutboxMessage.CreateBulk(part...).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// OnCommit arranges for the messages that more returns, when the transaction commits, to be
// written just before: a service that makes several changes in one transaction (a book of
// points entries) gathers them and writes them in one statement at the end. more is called
// once, at commit.
func OnCommit(tx *ent.Tx, more func() []Message) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			if err := Write(ctx, tx, more()); err != nil {
				// The commit is not reached: the transaction must not stay open.
				_ = tx.Rollback()
				return err
			}
			return next.Commit(ctx, tx)
		})
	})
}

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
	"strings"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/outboxmessage"
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

// insertColumns are the outbox columns Write sets: plain names, quoted alike (not at all) in
// every dialect, so that the statement needs no dialect.
const insertColumns = "INSERT INTO " + outboxmessage.Table + " (" + outboxmessage.FieldProgramID + ", " +
	outboxmessage.FieldMemberID + ", " + outboxmessage.FieldEventType + ", " + outboxmessage.FieldPayload + ", " +
	outboxmessage.FieldCreatedAt + ", " + outboxmessage.FieldFannedOut + ") VALUES "

// Write stores msgs in tx, in one multi-row INSERT (per MaxRows), in order, so that their ids
// (sequences) follow it; nothing for none. It runs inside the caller's transaction, whatever
// its viewer: the outbox is the platform's, not the caller's, so no privacy rule applies.
//
// The INSERT is plain SQL rather than ent's bulk builder: a builder, mutation and hooks per
// message cost more CPU than the database spends storing the row (an ingest batch writes
// about 450 messages; docs/benchmarks.md). What ent would check is checked here: the type is
// one of Types (which also bounds it under the column's 64 characters), the payload is JSON
// encoding/json wrote, and nothing hooks outbox writes.
func Write(ctx context.Context, tx *ent.Tx, msgs []Message) error {
	for part := range slices.Chunk(msgs, MaxRows) {
		var q strings.Builder
		q.Grow(len(insertColumns) + len(part)*len("(?, ?, ?, ?, ?, ?), "))
		q.WriteString(insertColumns)
		args := make([]any, 0, 6*len(part))
		for i, m := range part {
			if !Known(m.Type) {
				return fmt.Errorf("outbox: unknown message type %q", m.Type)
			}
			raw, err := json.Marshal(m.Data)
			if err != nil {
				return fmt.Errorf("outbox: %s: %w", m.Type, err)
			}
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, m.ProgramID, m.MemberID, m.Type, raw, m.At.UTC(), false)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("outbox: %w", err)
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

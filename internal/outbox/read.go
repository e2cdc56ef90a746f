package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/outboxmessage"
	"github.com/membergraph/membergraph/ent/privacy"
)

// Stored is a committed outbox message as a reader of the table sees it: its row id (the
// order written; Sequence gives the number receivers see) and its body.
type Stored struct {
	ID        int
	ProgramID int
	MemberID  int
	Type      string
	Data      json.RawMessage
	At        time.Time
}

// After returns up to limit committed messages with an id above after, of every type and
// programme, in id order. A reader keeping its own position (the Feed, the campaign triggers) pages
// the table with it; ids are taken when a transaction writes, not when it commits, so a
// missing id below the last one returned may still commit later (see FeedConfig.GapWait).
func After(ctx context.Context, client *ent.Client, after, limit int) ([]Stored, error) {
	return Between(ctx, client, after, 0, limit)
}

// Between is After up to the id upTo (no bound when 0): a reader looks again at ids it
// found missing.
func Between(ctx context.Context, client *ent.Client, after, upTo, limit int) ([]Stored, error) {
	ctx = privacy.DecisionContext(ctx, privacy.Allow)
	q := client.OutboxMessage.Query().Where(outboxmessage.IDGT(after))
	if upTo > 0 {
		q.Where(outboxmessage.IDLTE(upTo))
	}
	rows, err := q.Order(ent.Asc(outboxmessage.FieldID)).Limit(limit).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Stored, len(rows))
	for i, m := range rows {
		out[i] = Stored{ID: m.ID, ProgramID: m.ProgramID, MemberID: m.MemberID, Type: m.EventType, Data: m.Payload, At: m.CreatedAt}
	}
	return out, nil
}

// Newest is the id of the newest message written (0 for none): a reader starting now reads
// after it.
func Newest(ctx context.Context, client *ent.Client) (int, error) {
	ctx = privacy.DecisionContext(ctx, privacy.Allow)
	ids, err := client.OutboxMessage.Query().Order(ent.Desc(outboxmessage.FieldID)).Limit(1).IDs(ctx)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ids[0], nil
}

// ReaderName names this process in the leases of the outbox's readers (the webhook
// dispatcher, the campaign triggers): its host, process id and a random suffix, so that two
// processes of one host, or one restarted, never share a lease.
func ReaderName() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%.32s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

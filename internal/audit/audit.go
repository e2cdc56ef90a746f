// Package audit records who changed a programme's configuration, from what to what, in the
// transaction of the change.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/auth"
)

// Record writes an audit entry for action in tx; before and after are stored as JSON.
func Record(ctx context.Context, tx *ent.Tx, now time.Time, action string, before, after any) error {
	v, _ := auth.FromContext(ctx)
	b, err := json.Marshal(before)
	if err != nil {
		return err
	}
	a, err := json.Marshal(after)
	if err != nil {
		return err
	}
	actor := string(v.Role)
	if v.Subject != "" {
		actor = fmt.Sprintf("%s:%s", v.Role, v.Subject)
	}
	return tx.AuditEntry.Create().SetProgramID(v.ProgramID).SetActor(actor).SetAction(action).
		SetBefore(string(b)).SetAfter(string(a)).SetCreatedAt(now).Exec(ctx)
}

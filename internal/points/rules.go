package points

import (
	"context"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/audit"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/usererr"
)

// UpdateRules replaces the viewer's programme's points rules (earning, spending, expiry)
// after checking every value, and audits the change with before and after. A refused input
// changes nothing. Events recorded afterwards earn by the new rules; entries already in the
// ledger keep their amounts and expiry.
func (l *Ledger) UpdateRules(ctx context.Context, p rules.Points) (rules.Points, error) {
	v, _ := auth.FromContext(ctx)
	var out rules.Points
	err := store.WithTx(ctx, l.client, func(tx *ent.Tx) error {
		prog, err := tx.Program.Get(ctx, v.ProgramID)
		if err != nil {
			return err
		}
		var errs usererr.List
		for _, vi := range p.Check(prog.Rules.Categories) {
			errs.Add(usererr.InvalidArgument, "input."+vi.Path, "%s", vi.Message)
		}
		if err := errs.Err(); err != nil {
			return err
		}
		next := prog.Rules.WithPoints(p)
		if err := next.Validate(); err != nil { // Check covers Validate's rules; this keeps them from drifting apart
			return usererr.New(usererr.InvalidArgument, "input", "%v", err)
		}
		if err := tx.Program.UpdateOne(prog).SetRules(next).Exec(ctx); err != nil {
			return err
		}
		out = next.PointsRules()
		return audit.Record(ctx, tx, l.clock.Now(), "updatePointsRules", prog.Rules.PointsRules(), out)
	})
	return out, err
}

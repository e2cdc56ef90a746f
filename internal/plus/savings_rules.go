package plus

import (
	"context"
	"fmt"
	"slices"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	entbenefit "github.com/membergraph/membergraph/ent/benefit"
	"github.com/membergraph/membergraph/internal/audit"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/usererr"
)

// UpdateSavingsRules replaces the PLUS benefits (catalogue keys) and the savings rules of the
// viewer's programme after checking every value, audited with before and after; a refused
// input changes nothing. Claims made before keep the face value recorded on them.
func (s *Service) UpdateSavingsRules(ctx context.Context, p rules.PlusBenefits) (rules.PlusBenefits, error) {
	// Empty, not absent: a programme without PLUS benefits is not one stored before them.
	if p.Benefits == nil {
		p.Benefits = []string{}
	}
	if p.Savings == nil {
		p.Savings = []rules.SavingsRule{}
	}
	v, _ := auth.FromContext(ctx)
	var out rules.PlusBenefits
	err := store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
		q := tx.Program.Query().Where(func(sel *sql.Selector) { sel.Where(sql.EQ(sel.C("id"), v.ProgramID)) })
		if s.ledger.Dialect() == dialect.MySQL {
			q.ForUpdate() // the rules are one JSON document: other rule changes wait rather than overwrite
		}
		prog, err := q.Only(ctx)
		if err != nil {
			return err
		}
		var errs usererr.List
		for _, vi := range p.Check(prog.Rules.Categories) {
			errs.Add(usererr.InvalidArgument, "input."+vi.Path, "%s", vi.Message)
		}
		if len(p.Benefits) > 0 {
			known, err := tx.Benefit.Query().Where(entbenefit.ProgramID(prog.ID), entbenefit.KeyIn(p.Benefits...)).
				Select(entbenefit.FieldKey).Strings(ctx)
			if err != nil {
				return err
			}
			for i, k := range p.Benefits {
				if !slices.Contains(known, k) {
					errs.Add(usererr.NotFound, fmt.Sprintf("input.benefits.%d", i), "no benefit %q in the catalogue", k)
				}
			}
		}
		if err := errs.Err(); err != nil {
			return err
		}
		before := prog.Rules.PlusBenefitRules()
		next := prog.Rules
		next.PlusBenefits = p
		if err := next.Validate(); err != nil {
			return usererr.New(usererr.InvalidArgument, "input", "%v", err)
		}
		if err := tx.Program.UpdateOne(prog).SetRules(next).Exec(ctx); err != nil {
			return err
		}
		out = next.PlusBenefitRules()
		return audit.Record(ctx, tx, s.clock.Now(), "updatePlusSavingsRules", before, out)
	})
	return out, err
}

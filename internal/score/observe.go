package score

import (
	"context"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/score/formula"
)

// Observer hears of each settlement run this process took part in, for operations metrics:
// the settlement as the run left it (nil after an error), how long the call took and its
// error. Refused requests (usererr) are told too; the observer tells them apart.
type Observer interface {
	SettlementRan(st *ent.Settlement, took time.Duration, err error)
}

// SetObserver makes o hear of every settlement run; call it before the service is used.
func (s *Service) SetObserver(o Observer) { s.obs = o }

// settle is settlePeriod, told to the observer: every way into a settlement (Settle,
// Resettle, SettleWithin, the monthly job) passes here.
func (s *Service) settle(ctx context.Context, programID int, period formula.Month, resettle bool) (*ent.Settlement, error) {
	start := time.Now()
	st, err := s.settlePeriod(ctx, programID, period, resettle)
	if s.obs != nil {
		s.obs.SettlementRan(st, time.Since(start), err)
	}
	return st, err
}

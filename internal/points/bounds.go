package points

import (
	"github.com/membergraph/membergraph/internal/amount"
	"github.com/membergraph/membergraph/internal/usererr"
)

// checkBalance refuses a credit that would take an account's ledger sum, or a budget's
// funding, beyond amount.MaxBalance; field names the amount at fault.
func checkBalance(field string, held, credit int64) error {
	if total, err := amount.Add(held, credit); err != nil || total > amount.MaxBalance {
		return usererr.New(usererr.InvalidArgument, field, "%d points more would hold beyond the bound of %d (now %d)", credit, amount.MaxBalance, held)
	}
	return nil
}

// CheckCredit refuses, at field, the grants of one event whose sum would take the wallet's
// ledger sum beyond amount.MaxBalance: the batch path's form of Book.Credit's check, so an
// event is refused whole before anything of it is decided.
func CheckCredit(w *Wallet, grants []Grant, field string) error {
	var sum int64
	for _, g := range grants {
		sum += g.Amount // each within an event's bound (the rules' caps), so no overflow
	}
	if sum == 0 {
		return nil
	}
	return checkBalance(field, w.Total, sum)
}

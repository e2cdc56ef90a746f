package points

// SetBeforeRefusal makes l run f between a refusal's decision and its record.
func SetBeforeRefusal(l *Ledger, f func()) { l.beforeRefusal = f }

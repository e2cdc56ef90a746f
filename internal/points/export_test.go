package points

// SetBeforeRefusal makes l run f between a refusal's decision and its record.
func SetBeforeRefusal(l *Ledger, f func()) { l.beforeRefusal = f }

// SetBeforeGroup makes l run f when a spend becomes its member's leader, before it takes
// the spends waiting behind it.
func SetBeforeGroup(l *Ledger, f func()) { l.spends.beforeGroup = f }

// WaitingSpends is how many spends wait in l's queues, the leaders' own included.
func WaitingSpends(l *Ledger) int {
	l.spends.mu.Lock()
	defer l.spends.mu.Unlock()
	n := 0
	for _, q := range l.spends.queues {
		n += len(q.waiting)
	}
	return n
}

// SetBeforeGroupWrite makes l run f between a spend group's decisions and its writes.
func SetBeforeGroupWrite(l *Ledger, f func()) { l.spends.beforeWrite = f }

package events

// SetBeforeGroup makes every leader of joined slices (join.go) call f before it runs its group.
func SetBeforeGroup(s *Service, f func()) { s.joins.beforeGroup = f }

// Waiting is how many one-member slices wait for a leader, over all members.
func Waiting(s *Service) int {
	s.joins.mu.Lock()
	defer s.joins.mu.Unlock()
	n := 0
	for _, q := range s.joins.queues {
		n += len(q)
	}
	return n
}

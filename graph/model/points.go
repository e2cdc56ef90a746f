package model

import "github.com/membergraph/membergraph/internal/points"

// MemberPoints is a member's points as Member.points resolves them; the balance is read once.
type MemberPoints struct {
	MemberID int
	points.Balance
}

package model

import (
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/plus"
)

// MemberPlus is a member's PLUS membership as Member.plus resolves it: the terms are read
// once, in one statement, and every field answers from them at one instant.
type MemberPlus struct {
	MemberID int
	Terms    []*ent.PlusTerm // newest first
	Now      time.Time
	State    plus.Status
}

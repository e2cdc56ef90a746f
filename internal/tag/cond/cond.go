// Package cond is the condition language of tag rules and segments (docs/domain.md §8): a
// boolean tree (and / or / not) whose leaves test a member's profile, tier, PLUS, score,
// RFM over a window of months, category preference, medal levels or — in a segment — a tag.
// It is pure: Validate checks a tree against its documented bounds, naming the field of
// every fault; Compile turns a valid tree into one SQL predicate over the members table,
// with parameters fixed by the evaluation instant, so a set of members is decided by one
// statement whatever its size.
package cond

// Field is what a leaf tests.
type Field string

// The fields. Numeric ones take Min and/or Max (inclusive); GENDER, REGISTRATION_CHANNEL
// and TIER take Values (any of); REAL_NAME and PLUS take Flag.
const (
	Gender              Field = "GENDER"                // Values: UNKNOWN, MALE, FEMALE
	Age                 Field = "AGE"                   // completed years on the evaluation day, programme zone; no birthday never matches
	RegistrationChannel Field = "REGISTRATION_CHANNEL"  // Values: APP, WEB, MINI_PROGRAM, STORE
	RealName            Field = "REAL_NAME"             // Flag: real name verified
	Tier                Field = "TIER"                  // Values: tier keys
	Plus                Field = "PLUS"                  // Flag: a PLUS term holds at the evaluation instant
	Score               Field = "SCORE"                 // the settled score; 0 before the first settlement
	Spend               Field = "SPEND"                 // yuan paid, less refunds, over WindowMonths
	Orders              Field = "ORDERS"                // completed orders not refunded in full, over WindowMonths
	DaysSinceLastOrder  Field = "DAYS_SINCE_LAST_ORDER" // whole programme-local days since the last completed order; no order never matches
	CategoryShare       Field = "CATEGORY_SHARE"        // percent (0–100) of spend over WindowMonths in Category; no spend never matches
	MedalLevel          Field = "MEDAL_LEVEL"           // the level (0–5) held of Medal
)

// Fields lists every field, in the order the API documents them.
var Fields = []Field{Gender, Age, RegistrationChannel, RealName, Tier, Plus, Score, Spend, Orders, DaysSinceLastOrder, CategoryShare, MedalLevel}

// Node is one node of a condition tree: exactly one of And, Or, Not, Tag or Field is set.
// It is stored as JSON with the rule or segment, so its field names are a storage format.
type Node struct {
	And []Node `json:"and,omitempty"`
	Or  []Node `json:"or,omitempty"`
	Not *Node  `json:"not,omitempty"`
	// Tag matches members holding the tag of this key (segments only).
	Tag string `json:"tag,omitempty"`

	Field  Field    `json:"field,omitempty"`
	Min    *int64   `json:"min,omitempty"`
	Max    *int64   `json:"max,omitempty"`
	Values []string `json:"values,omitempty"`
	Flag   *bool    `json:"flag,omitempty"`
	// WindowMonths is the RFM window of SPEND, ORDERS and CATEGORY_SHARE: the evaluation
	// day's programme-local month and the WindowMonths-1 months before it.
	WindowMonths int    `json:"windowMonths,omitempty"`
	Category     string `json:"category,omitempty"`
	Medal        string `json:"medal,omitempty"`
}

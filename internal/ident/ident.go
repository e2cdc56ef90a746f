// Package ident is the one rule for the identifiers callers send: members' externalIds,
// idempotency keys, order ids and skus. Every service checks them here before looking
// anything up, so an id is refused or accepted alike by every operation and on every
// database: no id has a space, a control character or anything beyond ASCII, so MariaDB's
// PAD SPACE comparison, a trimming driver or a case-folding collation cannot make two
// spellings name one row ("a-victim " and "a-victim").
package ident

import (
	"fmt"

	"github.com/membergraph/membergraph/internal/usererr"
)

// Kind is a kind of identifier: what it is called and what it may hold.
type Kind struct {
	name   string
	max    int    // bytes
	extra  string // allowed besides ASCII letters and digits; "" = every printable ASCII but space
	phrase string // the rule, as the refusal words it
}

// The kinds of identifier.
var (
	// ExternalID is a member's account id on the commerce side (a MEMBER token's subject).
	ExternalID = Kind{"externalId", 64, "_.:@-", "1–64 letters, digits or - _ . : @"}
	// Key is an idempotency key: unique per programme and operation kind.
	Key = Kind{"idempotencyKey", 128, "", "1–128 printable ASCII characters"}
	// Ref is an id of the commerce side's own things: an order id, a sku.
	Ref = Kind{"id", 64, "_.:@/-", "1–64 letters, digits or - _ . : @ /"}
)

// MaxLen is the longest identifier of the kind, in bytes.
func (k Kind) MaxLen() int { return k.max }

// Rule says in words what the kind may hold, for messages and docs.
func (k Kind) Rule() string { return k.phrase }

// Valid reports whether s is an identifier of kind k.
func Valid(k Kind, s string) bool {
	if len(s) == 0 || len(s) > k.max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case k.extra == "" && c > ' ' && c < 0x7f:
		case k.extra != "" && containsByte(k.extra, c):
		default:
			return false
		}
	}
	return true
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// Check adds an INVALID_ARGUMENT naming field to errs when s is not an identifier of kind k.
func Check(errs *usererr.List, field string, k Kind, s string) {
	if !Valid(k, s) {
		errs.Add(usererr.InvalidArgument, field, "%s", Message(k, s))
	}
}

// Err is Check for a single value: nil or the INVALID_ARGUMENT.
func Err(field string, k Kind, s string) error {
	var errs usererr.List
	Check(&errs, field, k, s)
	return errs.Err()
}

// Message is the refusal of s as a k. It does not echo s, which may be anything, of any
// length.
func Message(k Kind, s string) string {
	if s == "" {
		return fmt.Sprintf("%s is required: %s", k.name, k.phrase)
	}
	return fmt.Sprintf("%s must be %s (no spaces)", k.name, k.phrase)
}

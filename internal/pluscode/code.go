// Package pluscode is the PLUS redemption codes of docs/domain.md §5 "Codes": how a code is
// made, read back and checked, how it is kept (only a keyed hash), the redemption rate
// limit, and the service that issues batches and redeems codes into PLUS terms.
package pluscode

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Alphabet is the 31 symbols a code is written in: digits and capitals without the
// look-alikes 0/O and 1/I/L. 31 is prime, which the check character relies on.
const Alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

const (
	base = len(Alphabet)
	// RandomChars is how many symbols of a code are random: 19 × log2(31) ≈ 94 bits, above
	// the 80 the domain asks for (16 symbols would give only 79).
	RandomChars = 19
	// Length is a code's symbols without separators: the random ones and the check.
	Length = RandomChars + 1
	// GroupSize is how many symbols are printed between dashes, for reading aloud.
	GroupSize = 5
	// FormattedLength is a code as printed: four groups of five joined by dashes.
	FormattedLength = Length + Length/GroupSize - 1
)

// Sentinel errors. ErrMalformed and ErrCheck are why a typed code cannot be a code at all;
// both are told apart from a well-formed code that no batch holds.
var (
	// ErrMalformed: not 20 symbols of the alphabet once spaces and dashes are dropped.
	ErrMalformed = errors.New("not a PLUS code")
	// ErrCheck: 20 symbols whose check character does not match: a typo.
	ErrCheck = errors.New("the check character does not match")
	// ErrWeakKey: a code key shorter than KeyBytes.
	ErrWeakKey = fmt.Errorf("a PLUS code key needs at least %d bytes", KeyBytes)
)

var value [256]int8 // symbol → its value, -1 for everything else

func init() {
	for i := range value {
		value[i] = -1
	}
	for i := 0; i < base; i++ {
		value[Alphabet[i]] = int8(i)
		value[strings.ToLower(Alphabet[i : i+1])[0]] = int8(i)
	}
}

// checkValue is the symbol value that makes the weighted sum of all Length symbols, symbol
// i (from 0) weighted i+1, a multiple of 31. Weights 1…20 are distinct and non-zero modulo
// the prime 31, so any one wrong symbol and any swap of two different symbols change the
// sum: every such typo is caught, not just most.
func checkValue(vals []int) int {
	sum := 0
	for i, v := range vals {
		sum += (i + 1) * v
	}
	w := len(vals) + 1 // the check symbol's weight
	// Find c with sum + w·c ≡ 0 (mod 31); w is invertible as 31 is prime and w < 31.
	for c := 0; c < base; c++ {
		if (sum+w*c)%base == 0 {
			return c
		}
	}
	panic("unreachable: the weight is invertible modulo a prime")
}

// Generate returns a new code in canonical form (20 symbols, no separators), its random part
// drawn from r (crypto/rand.Reader outside tests). Bytes are drawn by rejection, so every
// symbol is equally likely.
func Generate(r io.Reader) (string, error) {
	var (
		out  [Length]byte
		vals [RandomChars]int
		buf  [32]byte
	)
	n := 0
	for n < RandomChars {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", fmt.Errorf("reading randomness: %w", err)
		}
		for _, b := range buf {
			// 248 = 8 × 31: bytes at or above it would favour the first symbols.
			if b >= 248 || n == RandomChars {
				continue
			}
			vals[n] = int(b) % base
			out[n] = Alphabet[vals[n]]
			n++
		}
	}
	out[RandomChars] = Alphabet[checkValue(vals[:])]
	return string(out[:]), nil
}

// NewGenerator returns a Generate over crypto/rand.
func NewGenerator() func() (string, error) {
	return func() (string, error) { return Generate(rand.Reader) }
}

// Format prints a canonical code in groups for reading: XXXXX-XXXXX-XXXXX-XXXXX.
func Format(canonical string) string {
	var b strings.Builder
	b.Grow(FormattedLength)
	for i := 0; i < len(canonical); i++ {
		if i > 0 && i%GroupSize == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(canonical[i])
	}
	return b.String()
}

// Parse reads a code as a person typed it, forgiving case, spaces and dashes, and returns it
// in canonical form. ErrMalformed: it cannot be a code; ErrCheck: it has a typo.
func Parse(typed string) (string, error) {
	var (
		out  [Length]byte
		vals [Length]int
	)
	n := 0
	for i := 0; i < len(typed); i++ {
		c := typed[i]
		switch c {
		case ' ', '-', '\t', '\n', '\r':
			continue
		}
		v := value[c]
		if v < 0 || n == Length {
			return "", ErrMalformed
		}
		vals[n] = int(v)
		out[n] = Alphabet[v]
		n++
	}
	if n != Length {
		return "", ErrMalformed
	}
	if checkValue(vals[:RandomChars]) != vals[RandomChars] {
		return "", ErrCheck
	}
	return string(out[:]), nil
}

// KeyBytes is the smallest code key accepted.
const KeyBytes = 32

// Hasher turns canonical codes into what the database keeps: HMAC-SHA256 under the server's
// code key, hex. Without the key a stolen table cannot be checked against guesses.
type Hasher struct{ key []byte }

// NewHasher returns a Hasher over key (≥ KeyBytes).
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) < KeyBytes {
		return nil, ErrWeakKey
	}
	return &Hasher{key: append([]byte(nil), key...)}, nil
}

// DeriveKey is the code key of a server that has no key of its own: derived from its auth
// secret under a label, so neither reveals the other and both live in one secret.
func DeriveKey(authSecret []byte) []byte {
	m := hmac.New(sha256.New, authSecret)
	m.Write([]byte("membergraph plus-code key v1"))
	return []byte(hex.EncodeToString(m.Sum(nil)))
}

// Hash is the stored form of a canonical code.
func (h *Hasher) Hash(canonical string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(canonical))
	return hex.EncodeToString(m.Sum(nil))
}

// EphemeralHasher hashes under a random key of this process: codes it stores redeem only
// through it. For tests and servers assembled without a configured key; serve passes the
// configured one.
func EphemeralHasher() *Hasher {
	key := make([]byte, KeyBytes)
	_, _ = rand.Read(key) // crypto/rand.Read does not fail
	return &Hasher{key: key}
}

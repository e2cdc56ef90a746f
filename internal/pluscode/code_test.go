package pluscode

import (
	"bytes"
	"crypto/rand"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestAlphabetHasNoLookAlikes(t *testing.T) {
	if len(Alphabet) != 31 {
		t.Fatalf("alphabet has %d symbols, want 31 (the check needs a prime)", len(Alphabet))
	}
	for _, c := range "0O1IL" {
		if strings.ContainsRune(Alphabet, c) {
			t.Errorf("alphabet holds the look-alike %q", c)
		}
	}
	if bits := float64(RandomChars) * math.Log2(31); bits < 80 {
		t.Errorf("%d random symbols carry %.1f bits, want ≥ 80", RandomChars, bits)
	}
}

func TestGenerateParseRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		c, err := Generate(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		f := Format(c)
		if len(f) != FormattedLength || strings.Count(f, "-") != 3 {
			t.Fatalf("Format(%s) = %s", c, f)
		}
		for _, typed := range []string{c, f, strings.ToLower(f), " " + strings.ReplaceAll(f, "-", " ") + " ", strings.ReplaceAll(f, "-", "--")} {
			got, err := Parse(typed)
			if err != nil || got != c {
				t.Fatalf("Parse(%q) = %q, %v; want %q", typed, got, err, c)
			}
		}
		if seen[c] {
			t.Fatalf("duplicate code %s", c)
		}
		seen[c] = true
	}
}

// A hand-worked code: the random part 2222222222222222222 is all value 0, so the check is
// value 0, "2"; with a first symbol 3 (value 1, weight 1) the sum is 1 and the check c must
// make 1 + 20c ≡ 0 (mod 31): 20 × 17 = 340 = 10 × 31 + 30, so c = 17, the symbol "K"
// (2…9 are 0…7, then A=8 … H=15, J=16, K=17).
func TestCheckCharacterWorkedByHand(t *testing.T) {
	for code, want := range map[string]error{
		"22222-22222-22222-22222":  nil,
		"32222-22222-22222-2222K":  nil,
		"32222-22222-22222-22222":  ErrCheck,
		"22222-22222-22222-2222K":  ErrCheck,
		"22222-22222-22222-2222":   ErrMalformed, // 19 symbols
		"22222-22222-22222-222222": ErrMalformed,
		"O2222-22222-22222-22222":  ErrMalformed, // a look-alike is not a symbol
		"12222-22222-22222-22222":  ErrMalformed,
		"":                         ErrMalformed,
	} {
		if _, err := Parse(code); !errors.Is(err, want) && !(err == nil && want == nil) {
			t.Errorf("Parse(%s) = %v, want %v", code, err, want)
		}
	}
}

// Every single wrong symbol and every swap of two different symbols is caught.
func TestCheckCatchesEverySubstitutionAndSwap(t *testing.T) {
	c, _ := Generate(rand.Reader)
	for i := 0; i < Length; i++ {
		for _, s := range []byte(Alphabet) {
			if s == c[i] {
				continue
			}
			b := []byte(c)
			b[i] = s
			if _, err := Parse(string(b)); !errors.Is(err, ErrCheck) {
				t.Fatalf("substitution at %d (%s): %v", i, b, err)
			}
		}
		for j := i + 1; j < Length; j++ {
			if c[i] == c[j] {
				continue
			}
			b := []byte(c)
			b[i], b[j] = b[j], b[i]
			if _, err := Parse(string(b)); !errors.Is(err, ErrCheck) {
				t.Fatalf("swap %d,%d (%s): %v", i, j, b, err)
			}
		}
	}
}

// Rejection sampling: a byte at or above 248 is skipped, not folded onto the first symbols.
func TestGenerateSkipsBiasedBytes(t *testing.T) {
	src := append(bytes.Repeat([]byte{255}, 5), bytes.Repeat([]byte{31 + 1}, 64)...) // 32 % 31 = 1 → "3"
	c, err := Generate(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if c[:RandomChars] != strings.Repeat("3", RandomChars) {
		t.Fatalf("Generate = %s", c)
	}
	if _, err := Parse(c); err != nil {
		t.Fatal(err)
	}
}

func TestHasherIsKeyed(t *testing.T) {
	if _, err := NewHasher([]byte("short")); !errors.Is(err, ErrWeakKey) {
		t.Fatalf("short key: %v", err)
	}
	a, _ := NewHasher(bytes.Repeat([]byte("a"), 32))
	b, _ := NewHasher(bytes.Repeat([]byte("b"), 32))
	code := "22222222222222222222"
	if a.Hash(code) == b.Hash(code) || len(a.Hash(code)) != 64 || strings.Contains(a.Hash(code), code) {
		t.Fatalf("hashes %s %s", a.Hash(code), b.Hash(code))
	}
	if a.Hash(code) != a.Hash(code) {
		t.Fatal("hash is not deterministic")
	}
	if bytes.Equal(DeriveKey([]byte("s1")), DeriveKey([]byte("s2"))) || len(DeriveKey([]byte("s1"))) < KeyBytes {
		t.Fatal("derived keys")
	}
}

func TestRateLimit(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	at := func(mins ...int) []time.Time { // newest first
		var ts []time.Time
		for _, m := range mins {
			ts = append(ts, t0.Add(time.Duration(m)*time.Minute))
		}
		return ts
	}
	l := DefaultLimit
	cases := []struct {
		name string
		fail []time.Time
		now  time.Time
		want time.Time
	}{
		{"four failures", at(40, 30, 20, 10), t0.Add(41 * time.Minute), time.Time{}},
		{"five in 40 minutes", at(40, 30, 20, 10, 0), t0.Add(41 * time.Minute), t0.Add(100 * time.Minute)},
		{"locked until the hour after the fifth", at(40, 30, 20, 10, 0), t0.Add(99 * time.Minute), t0.Add(100 * time.Minute)},
		{"free at the hour", at(40, 30, 20, 10, 0), t0.Add(100 * time.Minute), time.Time{}},
		{"five spread over 60 minutes", at(60, 30, 20, 10, 0), t0.Add(61 * time.Minute), time.Time{}},
	}
	for _, c := range cases {
		if got := l.LockedUntil(c.fail, c.now); !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

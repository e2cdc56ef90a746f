package ident

import (
	"strings"
	"testing"
)

func TestOneRuleForIDs(t *testing.T) {
	for _, c := range []struct {
		kind Kind
		s    string
		ok   bool
	}{
		{ExternalID, "a-victim", true},
		{ExternalID, "a-victim ", false}, // MariaDB PAD SPACE would match "a-victim"
		{ExternalID, " a-victim", false},
		{ExternalID, "a\tvictim", false},
		{ExternalID, "", false},
		{ExternalID, strings.Repeat("a", 64), true},
		{ExternalID, strings.Repeat("a", 65), false},
		{ExternalID, "ä", false},
		{ExternalID, "user@example.com", true},
		{ExternalID, "a/b", false},
		{Key, "key with space", false},
		{Key, "k ", false},
		{Key, `k!"#$%&'()*+,-./~`, true},
		{Key, strings.Repeat("k", 128), true},
		{Key, strings.Repeat("k", 129), false},
		{Key, "k\x00", false},
		{Ref, "SKU/1", true},
		{Ref, "O-1 ", false},
	} {
		if got := Valid(c.kind, c.s); got != c.ok {
			t.Errorf("Valid(%s, %q) = %v, want %v", c.kind.name, c.s, got, c.ok)
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, s := range []string{"a-victim", "a-victim ", "", "k\x00", "ü", strings.Repeat("x", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range []Kind{ExternalID, Key, Ref} {
			if !Valid(k, s) {
				continue
			}
			if len(s) == 0 || len(s) > k.max || strings.TrimSpace(s) != s || strings.ContainsAny(s, " \t\r\n\x00") {
				t.Fatalf("%s accepted %q", k.name, s)
			}
			for _, r := range s {
				if r < 0x21 || r > 0x7e {
					t.Fatalf("%s accepted %q with %U", k.name, s, r)
				}
			}
		}
	})
}

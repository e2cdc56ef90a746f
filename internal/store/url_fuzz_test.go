package store_test

import (
	"strings"
	"testing"

	"github.com/membergraph/membergraph/internal/store"
)

// otherPassword is pw with every ASCII letter and digit replaced by another of its kind, the
// punctuation kept: a URL that parses the same way, with another password.
func otherPassword(pw string) string {
	b := []byte(pw)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = 'a' + (c-'a'+1)%26
		case c >= 'A' && c <= 'Z':
			b[i] = 'A' + (c-'A'+1)%26
		case c >= '0' && c <= '9':
			b[i] = '0' + (c-'0'+1)%10
		}
	}
	return string(b)
}

// FuzzDatabaseURL: ParseURL and Redact never panic on any MEMBERGRAPH_DATABASE_URL, and what
// they say (the error, the redacted form) does not depend on the password: two URLs that
// differ only in the password's letters and digits read the same. SQLite URLs have no
// password; their path is shown as given.
func FuzzDatabaseURL(f *testing.F) {
	f.Add("mysql", "app", "s3cret-pw", "tcp(db:3306)/mg")
	f.Add("mysql", "app", "s3cret-pw", "tcp(db:3306)/mg?tls=maybe")
	f.Add("mysql", "app", "pa/ss", "tcp(db:3306)")
	f.Add("mysql", "app", "pa@ss", "tcp(db:3306)/")
	f.Add("mysql", "app", "pw", "db:3306/mg")
	f.Add("mysql", "app", "pw(x", "tcp(db:3306/mg")
	f.Add("postgres", "u", "secret", "db/x")
	f.Add("sqlite", "", "", "data/mg.db")
	f.Add("", "u", "pw", "")
	f.Fuzz(func(t *testing.T, scheme, user, pw, rest string) {
		url := func(pw string) string { return scheme + "://" + user + ":" + pw + "@" + rest }
		raw, raw2 := url(pw), url(otherPassword(pw))
		if eff, _, _ := strings.Cut(raw, "://"); eff == "sqlite" || eff == "sqlite3" || eff == "file" {
			_, _ = store.ParseURL(raw)
			_ = store.Redact(raw)
			return
		}
		t1, err1 := store.ParseURL(raw)
		t2, err2 := store.ParseURL(raw2)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%q and %q, which differ only in the password, parse differently: %v, %v", raw, raw2, err1, err2)
		}
		if err1 != nil && err1.Error() != err2.Error() {
			t.Fatalf("the error shows the password:\n%s\n%s", err1, err2)
		}
		if t1.Redacted != t2.Redacted {
			t.Fatalf("the redacted URL shows the password:\n%s\n%s", t1.Redacted, t2.Redacted)
		}
		if r1, r2 := store.Redact(raw), store.Redact(raw2); r1 != r2 {
			t.Fatalf("Redact shows the password:\n%s\n%s", r1, r2)
		}
	})
}

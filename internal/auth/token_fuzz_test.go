package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	fuzzSecret = []byte("fuzz-secret-fuzz-secret-fuzz-secret!")
	fuzzNow    = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
)

func fuzzSigner(t *testing.T) *Signer {
	s, err := NewSigner(fuzzSecret, func() time.Time { return fuzzNow })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signedBySecret is the test's own reading of "signed by the secret": three segments whose
// third is HMAC-SHA256 of the first two under fuzzSecret.
func signedBySecret(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, fuzzSecret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	return hmac.Equal(sig, mac.Sum(nil))
}

// FuzzVerifyToken: Verify never panics on any string sent as a bearer token, and accepts
// only tokens signed with the server's secret.
func FuzzVerifyToken(f *testing.F) {
	s, _ := NewSigner(fuzzSecret, func() time.Time { return fuzzNow })
	other, _ := NewSigner([]byte("another-secret-another-secret-another!"), func() time.Time { return fuzzNow })
	for _, req := range []TokenRequest{{Role: RoleAdmin, TTL: time.Hour}, {Role: RoleMember, Subject: "alice", TTL: time.Hour}} {
		tok, _ := s.Issue(req)
		f.Add(tok)
		tok, _ = other.Issue(req)
		f.Add(tok)
	}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": Issuer, "role": "ADMIN"}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	f.Add(none)
	f.Add("")
	f.Add("..")
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := fuzzSigner(t).Verify(token)
		if err == nil && !signedBySecret(token) {
			t.Fatalf("accepted a token not signed by the secret: %q → %+v", token, c)
		}
		if err == nil && c == nil {
			t.Fatal("no error and no claims")
		}
	})
}

// FuzzVerifySignedClaims: a header and claims of any content, signed with the secret (as a
// holder of the secret, or a bug in Issue, might make them), are accepted only when they keep
// the token rules: HS256, the issuer, a known role, a subject where the role needs one, an
// expiry ahead of the clock, an issue time not ahead of it, a lifetime within the maximum.
func FuzzVerifySignedClaims(f *testing.F) {
	f.Add(`{"alg":"HS256","typ":"JWT"}`, `{"role":"ADMIN","iss":"membergraph","iat":1796292000,"exp":1796295600}`)
	f.Add(`{"alg":"HS256"}`, `{"role":"MEMBER","sub":"alice","iss":"membergraph","iat":1796292000,"exp":1796295600}`)
	f.Add(`{"alg":"HS256"}`, `{"role":"MEMBER","iss":"membergraph","iat":1796292000,"exp":1796295600}`)
	f.Add(`{"alg":"none"}`, `{"role":"ADMIN","iss":"membergraph","iat":1796292000,"exp":1796295600}`)
	f.Add(`{"alg":"HS256"}`, `{"role":"ADMIN","iss":"membergraph","iat":1796292000,"exp":1.8e18}`)
	f.Add(`{"alg":"HS256"}`, `{"role":"ADMIN","iss":"membergraph","iat":"x","exp":[]}`)
	f.Fuzz(func(t *testing.T, header, claims string) {
		enc := base64.RawURLEncoding
		unsigned := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
		mac := hmac.New(sha256.New, fuzzSecret)
		mac.Write([]byte(unsigned))
		token := unsigned + "." + enc.EncodeToString(mac.Sum(nil))
		s := fuzzSigner(t)
		c, err := s.Verify(token)
		if err != nil {
			return
		}
		switch {
		case c.Issuer != Issuer:
			t.Fatalf("accepted issuer %q", c.Issuer)
		case !validRole(c.Role):
			t.Fatalf("accepted role %q", c.Role)
		case c.Subject == "" && c.Role != RoleAdmin && c.Role != RoleService:
			t.Fatalf("accepted a %s token without subject", c.Role)
		case c.ExpiresAt == nil || !c.ExpiresAt.After(fuzzNow):
			t.Fatalf("accepted expiry %v at %v", c.ExpiresAt, fuzzNow)
		case c.IssuedAt == nil || c.IssuedAt.After(fuzzNow.Add(iatLeeway)):
			t.Fatalf("accepted issue time %v at %v", c.IssuedAt, fuzzNow)
		case c.ExpiresAt.Sub(c.IssuedAt.Time) > s.MaxTTL():
			t.Fatalf("accepted lifetime %s", c.ExpiresAt.Sub(c.IssuedAt.Time))
		}
		if alg := algOf(t, header); alg != "HS256" {
			t.Fatalf("accepted alg %q", alg)
		}
	})
}

// algOf is the alg a header names.
func algOf(t *testing.T, header string) string {
	var h map[string]any
	if err := json.Unmarshal([]byte(header), &h); err != nil {
		t.Fatalf("accepted a header that is not JSON: %v", err)
	}
	alg, _ := h["alg"].(string)
	return alg
}

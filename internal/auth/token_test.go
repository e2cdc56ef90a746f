package auth_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/membergraph/membergraph/internal/auth"
)

func TestTokenRoundTrip(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := auth.NewSigner([]byte(strings.Repeat("s", 32)), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Issue(auth.TokenRequest{Role: auth.RoleMember, Subject: "alice", Program: "jd", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Verify(tok)
	if err != nil || c.Role != auth.RoleMember || c.Subject != "alice" || c.Program != "jd" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	later, _ := auth.NewSigner([]byte(strings.Repeat("s", 32)), func() time.Time { return now.Add(2 * time.Hour) })
	if _, err := later.Verify(tok); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("expired token accepted: %v", err)
	}
	other, _ := auth.NewSigner([]byte(strings.Repeat("o", 32)), nil)
	if _, err := other.Verify(tok); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("token of another secret accepted: %v", err)
	}
}

func TestTokenRefusals(t *testing.T) {
	if _, err := auth.NewSigner([]byte("short"), nil); !errors.Is(err, auth.ErrWeakSecret) {
		t.Errorf("short secret: %v", err)
	}
	s, _ := auth.NewSigner([]byte(strings.Repeat("s", 32)), nil)
	if _, err := s.Issue(auth.TokenRequest{Role: auth.RoleMember, TTL: time.Hour}); err == nil {
		t.Error("MEMBER token without subject issued")
	}
	if _, err := s.Issue(auth.TokenRequest{Role: "ROOT", TTL: time.Hour}); err == nil {
		t.Error("unknown role issued")
	}
	// "none" and a role outside the five are refused even when otherwise well-formed.
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"role": "ADMIN", "iss": auth.Issuer, "exp": time.Now().Add(time.Hour).Unix()}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	if _, err := s.Verify(none); err == nil {
		t.Error("alg=none token accepted")
	}
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"role": "ROOT", "iss": auth.Issuer, "exp": time.Now().Add(time.Hour).Unix()}).
		SignedString([]byte(strings.Repeat("s", 32)))
	if _, err := s.Verify(forged); err == nil {
		t.Error("unknown role accepted")
	}
}

// TestTokenLifetimeAndIssueTime: a token lives at most the signer's maximum, says when it
// was issued, and was not issued ahead of the verifier's clock (a minute of drift allowed).
func TestTokenLifetimeAndIssueTime(t *testing.T) {
	now := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	secret := []byte(strings.Repeat("s", 32))
	s, _ := auth.NewSigner(secret, func() time.Time { return now })
	if s.MaxTTL() != 30*24*time.Hour {
		t.Errorf("default maximum %s, want 720h", s.MaxTTL())
	}
	if _, err := s.Issue(auth.TokenRequest{Role: auth.RoleAdmin, TTL: 31 * 24 * time.Hour}); err == nil {
		t.Error("a 31-day token was issued under a 30-day maximum")
	}
	s.SetMaxTTL(2 * time.Hour)
	if _, err := s.Issue(auth.TokenRequest{Role: auth.RoleAdmin, TTL: 3 * time.Hour}); err == nil {
		t.Error("a 3-hour token was issued under a 2-hour maximum")
	}
	// Hand-made tokens with the right secret, as a leaked secret's holder could mint them.
	mint := func(iat *jwt.NumericDate, exp time.Time) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, auth.Claims{Role: auth.RoleAdmin, RegisteredClaims: jwt.RegisteredClaims{
			Issuer: auth.Issuer, IssuedAt: iat, ExpiresAt: jwt.NewNumericDate(exp)}}).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for name, tc := range map[string]struct {
		tok string
		ok  bool
	}{
		"within the maximum":        {mint(jwt.NewNumericDate(now), now.Add(2*time.Hour)), true},
		"over the maximum":          {mint(jwt.NewNumericDate(now), now.Add(2*time.Hour+time.Second)), false},
		"no issue time":             {mint(nil, now.Add(time.Hour)), false},
		"issued 59 s ahead (drift)": {mint(jwt.NewNumericDate(now.Add(59*time.Second)), now.Add(time.Hour)), true},
		"issued 2 min ahead":        {mint(jwt.NewNumericDate(now.Add(2*time.Minute)), now.Add(time.Hour)), false},
	} {
		_, err := s.Verify(tc.tok)
		if tc.ok != (err == nil) {
			t.Errorf("%s: Verify = %v, want ok %v", name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("%s: %v is not ErrInvalidToken", name, err)
		}
	}
}

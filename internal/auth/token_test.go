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

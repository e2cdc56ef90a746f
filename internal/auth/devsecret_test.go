package auth_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/membergraph/membergraph/internal/auth"
)

func TestDevSecretIsKeptPrivateAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if _, err := auth.ReadDevSecret(dir); !errors.Is(err, auth.ErrNoDevSecret) {
		t.Fatalf("ReadDevSecret before any: %v", err)
	}
	first, path, created, err := auth.DevSecret(dir)
	if err != nil || !created || len(first) < auth.MinSecretBytes {
		t.Fatalf("DevSecret = %d bytes, created %v, %v", len(first), created, err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("%s: mode %v, %v; want 0600", path, info.Mode().Perm(), err)
	}
	again, _, created, err := auth.DevSecret(dir)
	if err != nil || created || string(again) != string(first) {
		t.Errorf("second DevSecret: created %v, same %v, %v", created, string(again) == string(first), err)
	}
	read, err := auth.ReadDevSecret(dir)
	if err != nil || string(read) != string(first) {
		t.Errorf("ReadDevSecret: same %v, %v", string(read) == string(first), err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.ReadDevSecret(dir); err == nil {
		t.Error("a secret file others may read was accepted")
	}
}

// TestDevSecretRace: servers starting at once agree on one secret.
func TestDevSecretRace(t *testing.T) {
	dir := t.TempDir()
	secrets := make([]string, 8)
	var wg sync.WaitGroup
	for i := range secrets {
		wg.Go(func() {
			s, _, _, err := auth.DevSecret(dir)
			if err != nil {
				t.Error(err)
			}
			secrets[i] = string(s)
		})
	}
	wg.Wait()
	for _, s := range secrets[1:] {
		if s != secrets[0] {
			t.Fatalf("racing starts made different secrets")
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("state directory holds %d files, want only %s", len(entries), auth.DevSecretFile)
	}
}

func TestParseRoleIgnoresCase(t *testing.T) {
	for _, s := range []string{"member", "Member", "MEMBER", " member "} {
		if r, err := auth.ParseRole(s); err != nil || r != auth.RoleMember {
			t.Errorf("ParseRole(%q) = %q, %v", s, r, err)
		}
	}
	if _, err := auth.ParseRole("members"); err == nil {
		t.Error("ParseRole(members) accepted")
	}
}

// TestTokenRoleIsExact: a token's role claim must be spelled as the roles are; only what
// people type is case-insensitive.
func TestTokenRoleIsExact(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	s, _ := auth.NewSigner(secret, nil)
	claims := jwt.MapClaims{"iss": auth.Issuer, "role": "admin", "exp": 4102444800}
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if _, err := s.Verify(tok); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("token with role admin: %v", err)
	}
}

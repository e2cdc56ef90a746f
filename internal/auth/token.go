package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is the iss claim of every token membergraph signs and the only one it accepts.
const Issuer = "membergraph"

// MinSecretBytes is the shortest HS256 secret accepted: shorter keys can be brute-forced.
const MinSecretBytes = 32

// DefaultMaxTTL is the longest token lifetime a Signer issues or accepts unless told
// otherwise: a leaked token is good for at most this long.
const DefaultMaxTTL = 30 * 24 * time.Hour

// iatLeeway is how far ahead of the verifier's clock a token's issue time may lie, for the
// small drift between the clocks of the machines that sign and verify.
const iatLeeway = time.Minute

// The errors of token handling.
var (
	ErrNoToken      = errors.New("no bearer token")
	ErrInvalidToken = errors.New("invalid token")
	ErrWeakSecret   = fmt.Errorf("auth secret must be at least %d bytes", MinSecretBytes)
)

// Claims are the claims of a membergraph token.
type Claims struct {
	Role Role `json:"role"`
	// Program is the key of the programme the token is scoped to; empty means the server's
	// default programme.
	Program string `json:"prg,omitempty"`
	jwt.RegisteredClaims
}

// Signer issues and verifies HS256 tokens with one secret.
type Signer struct {
	secret []byte
	now    func() time.Time
	maxTTL time.Duration
}

// SetMaxTTL sets the longest lifetime (exp − iat) the signer issues and accepts (default
// DefaultMaxTTL); d ≤ 0 keeps the default.
func (s *Signer) SetMaxTTL(d time.Duration) {
	if d > 0 {
		s.maxTTL = d
	}
}

// MaxTTL is the longest lifetime the signer issues and accepts.
func (s *Signer) MaxTTL() time.Duration { return s.maxTTL }

// NewSigner returns a Signer for secret; now is the clock used for iat/exp (nil: time.Now).
func NewSigner(secret []byte, now func() time.Time) (*Signer, error) {
	if len(secret) < MinSecretBytes {
		return nil, ErrWeakSecret
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{secret: secret, now: now, maxTTL: DefaultMaxTTL}, nil
}

// GenerateSecret returns a random secret for a development session.
func GenerateSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TokenRequest describes a token to issue.
type TokenRequest struct {
	Role    Role
	Subject string // required for MEMBER, STORE and PARTNER
	Program string // programme key; empty for the default programme
	TTL     time.Duration
}

// Issue signs a token for req.
func (s *Signer) Issue(req TokenRequest) (string, error) {
	if !validRole(req.Role) {
		return "", fmt.Errorf("unknown role %q (want one of ADMIN, SERVICE, MEMBER, STORE, PARTNER)", req.Role)
	}
	if req.Subject == "" && req.Role != RoleAdmin && req.Role != RoleService {
		return "", fmt.Errorf("a %s token needs a subject (--member, --store or --partner)", req.Role)
	}
	if req.TTL <= 0 || req.TTL > s.maxTTL {
		return "", fmt.Errorf("token lifetime must be positive and at most %s, got %s", s.maxTTL, req.TTL)
	}
	now := s.now()
	claims := Claims{
		Role:    req.Role,
		Program: req.Program,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   req.Subject,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(req.TTL)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
}

// Verify checks a token's signature, algorithm, issuer and lifetime and returns its claims.
func (s *Signer) Verify(token string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	// A token says when it was issued, not ahead of this clock, and lives no longer than the
	// signer allows: a token minted with a far exp, or dated ahead to outlive it, is refused.
	switch now := s.now(); {
	case c.IssuedAt == nil:
		return nil, fmt.Errorf("%w: no issue time (iat)", ErrInvalidToken)
	case c.IssuedAt.After(now.Add(iatLeeway)):
		return nil, fmt.Errorf("%w: issued in the future", ErrInvalidToken)
	case c.ExpiresAt.Sub(c.IssuedAt.Time) > s.maxTTL:
		return nil, fmt.Errorf("%w: lifetime over %s", ErrInvalidToken, s.maxTTL)
	}
	if !validRole(c.Role) {
		return nil, fmt.Errorf("%w: unknown role %q", ErrInvalidToken, c.Role)
	}
	if c.Subject == "" && c.Role != RoleAdmin && c.Role != RoleService {
		return nil, fmt.Errorf("%w: %s token without subject", ErrInvalidToken, c.Role)
	}
	return &c, nil
}

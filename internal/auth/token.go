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
}

// NewSigner returns a Signer for secret; now is the clock used for iat/exp (nil: time.Now).
func NewSigner(secret []byte, now func() time.Time) (*Signer, error) {
	if len(secret) < MinSecretBytes {
		return nil, ErrWeakSecret
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{secret: secret, now: now}, nil
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
	if req.TTL <= 0 {
		return "", errors.New("token lifetime must be positive")
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
	if !validRole(c.Role) {
		return nil, fmt.Errorf("%w: unknown role %q", ErrInvalidToken, c.Role)
	}
	if c.Subject == "" && c.Role != RoleAdmin && c.Role != RoleService {
		return nil, fmt.Errorf("%w: %s token without subject", ErrInvalidToken, c.Role)
	}
	return &c, nil
}

package sdk

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
)

// StoredGrant is a grant as a GrantBook keeps it.
type StoredGrant struct {
	ID             string            `json:"id"`
	IdempotencyKey string            `json:"idempotencyKey"`
	BenefitKey     string            `json:"benefitKey"`
	ExternalID     string            `json:"externalId"`
	Code           string            `json:"code,omitempty"`
	ExpiresAtUnix  int64             `json:"expiresAtUnix,omitempty"`
	Revoked        bool              `json:"revoked,omitempty"`
	Extra          map[string]string `json:"extra,omitempty"`
}

// GrantBook is a partner's grants in a JSON file of its state directory, written atomically
// before a call returns: what makes Grant idempotent across restarts for a partner without a
// back end of its own. It serialises its callers; a partner with heavy traffic keeps its
// grants in its own database instead.
type GrantBook struct {
	mu   sync.Mutex
	path string
	data struct {
		Grants map[string]*StoredGrant `json:"grants"` // by id
		ByKey  map[string]string       `json:"byKey"`  // idempotency key → id
		Values map[string]string       `json:"values"` // the partner's own small state
	}
}

// OpenGrantBook opens (or starts) the book in dir.
func OpenGrantBook(dir string) (*GrantBook, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: no state directory", ErrInvalid)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	b := &GrantBook{path: filepath.Join(dir, "grants.json")}
	raw, err := os.ReadFile(b.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(raw, &b.data); err != nil {
			return nil, fmt.Errorf("%s: %w", b.path, err)
		}
	}
	if b.data.Grants == nil {
		b.data.Grants, b.data.ByKey, b.data.Values = map[string]*StoredGrant{}, map[string]string{}, map[string]string{}
	}
	return b, nil
}

// Grant returns the grant stored under key, or makes one with create (given a fresh id and
// the partner's values, which it may change), stores both and returns the grant. replayed
// reports the first case. Calls are serialised, so create sees and changes values alone.
func (b *GrantBook) Grant(key string, create func(id string, values map[string]string) (StoredGrant, error)) (g StoredGrant, replayed bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if id, ok := b.data.ByKey[key]; ok {
		return *b.data.Grants[id], true, nil
	}
	before := maps.Clone(b.data.Values)
	id := NewID()
	if g, err = create(id, b.data.Values); err != nil {
		b.data.Values = before
		return StoredGrant{}, false, err
	}
	g.ID, g.IdempotencyKey = id, key
	b.data.Grants[id], b.data.ByKey[key] = &g, id
	if err := b.save(); err != nil {
		delete(b.data.Grants, id)
		delete(b.data.ByKey, key)
		b.data.Values = before
		return StoredGrant{}, false, err
	}
	return g, false, nil
}

// Find returns a grant for which match holds.
func (b *GrantBook) Find(match func(StoredGrant) bool) (StoredGrant, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, g := range b.data.Grants {
		if match(*g) {
			return *g, true
		}
	}
	return StoredGrant{}, false
}

// Status is the Partner.Status answer for a grant of the book: revoked, expired (by
// ExpiresAtUnix) or active.
func (b *GrantBook) Status(id string) (*partnerv1.StatusResponse, error) {
	g, err := b.Get(id)
	if err != nil {
		return nil, err
	}
	st := partnerv1.StatusResponse_STATE_ACTIVE
	switch {
	case g.Revoked:
		st = partnerv1.StatusResponse_STATE_REVOKED
	case g.ExpiresAtUnix > 0 && time.Now().Unix() >= g.ExpiresAtUnix:
		st = partnerv1.StatusResponse_STATE_EXPIRED
	}
	return &partnerv1.StatusResponse{State: st, ExpiresAtUnix: g.ExpiresAtUnix}, nil
}

// Get returns a grant by id.
func (b *GrantBook) Get(id string) (StoredGrant, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g, ok := b.data.Grants[id]
	if !ok {
		return StoredGrant{}, fmt.Errorf("%w %q", ErrUnknownGrant, id)
	}
	return *g, nil
}

// Revoke marks a grant revoked; revoking twice is not an error.
func (b *GrantBook) Revoke(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	g, ok := b.data.Grants[id]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownGrant, id)
	}
	if g.Revoked {
		return nil
	}
	g.Revoked = true
	if err := b.save(); err != nil {
		g.Revoked = false
		return err
	}
	return nil
}

// Update changes the partner's own values with fn and stores them, atomically with respect
// to the book's other calls. fn may refuse by returning an error; nothing is stored then.
func (b *GrantBook) Update(fn func(values map[string]string) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	before := maps.Clone(b.data.Values)
	if err := fn(b.data.Values); err != nil {
		b.data.Values = before
		return err
	}
	if err := b.save(); err != nil {
		b.data.Values = before
		return err
	}
	return nil
}

// save writes the book to a temporary file, syncs it and renames it over the old one, so a
// crash leaves the old book or the new one, never half of one.
func (b *GrantBook) save() error {
	raw, err := json.Marshal(&b.data)
	if err != nil {
		return err
	}
	tmp := b.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(raw); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, b.path)
}

// NewID returns a random identifier.
func NewID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

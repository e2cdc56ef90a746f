package host

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// CatalogueFile is the trusted catalogue's name in the plugin directory.
const CatalogueFile = "trusted.json"

// Catalogue maps an executable's file name to the SHA-256 of the build an operator trusts.
// Only executables whose content matches are started.
type Catalogue map[string]string

// LoadCatalogue reads dir's catalogue; a missing one is empty.
func LoadCatalogue(dir string) (Catalogue, error) {
	raw, err := os.ReadFile(filepath.Join(dir, CatalogueFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Catalogue{}, nil
	}
	if err != nil {
		return nil, err
	}
	c := Catalogue{}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", CatalogueFile, err)
	}
	return c, nil
}

// Save writes the catalogue to dir.
func (c Catalogue) Save(dir string) error {
	raw, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, CatalogueFile+".tmp")
	if err := os.WriteFile(tmp, append(raw, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, CatalogueFile))
}

// Trust records the current content of the named executables as trusted.
func (c Catalogue) Trust(dir string, names ...string) error {
	for _, n := range names {
		sum, err := FileSHA256(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		c[n] = sum
	}
	return nil
}

// Verify reports, for each catalogued executable, nil when its content matches.
func (c Catalogue) Verify(dir string) map[string]error {
	out := map[string]error{}
	for n, want := range c {
		got, err := FileSHA256(filepath.Join(dir, n))
		switch {
		case err != nil:
			out[n] = err
		case got != want:
			out[n] = fmt.Errorf("%w: sha256 %s, trusted %s", ErrUntrusted, got[:12], want[:12])
		default:
			out[n] = nil
		}
	}
	return out
}

// Names lists the catalogued executables, sorted.
func (c Catalogue) Names() []string {
	var out []string
	for n := range c {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// FileSHA256 is the hex SHA-256 of a file's content.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

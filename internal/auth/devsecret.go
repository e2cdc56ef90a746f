package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DevSecretFile is the name, in the state directory, of the secret a development server
// signs its tokens with when no secret is configured. It is kept so that tokens outlive a
// restart and `membergraph token` can sign for that server.
const DevSecretFile = "dev-auth-secret"

// ErrNoDevSecret: the state directory holds no development secret (no development server
// has started with it yet).
var ErrNoDevSecret = errors.New("no development secret")

// DevSecret returns the development secret kept in dir, creating it (mode 0600) on first
// use; created says it was made now. Two servers starting at once agree on one secret: the
// secret is written to a temporary file and linked into place, which fails for the loser,
// who then reads the winner's; nobody ever reads a half-written file.
func DevSecret(dir string) (secret []byte, path string, created bool, err error) {
	path = filepath.Join(dir, DevSecretFile)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, path, false, fmt.Errorf("state directory %s: %w", dir, err)
	}
	if _, err := os.Stat(path); err == nil {
		secret, err := ReadDevSecret(dir)
		return secret, path, false, err
	}
	tmp, err := os.CreateTemp(dir, DevSecretFile+".*") // CreateTemp makes it 0600
	if err != nil {
		return nil, path, false, fmt.Errorf("creating the development secret in %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name())
	s := GenerateSecret()
	_, werr := tmp.WriteString(s + "\n")
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, path, false, fmt.Errorf("writing the development secret in %s: %w", dir, werr)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		secret, err := ReadDevSecret(dir)
		return secret, path, false, err
	} else if err != nil {
		return nil, path, false, fmt.Errorf("creating %s: %w", path, err)
	}
	return []byte(s), path, true, nil
}

// ReadDevSecret reads the development secret of dir without creating one. A file others may
// read is refused, as ssh refuses such a key: anyone who reads it can sign ADMIN tokens.
func ReadDevSecret(dir string) ([]byte, error) {
	path := filepath.Join(dir, DevSecretFile)
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoDevSecret, dir)
	}
	if err != nil {
		return nil, err
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s is open to other users (mode %04o): chmod 600 it", path, perm)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := strings.TrimSpace(string(b))
	if len(s) < MinSecretBytes {
		return nil, fmt.Errorf("%s: %w (delete it to have a new one made)", path, ErrWeakSecret)
	}
	return []byte(s), nil
}

package membergraph

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	// A test the documents cite by name, in backquotes: `TestCrashKill9MidBatch`.
	testCite = regexp.MustCompile("`((?:Test|Fuzz|Benchmark)[A-Z0-9][A-Za-z0-9_]*)`")
	// A test function declared in a _test.go file.
	testDecl = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)[A-Z0-9][A-Za-z0-9_]*)\(`)
)

// TestDocsCiteTestsThatExist: every test, fuzz target or benchmark that README.md or a page
// of docs/ names in backquotes is declared in a _test.go file of one of the two modules, so
// a guarantee's proof cannot be renamed or removed while the page still cites it.
func TestDocsCiteTestsThatExist(t *testing.T) {
	declared := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "bin", "data", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testDecl.FindAllStringSubmatch(string(b), -1) {
			declared[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pages, _ := filepath.Glob("docs/*.md")
	cited := 0
	for _, page := range append(pages, "README.md") {
		for n, line := range strings.Split(readDoc(t, page), "\n") {
			for _, m := range testCite.FindAllStringSubmatch(line, -1) {
				cited++
				if !declared[m[1]] {
					t.Errorf("%s:%d cites %s, which no _test.go declares", page, n+1, m[1])
				}
			}
		}
	}
	if cited == 0 {
		t.Error("no document cites a test; docs/reliability.md cites many")
	}
}

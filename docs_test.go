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
	// A citation of the domain rules: docs/domain.md §3, optionally naming a part, §3 "Expiry".
	domainCite = regexp.MustCompile(`domain\.md §(\d+)(?: "([^"]+)")?`)
	// A citation of the architecture: docs/architecture.md "Auth".
	architectureCite = regexp.MustCompile(`architecture\.md "([^"]+)"`)
	// The briefs the repository's documents replaced; nothing cites them any more.
	oldCite = regexp.MustCompile(`\b(DOMAIN|ARCHITECTURE)\.md\b`)
	// A numbered section of docs/domain.md: "## 3. Points".
	domainSection = regexp.MustCompile(`(?m)^## (\d+)\. `)
	// Where a quoted part wraps onto the next comment line.
	commentWrap = regexp.MustCompile(`\s*\n\s*(//|#)?\s*`)
)

// TestDocsCitations: the code and the documents cite the domain rules and the architecture
// in docs/, by sections that exist there, and never the briefs those pages replaced.
func TestDocsCitations(t *testing.T) {
	domain := readDoc(t, "docs/domain.md")
	architecture := readDoc(t, "docs/architecture.md")
	sections := map[string]string{} // number → the section's text, heading to next heading
	locs := domainSection.FindAllStringSubmatchIndex(domain, -1)
	for i, l := range locs {
		end := len(domain)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		sections[domain[l[2]:l[3]]] = domain[l[0]:end]
	}
	if len(sections) != 8 {
		t.Fatalf("docs/domain.md has %d numbered sections; the code cites §1–§8", len(sections))
	}

	cites := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "bin", "data":
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".graphqls", ".md", ".proto", ".ts":
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(b)
		for _, line := range lineNumbers(text, oldCite) {
			t.Errorf("%s:%d cites %s; the rules are docs/domain.md, the architecture docs/architecture.md", path, line.n, line.match)
		}
		for _, m := range domainCite.FindAllStringSubmatch(text, -1) {
			cites++
			sec, ok := sections[m[1]]
			part := commentWrap.ReplaceAllString(m[2], " ")
			switch {
			case !ok:
				t.Errorf("%s cites docs/domain.md §%s, which has no such section", path, m[1])
			case part != "" && !strings.Contains(strings.ToLower(commentWrap.ReplaceAllString(sec, " ")), strings.ToLower(part)):
				t.Errorf("%s cites docs/domain.md §%s %q, which that section does not contain", path, m[1], part)
			}
		}
		for _, m := range architectureCite.FindAllStringSubmatch(text, -1) {
			cites++
			part := commentWrap.ReplaceAllString(m[1], " ")
			if !strings.Contains(architecture, "**"+part+"**") && !strings.Contains(architecture, "## "+part) {
				t.Errorf("%s cites docs/architecture.md %q, which has no such part", path, part)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cites < 20 {
		t.Errorf("found %d citations of docs/; the code cites far more", cites)
	}
}

func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type lineMatch struct {
	n     int
	match string
}

func lineNumbers(text string, re *regexp.Regexp) []lineMatch {
	var out []lineMatch
	for i, line := range strings.Split(text, "\n") {
		if m := re.FindString(line); m != "" {
			out = append(out, lineMatch{i + 1, m})
		}
	}
	return out
}

// TestLicense: the licence is the Apache License 2.0, whole.
func TestLicense(t *testing.T) {
	l := readDoc(t, "LICENSE")
	for _, want := range []string{"Apache License", "Version 2.0, January 2004", "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
		"9. Accepting Warranty or Additional Liability.", "END OF TERMS AND CONDITIONS"} {
		if !strings.Contains(l, want) {
			t.Errorf("LICENSE lacks %q", want)
		}
	}
}

// Command inorder rewrites gqlgen's generated executor so that a list of objects whose
// fields are all plain values (no resolver, nothing to wait for) is marshalled element after
// element in the caller's goroutine instead of by graphql.MarshalSliceConcurrently, which
// starts a goroutine per element whatever the element does. For such elements the goroutines
// only cost: their start, their stacks growing through gqlgen's field machinery, the
// scheduling — on a profile read's 26 medals about a tenth of the API's CPU (issue 14,
// docs/benchmarks.md). gqlgen v0.17.90 has no option for this (exec.worker_limit only bounds
// the goroutines). Lists of objects with a resolver field keep their goroutines, so that their
// elements' reads still overlap.
//
// It also sends the fields that read a struct field of their object, without arguments or
// directives, through resolvePlainField (graph/inorder.go), which skips the field middleware
// chain: the server's one field middleware, fieldChecks, lets such fields straight through
// (graph/fieldchecks.go), and the chain's closures were, per field, most of what marshalling
// the medals cost.
//
// It runs after `go tool gqlgen generate` (generate.go) and is idempotent:
//
//	go run ./graph/internal/inorder graph/generated.go
package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

const (
	concurrent = "graphql.MarshalSliceConcurrently("
	inOrder    = "marshalInOrder(" // graph/inorder.go
	resolve    = "return graphql.ResolveField("
	plain      = "return resolvePlainField(" // graph/inorder.go
)

var (
	// The element's marshaller, inside a list marshaller's closure.
	elemCall = regexp.MustCompile(`return ec\.(marshal[NO][^\s(]+)\(ctx, sel, v\[i\]\)`)
	// A field whose value is its object's struct field, with no directive around it.
	plainField = regexp.MustCompile(`\n\t\tfunc\(ctx context\.Context\) \(any, error\) \{\n\t\t\treturn obj\.[A-Za-z0-9_]+, nil\n\t\t\},\n\t\tnil,\n`)
	// The error a scalar field's context keeps for a child asked of it, made anew per field.
	noChildren    = regexp.MustCompile(`errors\.New\("field of type ([_A-Za-z][_0-9A-Za-z]*) does not have child fields"\)`)
	noChildrenVar = regexp.MustCompile(`errNoChildren([_0-9A-Za-z]+)`)
	funcName      = regexp.MustCompile(`^func \(ec \*executionContext\) ([^\s(]+)\(`)
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: inorder graph/generated.go")
		os.Exit(2)
	}
	path := os.Args[1]
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, n, f := rewrite(src)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("inorder: %d lists of plain objects marshalled in order, %d struct fields read without the field middleware\n", n, f)
}

// shared marks the errors rewrite declares once at the end of the file.
const shared = "\n// The scalar fields' errors for a child field, declared once by graph/internal/inorder.\n"

// rewrite returns src with the qualifying lists and fields rewritten, and how many of each.
// A scalar field's context also gets its "no child fields" error from a variable instead of
// a new error per field resolved (errors.New was a twentieth of a profile read's allocations).
func rewrite(src []byte) ([]byte, int, int) {
	if i := bytes.Index(src, []byte(shared)); i >= 0 {
		src = append(src[:i:i], '\n')
	}
	src = noChildren.ReplaceAll(src, []byte("errNoChildren$1"))
	types := map[string]bool{}
	for _, m := range noChildrenVar.FindAllSubmatch(src, -1) {
		types[string(m[1])] = true
	}
	var decl bytes.Buffer
	if len(types) > 0 {
		decl.WriteString(shared)
		var names []string
		for t := range types {
			names = append(names, t)
		}
		sort.Strings(names)
		for _, t := range names {
			fmt.Fprintf(&decl, "var errNoChildren%s = errors.New(\"field of type %s does not have child fields\")\n", t, t)
		}
	}
	parts := bytes.Split(src, []byte("\nfunc "))
	bodies := map[string]string{}
	names := make([]string, len(parts))
	for i, p := range parts {
		if i == 0 {
			continue
		}
		if m := funcName.FindStringSubmatch("func " + string(p)); m != nil {
			names[i] = m[1]
			bodies[m[1]] = string(p)
		}
	}
	n, f := 0, 0
	for i, p := range parts {
		body := string(p)
		if names[i] != "" && (strings.Contains(body, plain) || strings.Contains(body, resolve) && plainField.MatchString(body)) {
			f++
			parts[i] = []byte(strings.Replace(body, resolve, plain, 1))
			continue
		}
		if names[i] == "" || !strings.Contains(body, concurrent) && !strings.Contains(body, inOrder) {
			continue
		}
		if !plainElements(body, bodies) {
			continue
		}
		n++
		parts[i] = []byte(strings.Replace(body, concurrent, inOrder, 1))
	}
	out := bytes.Join(parts, []byte("\nfunc "))
	out = append(bytes.TrimRight(out, "\n"), '\n')
	return append(out, decl.Bytes()...), n, f
}

// plainElements reports whether the list marshaller body marshals objects with nothing to
// wait for beneath them: no field of theirs, nor of any object below them, is a resolver that
// gqlgen dispatches concurrently (FieldSet.Concurrently). Such elements marshal on the CPU
// alone, so running them in order loses nothing; a list whose elements reach a resolver
// (a connection's nodes, say) keeps its goroutines so that those reads overlap.
func plainElements(body string, bodies map[string]string) bool {
	m := elemCall.FindStringSubmatch(body)
	if m == nil {
		return false
	}
	w := waits{bodies: bodies, seen: map[string]bool{}}
	return !w.of(m[1])
}

// waits finds whether a generated function can wait on a concurrently dispatched field.
type waits struct {
	bodies map[string]string
	seen   map[string]bool // done or under way; a cycle adds nothing its other paths do not
	memo   map[string]bool
}

var ecCall = regexp.MustCompile(`ec\.((?:_|marshal)[^\s(]*)\(`)

func (w *waits) of(name string) bool {
	if w.memo == nil {
		w.memo = map[string]bool{}
	}
	if v, ok := w.memo[name]; ok {
		return v
	}
	if w.seen[name] {
		return false
	}
	w.seen[name] = true
	body, ok := w.bodies[name]
	v := !ok || strings.Contains(body, ".Concurrently(")
	for _, c := range ecCall.FindAllStringSubmatch(body, -1) {
		if v {
			break
		}
		v = c[1] != name && w.of(c[1])
	}
	w.memo[name] = v
	return v
}

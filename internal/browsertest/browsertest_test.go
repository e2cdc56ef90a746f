package browsertest_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/membergraph/membergraph/internal/browsertest"
)

func TestDumpDOMRunsScripts(t *testing.T) {
	page := `<p id="out">static</p><script>document.getElementById("out").textContent = "ran " + (6 * 7)</script>`
	dom := browsertest.DumpDOM(t, "data:text/html,"+url.PathEscape(page))
	if !strings.Contains(dom, `<p id="out">ran 42</p>`) {
		t.Errorf("script did not run; DOM:\n%s", dom)
	}
}

package graph_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/membergraph/membergraph/graph"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/browsertest"
	"github.com/membergraph/membergraph/internal/storetest"
)

// consoleDOM is the console's DOM after headless Chromium ran it.
type consoleDOM string

// section is the HTML of the card with id.
func (d consoleDOM) section(t *testing.T, id string) string {
	t.Helper()
	s := string(d)
	i := strings.Index(s, `<section id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no section %s in the console", id)
	}
	s = s[i:]
	s = s[:strings.Index(s, "</section>")]
	if !strings.Contains(s, `data-state="ready"`) {
		t.Fatalf("section %s is not ready: %.600s", id, s)
	}
	return s
}

var (
	numberAttr = regexp.MustCompile(`data-value="([^"]*)" data-name="([^"]*)"`)
	chartAttr  = regexp.MustCompile(`data-chart="([^"]*)"[^>]* data-labels="([^"]*)" data-values="([^"]*)"`)
	urlAttr    = regexp.MustCompile(`(?:src|href)="([^"]*)"`)
)

// numbers are the figures a section shows, by data-name.
func numbers(sec string) map[string]string {
	out := map[string]string{}
	for _, m := range numberAttr.FindAllStringSubmatch(sec, -1) {
		out[html.UnescapeString(m[2])] = html.UnescapeString(m[1])
	}
	return out
}

// chartData is the datasets a section's chart holds, as the page read them back from it.
func chartData(t *testing.T, sec, name string) (labels []string, data [][]float64) {
	t.Helper()
	for _, m := range chartAttr.FindAllStringSubmatch(sec, -1) {
		if m[1] != name {
			continue
		}
		if err := json.Unmarshal([]byte(html.UnescapeString(m[2])), &labels); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(html.UnescapeString(m[3])), &data); err != nil {
			t.Fatal(err)
		}
		return labels, data
	}
	t.Fatalf("no chart %s in %.600s", name, sec)
	return nil, nil
}

func floats(xs ...int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// TestConsoleDrawsTheAnalytics opens /console of the real server in headless Chromium on a
// machine with no route outside, with the development token pre-filled as for a visitor on
// loopback, over the worked example of analyticsProgramme. The page must render from the
// embedded assets alone (every URL it names is this server's) and every number it draws must
// be the API's answer to the query it shows.
func TestConsoleDrawsTheAnalytics(t *testing.T) {
	browsertest.Chromium(t)
	db := storetest.Open(t, storetest.Backends()[0])
	a := newAPI(t, db, func(c *graph.ServerConfig) {
		tok, err := c.Signer.Issue(auth.TokenRequest{Role: auth.RoleAdmin, Subject: "dev", TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		c.DevToken = tok
	})
	analyticsProgramme(t, a)
	resp, err := http.Get(a.srv.URL + "/console")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("console CSP %q lets the page reach elsewhere", csp)
	}
	dom := consoleDOM(browsertest.DumpDOM(t, a.srv.URL+"/console", 20*time.Second))
	if !strings.Contains(string(dom), `data-loaded="true"`) {
		t.Fatalf("the console did not finish loading; DOM:\n%.3000s", dom)
	}
	for _, m := range urlAttr.FindAllStringSubmatch(string(page)+string(dom), -1) {
		if u := html.UnescapeString(m[1]); !strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the console names %q, which is not this server's", u)
		}
	}

	admin := a.token(auth.RoleAdmin, "ops")
	var api struct {
		Analytics struct {
			Penetration struct {
				Members int
				Tiers   []struct {
					Tier      struct{ Key string }
					AtOrAbove struct{ Count int }
				}
				Plus struct{ Count int }
			}
			Pyramid struct {
				Tiers []struct {
					Tier    struct{ Name string }
					Members struct{ Count int }
				}
			}
			WhatIf struct {
				Tiers []struct{ Current, Proposed int }
			}
			ScoreDistribution struct {
				Members int
				Buckets []struct{ Members int }
			}
			PointsLiability struct {
				Points, ValueCents, DebtPoints, MembersInDebt int
				ByFunder                                      []struct {
					Funding            string
					Points, ValueCents int
				}
			}
			PointsExpiringNextMonth struct {
				Points, ValueCents int
				ByFunder           []struct {
					Funding string
					Points  int
				}
			}
		}
	}
	a.must(admin, `{ analytics {
		penetration { members tiers { tier { key } atOrAbove { count } } plus { count } }
		pyramid { tiers { tier { name } members { count } } }
		whatIf(input: {thresholds: [0, 1000, 2500, 4500, 7000]}) { tiers { current proposed } }
		scoreDistribution(bucketWidth: 500) { members buckets { members } }
		pointsLiability { points valueCents debtPoints membersInDebt byFunder { funding points valueCents } }
		pointsExpiringNextMonth { points valueCents byFunder { funding points } } } }`, nil, &api)
	an := api.Analytics

	pen := numbers(dom.section(t, "penetration"))
	want := map[string]string{"members": strconv.Itoa(an.Penetration.Members), "plus": strconv.Itoa(an.Penetration.Plus.Count)}
	for _, tr := range an.Penetration.Tiers {
		want["atOrAbove."+tr.Tier.Key] = strconv.Itoa(tr.AtOrAbove.Count)
	}
	if !reflect.DeepEqual(pen, want) {
		t.Errorf("penetration drawn %v, API %v", pen, want)
	}

	var pyrLabels []string
	var pyr []int
	for _, tr := range an.Pyramid.Tiers {
		pyrLabels, pyr = append(pyrLabels, tr.Tier.Name), append(pyr, tr.Members.Count)
	}
	if labels, data := chartData(t, dom.section(t, "pyramid"), "pyramid"); !reflect.DeepEqual(labels, pyrLabels) || !reflect.DeepEqual(data, [][]float64{floats(pyr...)}) {
		t.Errorf("pyramid drawn %v %v, API %v %v", labels, data, pyrLabels, pyr)
	}
	// The what-if table starts from the current thresholds.
	var cur, prop []int
	for _, tr := range an.WhatIf.Tiers {
		cur, prop = append(cur, tr.Current), append(prop, tr.Proposed)
	}
	if _, data := chartData(t, dom.section(t, "whatif"), "whatif"); !reflect.DeepEqual(data, [][]float64{floats(cur...), floats(prop...)}) {
		t.Errorf("what-if drawn %v, API %v %v", data, cur, prop)
	}

	var hist []int
	for _, b := range an.ScoreDistribution.Buckets {
		hist = append(hist, b.Members)
	}
	hs := dom.section(t, "histogram")
	if _, data := chartData(t, hs, "histogram"); !reflect.DeepEqual(data, [][]float64{floats(hist...)}) || numbers(hs)["members"] != strconv.Itoa(an.ScoreDistribution.Members) {
		t.Errorf("histogram drawn %v, API %v", data, hist)
	}

	li := an.PointsLiability
	ls := dom.section(t, "liability")
	wantL := map[string]string{"points": strconv.Itoa(li.Points), "valueCents": strconv.Itoa(li.ValueCents), "debtPoints": strconv.Itoa(li.DebtPoints), "membersInDebt": strconv.Itoa(li.MembersInDebt)}
	var yuan []float64
	for _, f := range li.ByFunder {
		wantL["points."+f.Funding], wantL["valueCents."+f.Funding] = strconv.Itoa(f.Points), strconv.Itoa(f.ValueCents)
		yuan = append(yuan, float64(f.ValueCents)/100)
	}
	if got := numbers(ls); !reflect.DeepEqual(got, wantL) {
		t.Errorf("liability drawn %v, API %v", got, wantL)
	}
	if _, data := chartData(t, ls, "liability"); !reflect.DeepEqual(data, [][]float64{yuan}) {
		t.Errorf("liability chart %v, API %v", data, yuan)
	}

	ex := an.PointsExpiringNextMonth
	es := dom.section(t, "expiring")
	var exPts []int
	for _, f := range ex.ByFunder {
		exPts = append(exPts, f.Points)
	}
	if got := numbers(es); got["points"] != strconv.Itoa(ex.Points) || got["valueCents"] != strconv.Itoa(ex.ValueCents) {
		t.Errorf("expiring drawn %v, API %+v", got, ex)
	}
	if _, data := chartData(t, es, "expiring"); !reflect.DeepEqual(data, [][]float64{floats(exPts...)}) {
		t.Errorf("expiring chart %v, API %v", data, exPts)
	}

	// The funnel's period is the page's (the 30 days before the server's now), as it says.
	fs := dom.section(t, "funnel")
	pm := regexp.MustCompile(`data-from="([^"]*)" data-to="([^"]*)"`).FindStringSubmatch(fs)
	if pm == nil {
		t.Fatalf("the funnel names no period: %.600s", fs)
	}
	var funnel struct {
		Analytics struct {
			PlusConversion struct {
				NonMembers, TrialStarted int
				Converted                struct{ Count int }
			}
			PlusRenewal struct {
				Renewed struct{ Count, Of int }
				Open    int
			}
		}
	}
	a.must(admin, `query($p: AnalyticsPeriodInput!) { analytics { plusConversion(period: $p) { nonMembers trialStarted converted { count } }
		plusRenewal(period: $p) { renewed { count of } open } } }`, map[string]any{"p": map[string]any{"from": pm[1], "to": pm[2]}}, &funnel)
	c, r := funnel.Analytics.PlusConversion, funnel.Analytics.PlusRenewal
	if _, data := chartData(t, fs, "funnel"); !reflect.DeepEqual(data, [][]float64{floats(c.NonMembers, c.TrialStarted, c.Converted.Count)}) {
		t.Errorf("funnel drawn %v, API %+v", data, c)
	}
	wantF := map[string]string{"converted": strconv.Itoa(c.Converted.Count), "renewed": strconv.Itoa(r.Renewed.Count), "ended": strconv.Itoa(r.Renewed.Of), "open": strconv.Itoa(r.Open)}
	if got := numbers(fs); !reflect.DeepEqual(got, wantF) {
		t.Errorf("renewal drawn %v, API %v", got, wantF)
	}
	// The example's figures are not all zero: the comparison above compared something.
	if an.Penetration.Members != 10 || li.Points != 4850 || c.NonMembers == 0 {
		t.Errorf("unexpected example: %d members, %d points, %d non-members", an.Penetration.Members, li.Points, c.NonMembers)
	}
}

// TestConsoleOffInProduction: the console is served where the playground is, off with
// Production unless Console says otherwise.
func TestConsoleOffInProduction(t *testing.T) {
	db := storetest.Open(t, storetest.Backends()[0])
	for _, c := range []struct {
		production bool
		mode       graph.ConsoleMode
		want       int
	}{
		{false, graph.ConsoleDefault, 200}, {true, graph.ConsoleDefault, 404}, {true, graph.ConsoleOn, 200}, {false, graph.ConsoleOff, 404},
	} {
		a := newAPI(t, db, func(cfg *graph.ServerConfig) { cfg.Production, cfg.Console = c.production, c.mode })
		for _, path := range []string{"/console", "/console/assets/console.js"} {
			resp, err := http.Get(a.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("production %v, console %v: GET %s = %d, want %d", c.production, c.mode, path, resp.StatusCode, c.want)
			}
		}
	}
}

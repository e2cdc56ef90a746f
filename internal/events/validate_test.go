package events

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/amount"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/ident"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/usererr"
)

var shanghai = time.FixedZone("CST", 8*3600)

func presetProgram() *ent.Program {
	return &ent.Program{TimeZone: "Asia/Shanghai", PointsPerYuan: 100, Rules: rules.JDPreset()}
}

// TestHorizonIsTheExpiryRulesEdge: with the preset's rule (points of year N lapse at the end
// of year N+1), on 22 Nov 2026 the earliest event whose points are alive is one at 00:00 on
// 1 Jan 2025 in Shanghai; with points lapsing at the end of their own year, 1 Jan 2026.
func TestHorizonIsTheExpiryRulesEdge(t *testing.T) {
	prog := presetProgram()
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	want := time.Date(2025, 1, 1, 0, 0, 0, 0, shanghai)
	if h := Horizon(prog, now); !h.Equal(want) {
		t.Errorf("horizon %s, want %s", h, want)
	}
	// 31 Dec 2026 16:30 UTC is already 1 Jan 2027 in Shanghai: the horizon moves with the zone.
	if h := Horizon(prog, time.Date(2026, 12, 31, 16, 30, 0, 0, time.UTC)); !h.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, shanghai)) {
		t.Errorf("horizon at the Shanghai new year: %s", h)
	}
	prog.Rules.Expiry.YearsAfterEarning = 0
	if h := Horizon(prog, now); !h.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, shanghai)) {
		t.Errorf("horizon with yearsAfterEarning 0: %s", h)
	}
}

func orderInput(at time.Time, lines ...payload.Line) Input {
	return Input{IdempotencyKey: "k1", ExternalID: "alice", Kind: payload.OrderCompleted, OccurredAt: at, Channel: "WEB",
		Body: payload.Body{OrderID: "O-1", OrderType: "NORMAL", PaymentMethod: "CASH", Lines: lines}}
}

func paidLine(sku string, cents int64) payload.Line {
	return payload.Line{SKU: sku, Category: "PHONES", PaidCents: cents, ProductType: "PHYSICAL"}
}

func refusedFields(err error) map[string]bool {
	out := map[string]bool{}
	list, _ := usererr.From(err)
	for _, e := range list {
		if e.Code != usererr.InvalidArgument {
			panic(e)
		}
		out[strings.Join(e.Field, ".")] = true
	}
	return out
}

func TestValidateBounds(t *testing.T) {
	prog := presetProgram()
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	edge := time.Date(2025, 1, 1, 0, 0, 0, 0, shanghai)
	for _, c := range []struct {
		name  string
		in    Input
		field string // "" = accepted
	}{
		{"at the horizon", orderInput(edge, paidLine("s1", 5000)), ""},
		{"a nanosecond before the horizon", orderInput(edge.Add(-time.Nanosecond), paidLine("s1", 5000)), "e.occurredAt"},
		{"year 1", orderInput(time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), paidLine("s1", 5000)), "e.occurredAt"},
		{"beyond the clock skew", orderInput(now.Add(ClockSkew+time.Second), paidLine("s1", 5000)), "e.occurredAt"},
		{"a line at the bound", orderInput(now, paidLine("s1", amount.MaxCents)), ""},
		{"a line beyond", orderInput(now, paidLine("s1", amount.MaxCents+1)), "e.lines.0.paidCents"},
		{"a line of 2^31 cents", orderInput(now, paidLine("s1", 1<<31)), "e.lines.0.paidCents"},
		{"lines beyond in all", orderInput(now, paidLine("s1", amount.MaxCents), paidLine("s2", 1)), "e.lines"},
		{"a trailing space in the externalId", func() Input { in := orderInput(now, paidLine("s1", 1)); in.ExternalID = "a-victim "; return in }(), "e.externalId"},
		{"a space in the key", func() Input { in := orderInput(now, paidLine("s1", 1)); in.IdempotencyKey = "k 1"; return in }(), "e.idempotencyKey"},
		{"a trailing space in the orderId", func() Input { in := orderInput(now, paidLine("s1", 1)); in.Body.OrderID = "O-1 "; return in }(), "e.orderId"},
		{"a trailing space in a sku", orderInput(now, paidLine("s1 ", 1)), "e.lines.0.sku"},
	} {
		got := refusedFields(validate(prog, c.in, now, "e"))
		switch {
		case c.field == "" && len(got) > 0:
			t.Errorf("%s: refused %v", c.name, got)
		case c.field != "" && (!got[c.field] || len(got) != 1):
			t.Errorf("%s: refused %v, want %s alone", c.name, got, c.field)
		}
	}
}

// FuzzValidate: validate never panics on any event, and whatever it accepts lies within
// the bounds: ids by internal/ident, occurredAt between the horizon and now plus the skew,
// every line and the order's total within amount.MaxCents.
func FuzzValidate(f *testing.F) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	seed := func(in Input) {
		body, _ := json.Marshal(in.Body)
		f.Add(in.IdempotencyKey, in.ExternalID, string(in.Kind), in.OccurredAt.UnixNano(), in.Channel, body)
	}
	seed(orderInput(now, paidLine("s1", 5000)))
	seed(orderInput(now, paidLine("s1", amount.MaxCents), paidLine("s2", amount.MaxCents)))
	seed(orderInput(time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), paidLine("s1", 1<<62)))
	seed(Input{IdempotencyKey: "r", ExternalID: "a-victim ", Kind: payload.RiskUpdated, OccurredAt: now, Channel: "APP"})
	seed(Input{IdempotencyKey: "c", ExternalID: "bob", Kind: payload.OrderRefunded, OccurredAt: now, Channel: "APP",
		Body: payload.Body{OrderID: "O-1", SKUs: []string{"s1", "s1"}}})
	prog := presetProgram()
	f.Fuzz(func(t *testing.T, key, ext, kind string, at int64, channel string, body []byte) {
		in := Input{IdempotencyKey: key, ExternalID: ext, Kind: payload.Kind(kind), OccurredAt: time.Unix(0, at).UTC(), Channel: channel}
		if json.Unmarshal(body, &in.Body) != nil {
			return
		}
		if err := validate(prog, in, now, "e"); err != nil {
			if _, ok := usererr.From(err); !ok {
				t.Fatalf("not a user error: %v", err)
			}
			return
		}
		if !ident.Valid(ident.Key, in.IdempotencyKey) || !ident.Valid(ident.ExternalID, in.ExternalID) {
			t.Fatalf("accepted ids %q %q", in.IdempotencyKey, in.ExternalID)
		}
		if in.OccurredAt.Before(Horizon(prog, now)) || in.OccurredAt.After(now.Add(ClockSkew)) {
			t.Fatalf("accepted occurredAt %s", in.OccurredAt)
		}
		var total int64
		for _, l := range in.Body.Lines {
			if l.PaidCents < 0 || l.PaidCents > amount.MaxCents {
				t.Fatalf("accepted paidCents %d", l.PaidCents)
			}
			total += l.PaidCents
		}
		if total > amount.MaxCents {
			t.Fatalf("accepted an order of %d cents", total)
		}
		// What it accepts earns within bounds too, PLUS or not.
		for _, plus := range []bool{false, true} {
			var earned int64
			for _, g := range points.Earn(prog.Rules, points.Activity{Kind: in.Kind, Channel: in.Channel, Body: in.Body}, points.Facts{PlusActive: plus}) {
				if g.Amount < 0 {
					t.Fatalf("a negative grant %+v", g)
				}
				earned += g.Amount
			}
			if earned > amount.MaxPoints {
				t.Fatalf("an event earns %d points", earned)
			}
		}
	})
}

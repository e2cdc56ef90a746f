// Package sdktest is the conformance kit a partner runs in its own `go test`: it starts the
// built plugin the way the platform does and checks the contract of sdk.Partner — describe,
// eligibility, idempotent grants (also across a restart), a grant that checks eligibility
// first (when the plugin says it does), revoke and status.
package sdktest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/membergraph/membergraph/plugins/host"
	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk"
)

// Target is a built plugin and what to check it with.
type Target struct {
	// Key is the partner's key; Path its executable (any language).
	Key, Path string
	// Config is what an admin would configure.
	Config map[string]string
	// Benefit is a benefit key Member is eligible for.
	Benefit string
	Member  *partnerv1.Member
	// Ineligible, if set, is a member who is not eligible for Benefit: the kit checks that a
	// Grant with check_eligibility refuses it. Without one that part is skipped.
	Ineligible *partnerv1.Member
	// Params go with every grant (what a claim of Benefit needs).
	Params map[string]string
	// Host serves the callbacks the partner makes; nil offers a Host of this kit.
	Host partnerv1.HostServer
}

// BuildGo builds the Go plugin in dir (a partner's main package, "." for the test's own)
// into a temporary file named key and returns its path.
func BuildGo(t *testing.T, key, dir string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), key)
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", key, err, out)
	}
	return bin
}

// Run checks tg against the contract.
func Run(t *testing.T, tg Target) {
	t.Helper()
	dir, state := t.TempDir(), t.TempDir()
	raw, err := os.ReadFile(tg.Path)
	if err != nil {
		t.Fatal(err)
	}
	name := tg.Key + filepath.Ext(tg.Path)
	if err := os.WriteFile(filepath.Join(dir, name), raw, 0o755); err != nil {
		t.Fatal(err)
	}
	cat := host.Catalogue{}
	if err := cat.Trust(dir, name); err != nil {
		t.Fatal(err)
	}
	if err := cat.Save(dir); err != nil {
		t.Fatal(err)
	}
	cfg := host.Config{Dir: dir, StateDir: state, FailAfter: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Settings: func(string) (bool, map[string]string) { return true, tg.Config }}
	if tg.Host == nil {
		tg.Host = NewHost()
	}
	cfg.Host = func(string) partnerv1.HostServer { return tg.Host }
	start := func() *host.Manager {
		m, err := host.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if info, _ := m.Info(tg.Key); info.Status != host.Running {
			m.Close()
			t.Fatalf("%s does not run: %s %s", tg.Key, info.Status, info.Reason)
		}
		return m
	}
	call := func(m *host.Manager, fn func(ctx context.Context, c *sdk.Client) error) error {
		return m.Call(context.Background(), tg.Key, fn)
	}
	m := start()

	t.Run("describe", func(t *testing.T) {
		info, _ := m.Info(tg.Key)
		d := info.Description
		if d.Key != tg.Key || d.Name == "" || d.Version == "" || !slices.Contains(d.ApiVersions, sdk.APIVersion) {
			t.Errorf("description %+v: needs the key %q, a name, a version and API version %d", d, tg.Key, sdk.APIVersion)
		}
		if !slices.ContainsFunc(d.Benefits, func(b *partnerv1.Benefit) bool { return b.Key == tg.Benefit && b.Name != "" }) {
			t.Errorf("benefit %q is not described", tg.Benefit)
		}
	})
	t.Run("eligibility", func(t *testing.T) {
		err := call(m, func(ctx context.Context, c *sdk.Client) error {
			r, err := c.CheckEligibility(ctx, &partnerv1.EligibilityRequest{BenefitKey: tg.Benefit, Member: tg.Member})
			if err == nil && !r.Eligible {
				t.Errorf("the member is not eligible: %s", r.Reason)
			}
			return err
		})
		if err != nil {
			t.Error(err)
		}
	})
	// A second member, for a second grant: a partner may limit grants per member.
	other := &partnerv1.Member{ExternalId: tg.Member.GetExternalId() + "-2", TierKey: tg.Member.GetTierKey(), PlusActive: tg.Member.GetPlusActive()}
	grantTo := func(m *host.Manager, key string, member *partnerv1.Member) *partnerv1.GrantResponse {
		t.Helper()
		var g *partnerv1.GrantResponse
		err := call(m, func(ctx context.Context, c *sdk.Client) error {
			var err error
			g, err = c.Grant(ctx, &partnerv1.GrantRequest{IdempotencyKey: key, BenefitKey: tg.Benefit, Member: member, Params: tg.Params})
			return err
		})
		if err != nil {
			t.Fatalf("grant %s: %v", key, err)
		}
		return g
	}
	grant := func(m *host.Manager, key string) *partnerv1.GrantResponse {
		t.Helper()
		return grantTo(m, key, tg.Member)
	}
	stateOf := func(m *host.Manager, id string) (partnerv1.StatusResponse_State, error) {
		var st partnerv1.StatusResponse_State
		err := call(m, func(ctx context.Context, c *sdk.Client) error {
			r, err := c.Status(ctx, &partnerv1.StatusRequest{GrantId: id})
			st = r.GetState()
			return err
		})
		return st, err
	}
	first := grant(m, "conformance-1")
	t.Run("grant is idempotent", func(t *testing.T) {
		if again := grant(m, "conformance-1"); again.GrantId != first.GrantId || again.Code != first.Code {
			t.Errorf("the same key granted %s then %s", first.GrantId, again.GrantId)
		}
		if other := grantTo(m, "conformance-2", other); other.GrantId == first.GrantId {
			t.Errorf("another key returned the same grant %s", other.GrantId)
		}
	})
	t.Run("grant checks eligibility", func(t *testing.T) {
		var checks bool
		if err := call(m, func(_ context.Context, c *sdk.Client) error { checks = c.GrantChecksEligibility(); return nil }); err != nil {
			t.Fatal(err)
		}
		if !checks {
			t.Skip("the plugin does not set grant_checks_eligibility: the platform calls CheckEligibility, then Grant")
		}
		checked := func(key string, member *partnerv1.Member) (*partnerv1.GrantResponse, error) {
			var g *partnerv1.GrantResponse
			err := call(m, func(ctx context.Context, c *sdk.Client) error {
				var err error
				g, err = c.Grant(ctx, &partnerv1.GrantRequest{IdempotencyKey: key, BenefitKey: tg.Benefit, Member: member, Params: tg.Params, CheckEligibility: true})
				return err
			})
			return g, err
		}
		// A third member: the other two have grants already.
		third := &partnerv1.Member{ExternalId: tg.Member.GetExternalId() + "-3", TierKey: tg.Member.GetTierKey(), PlusActive: tg.Member.GetPlusActive()}
		g, err := checked("conformance-checked", third)
		if err != nil || g.GetGrantId() == "" {
			t.Fatalf("a checked grant to an eligible member: %v %v", g, err)
		}
		// A replay, checked or not, is the first grant: it was granted once.
		again, err := checked("conformance-checked", third)
		if err != nil || again.GrantId != g.GrantId || again.Code != g.Code {
			t.Errorf("a replayed checked grant: %v %v, first %v", again, err, g)
		}
		if plain := grantTo(m, "conformance-checked", third); plain.GrantId != g.GrantId {
			t.Errorf("an unchecked replay granted %s, the checked grant %s", plain.GrantId, g.GrantId)
		}
		if tg.Ineligible == nil {
			t.Log("no Target.Ineligible: a checked grant to a member who is not eligible is not tried")
			return
		}
		var elig *partnerv1.EligibilityResponse
		err = call(m, func(ctx context.Context, c *sdk.Client) error {
			var err error
			elig, err = c.CheckEligibility(ctx, &partnerv1.EligibilityRequest{BenefitKey: tg.Benefit, Member: tg.Ineligible})
			return err
		})
		if err != nil || elig.Eligible {
			t.Fatalf("Target.Ineligible is eligible: %v %v", elig, err)
		}
		for range 2 { // refused every time: nothing was granted the first time
			g, err := checked("conformance-refused", tg.Ineligible)
			reason, ok := sdk.IsNotEligible(err)
			if !ok || g != nil {
				t.Fatalf("a checked grant to a member who is not eligible: %v %v, want FAILED_PRECONDITION with ErrorInfo %s", g, err, sdk.ReasonNotEligible)
			}
			if reason != elig.Reason {
				t.Errorf("refused with %q, CheckEligibility says %q", reason, elig.Reason)
			}
		}
	})
	t.Run("unknown benefit", func(t *testing.T) {
		err := call(m, func(ctx context.Context, c *sdk.Client) error {
			_, err := c.Grant(ctx, &partnerv1.GrantRequest{IdempotencyKey: "conformance-x", BenefitKey: "NO_SUCH_BENEFIT", Member: tg.Member})
			return err
		})
		if code := status.Code(err); code != codes.NotFound && code != codes.InvalidArgument {
			t.Errorf("granting an unknown benefit: %v, want NotFound", err)
		}
	})
	t.Run("status and revoke", func(t *testing.T) {
		if st, err := stateOf(m, first.GrantId); err != nil || st != partnerv1.StatusResponse_STATE_ACTIVE {
			t.Fatalf("status of a new grant: %v %v", st, err)
		}
		for range 2 { // revoking twice is fine
			err := call(m, func(ctx context.Context, c *sdk.Client) error {
				_, err := c.Revoke(ctx, &partnerv1.RevokeRequest{GrantId: first.GrantId, Reason: "conformance"})
				return err
			})
			if err != nil {
				t.Fatalf("revoke: %v", err)
			}
		}
		if st, err := stateOf(m, first.GrantId); err != nil || st != partnerv1.StatusResponse_STATE_REVOKED {
			t.Errorf("status after revoke: %v %v", st, err)
		}
		if _, err := stateOf(m, "no-such-grant"); status.Code(err) != codes.NotFound {
			t.Errorf("status of an unknown grant: %v, want NotFound", err)
		}
	})
	t.Run("grants survive a restart", func(t *testing.T) {
		m.Close()
		m = start()
		if again := grant(m, "conformance-1"); again.GrantId != first.GrantId {
			t.Errorf("after a restart the same key granted %s, first %s", again.GrantId, first.GrantId)
		}
	})
	m.Close()
}

// Host is the kit's stand-in for the platform's callback service: it accepts every award
// once per idempotency key and records it, and knows every member.
//
// It grants PLUS terms as the platform does, without its rules: each a year, stacked onto
// the member's last end (or now), once per key; RefusePlus, when set, refuses every new one
// with that code.
type Host struct {
	partnerv1.UnimplementedHostServer
	mu     sync.Mutex
	awards map[string]*partnerv1.AwardPointsRequest
	plus   map[string]plusGrant // by idempotency key
	// RefusePlus is the refusal code of every new GrantPlus; empty grants them.
	RefusePlus string
}

type plusGrant struct {
	req  *partnerv1.GrantPlusRequest
	term *partnerv1.PlusTerm
}

// NewHost returns an empty Host.
func NewHost() *Host {
	return &Host{awards: map[string]*partnerv1.AwardPointsRequest{}, plus: map[string]plusGrant{}}
}

// GrantPlus grants a year of PLUS once per key, stacked onto the member's last term.
func (h *Host) GrantPlus(_ context.Context, req *partnerv1.GrantPlusRequest) (*partnerv1.GrantPlusResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.ExternalId == "" || req.Plan == "" || req.IdempotencyKey == "" {
		return nil, status.Error(codes.InvalidArgument, "external_id, plan and idempotency_key are required")
	}
	if g, seen := h.plus[req.IdempotencyKey]; seen {
		if g.req.ExternalId != req.ExternalId || g.req.Plan != req.Plan || g.req.Reference != req.Reference {
			return nil, status.Errorf(codes.AlreadyExists, "idempotency_key %q was used for another grant", req.IdempotencyKey)
		}
		return &partnerv1.GrantPlusResponse{Term: g.term, Replayed: true}, nil
	}
	if h.RefusePlus != "" {
		return &partnerv1.GrantPlusResponse{Refusal: "the kit's host refuses PLUS", RefusalCode: h.RefusePlus}, nil
	}
	start := time.Now().Unix()
	for _, g := range h.plus {
		if g.req.ExternalId == req.ExternalId && g.term.EndsAtUnix > start {
			start = g.term.EndsAtUnix
		}
	}
	term := &partnerv1.PlusTerm{Id: strconv.Itoa(len(h.plus) + 1), Plan: req.Plan, StartsAtUnix: start,
		EndsAtUnix: time.Unix(start, 0).AddDate(1, 0, 0).Unix()}
	h.plus[req.IdempotencyKey] = plusGrant{req: req, term: term}
	return &partnerv1.GrantPlusResponse{Term: term}, nil
}

// PlusTerms lists the terms granted to a member, in the order they run.
func (h *Host) PlusTerms(externalID string) []*partnerv1.PlusTerm {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*partnerv1.PlusTerm
	for _, g := range h.plus {
		if g.req.ExternalId == externalID {
			out = append(out, g.term)
		}
	}
	slices.SortFunc(out, func(a, b *partnerv1.PlusTerm) int { return int(a.StartsAtUnix - b.StartsAtUnix) })
	return out
}

// AwardPoints records the award; a repeated key is a replay.
func (h *Host) AwardPoints(_ context.Context, req *partnerv1.AwardPointsRequest) (*partnerv1.AwardPointsResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.Points <= 0 || req.IdempotencyKey == "" {
		return nil, status.Error(codes.InvalidArgument, "points must be positive and a key given")
	}
	_, seen := h.awards[req.IdempotencyKey]
	if !seen {
		h.awards[req.IdempotencyKey] = req
	}
	return &partnerv1.AwardPointsResponse{Replayed: seen}, nil
}

// ReadMember knows every member by its id.
func (h *Host) ReadMember(_ context.Context, req *partnerv1.ReadMemberRequest) (*partnerv1.ReadMemberResponse, error) {
	return &partnerv1.ReadMemberResponse{Member: &partnerv1.Member{ExternalId: req.ExternalId}}, nil
}

// Awarded sums the points awarded to a member.
func (h *Host) Awarded(externalID string) (n int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.awards {
		if a.ExternalId == externalID {
			n += a.Points
		}
	}
	return n
}

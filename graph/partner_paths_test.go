package graph_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/plugins/host"
	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk"
)

// pathRunner runs the plugin calls through the real host, on a client of its own over the
// plugin's connection: described (the plugin's Describe passed through it, so the client
// knows the plugin checks eligibility in Grant: one call per claim) or not (as with a plugin
// that does not say so: two calls). It counts the eligibility and grant calls.
type pathRunner struct {
	*host.Manager
	described bool
	mu        sync.Mutex
	rpcs      map[string]int
}

func (r *pathRunner) Call(ctx context.Context, key string, fn func(ctx context.Context, c *sdk.Client) error) error {
	return r.Manager.Call(ctx, key, func(ctx context.Context, c *sdk.Client) error {
		own := &sdk.Client{PartnerClient: countingClient{c.PartnerClient, r}}
		if r.described {
			if _, err := own.Describe(ctx, &partnerv1.DescribeRequest{}); err != nil {
				return err
			}
		}
		return fn(ctx, own)
	})
}

func (r *pathRunner) count(rpc string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rpcs[rpc]++
}

type countingClient struct {
	partnerv1.PartnerClient
	r *pathRunner
}

func (c countingClient) CheckEligibility(ctx context.Context, in *partnerv1.EligibilityRequest, opts ...grpc.CallOption) (*partnerv1.EligibilityResponse, error) {
	c.r.count("CheckEligibility")
	return c.PartnerClient.CheckEligibility(ctx, in, opts...)
}

func (c countingClient) Grant(ctx context.Context, in *partnerv1.GrantRequest, opts ...grpc.CallOption) (*partnerv1.GrantResponse, error) {
	c.r.count("Grant")
	if in.CheckEligibility {
		c.r.count("Grant+check")
	}
	return c.PartnerClient.Grant(ctx, in, opts...)
}

// TestClaimOnePathOrTwo: a claim on a plugin that checks eligibility in Grant (one call) and
// on one that does not say so (CheckEligibility, then Grant) has the same outcome — granted,
// not eligible, refused by the grant itself (a FAILED_PRECONDITION of its own among them),
// replayed — with the same grant, detail and user error.
func TestClaimOnePathOrTwo(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { claimOnePathOrTwo(t, b) })
	}
}

func claimOnePathOrTwo(t *testing.T, b storetest.Backend) {
	outcomes := map[bool][]string{}
	for _, described := range []bool{false, true} {
		t.Run(fmt.Sprintf("described=%v", described), func(t *testing.T) {
			a, mgr, svc := newPartnerAPI(t, storetest.Open(t, b))
			r := &pathRunner{Manager: mgr, described: described, rpcs: map[string]int{}}
			svc.SetRunner(r)
			a.register("alice", nil)
			alice := a.token(auth.RoleMember, "alice")
			for _, c := range []struct {
				partner, benefit, key string
				params                map[string]string
			}{
				{"videovip", "VIP_YEAR", "v1", nil}, // not eligible
				{"videovip", "VIP_YEAR", "v1", nil}, // its replay
				{"cobrandcard", "CARD_LINK", "c1", map[string]string{"token": "4111111111111111", "last4": "1111"}}, // the grant refuses
				{"pointsexchange", "AIRLINE_MILES", "p1", map[string]string{"amount": "100000000"}},                 // the grant's own FAILED_PRECONDITION
				{"cobrandcard", "CARD_LINK", "c2", map[string]string{"token": "tok_9f8e7d6c", "last4": "4242"}},     // granted
				{"cobrandcard", "CARD_LINK", "c2", map[string]string{"token": "tok_9f8e7d6c", "last4": "4242"}},     // its replay
			} {
				g, replayed, ue := a.claim(alice, "alice", c.partner, c.benefit, c.key, c.params)
				outcomes[described] = append(outcomes[described], fmt.Sprintf("%s %s: %s %q %q replayed=%v %s %q",
					c.partner, c.key, g.Status, g.Code, g.Detail, replayed, ue.Code, ue.Message))
			}
			// Six claims, two replayed from the platform's record: four reached the plugin,
			// and three of them, the eligible ones, its Grant.
			want := map[string]int{"CheckEligibility": 4, "Grant": 3}
			if described {
				want = map[string]int{"Grant": 4, "Grant+check": 4}
			}
			if fmt.Sprint(r.rpcs) != fmt.Sprint(want) {
				t.Errorf("calls %v, want %v", r.rpcs, want)
			}
		})
	}
	if t.Failed() {
		return
	}
	for i := range outcomes[false] {
		if outcomes[false][i] != outcomes[true][i] {
			t.Errorf("two calls: %s\n one call: %s", outcomes[false][i], outcomes[true][i])
		}
	}
	t.Logf("outcomes:\n%s", strings.Join(outcomes[true], "\n"))
}

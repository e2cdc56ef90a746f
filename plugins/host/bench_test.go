package host_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/membergraph/membergraph/plugins/host"
	"github.com/membergraph/membergraph/plugins/internal/testpartner"
	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk"
)

// reportLatencies adds p50 and p99 of the samples to the benchmark's output.
func reportLatencies(b *testing.B, samples []time.Duration) {
	slices.Sort(samples)
	at := func(q float64) float64 { return float64(samples[int(q*float64(len(samples)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkGrantThroughHost is a (replayed) grant through the host: deadline, concurrency
// limit and breaker, gRPC over the AutoMTLS connection to the plugin process, and back.
func BenchmarkGrantThroughHost(b *testing.B) {
	m := startBench(b)
	req := &partnerv1.GrantRequest{IdempotencyKey: "bench", BenefitKey: "FAST", Member: &partnerv1.Member{ExternalId: "alice"}}
	latencies(b, func() error {
		return m.Call(context.Background(), "bench", func(ctx context.Context, c *sdk.Client) error {
			_, err := c.Grant(ctx, req)
			return err
		})
	})
}

// startBench starts a host running the bench partner, closed when b ends.
func startBench(b *testing.B) *host.Manager {
	m, err := host.Start(context.Background(), host.Config{Dir: pluginDir(&testing.T{}, "bench"), Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(m.Close)
	return m
}

// latencies makes call once untimed (a first grant writes; the measured ones replay it), then
// b.N times timed, and reports p50 and p99.
func latencies(b *testing.B, call func() error) {
	if err := call(); err != nil {
		b.Fatal(err)
	}
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t := time.Now()
		if err := call(); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(t))
	}
	reportLatencies(b, samples)
}

// BenchmarkClaimThroughHost is a whole claim's plugin calls through the host, as the
// platform makes them (internal/partner): "two-calls" is CheckEligibility then the (replayed)
// Grant in one Call, what a plugin that does not set grant_checks_eligibility gets;
// "one-call" is the Grant with check_eligibility that the SDK's plugins get.
func BenchmarkClaimThroughHost(b *testing.B) {
	m := startBench(b)
	member := &partnerv1.Member{ExternalId: "alice"}
	twoCalls := func(ctx context.Context, c *sdk.Client) error {
		e, err := c.CheckEligibility(ctx, &partnerv1.EligibilityRequest{BenefitKey: "FAST", Member: member})
		if err != nil || !e.Eligible {
			return fmt.Errorf("eligibility: %v %v", e, err)
		}
		_, err = c.Grant(ctx, &partnerv1.GrantRequest{IdempotencyKey: "bench-claim", BenefitKey: "FAST", Member: member})
		return err
	}
	oneCall := func(ctx context.Context, c *sdk.Client) error {
		if !c.GrantChecksEligibility() {
			return errors.New("the SDK's plugin does not say it checks eligibility in Grant")
		}
		_, err := c.Grant(ctx, &partnerv1.GrantRequest{IdempotencyKey: "bench-claim", BenefitKey: "FAST", Member: member, CheckEligibility: true})
		return err
	}
	for _, bc := range []struct {
		name string
		fn   func(ctx context.Context, c *sdk.Client) error
	}{{"two-calls", twoCalls}, {"one-call", oneCall}} {
		b.Run(bc.name, func(b *testing.B) {
			latencies(b, func() error { return m.Call(context.Background(), "bench", bc.fn) })
		})
	}
}

// BenchmarkBareGrant is the same grant on the plugin's gRPC connection, without the host's
// deadline, limits and breaker: the round trip alone.
func BenchmarkBareGrant(b *testing.B) {
	rpc := startBench(b).RPC("bench")
	req := &partnerv1.GrantRequest{IdempotencyKey: "bench", BenefitKey: "FAST", Member: &partnerv1.Member{ExternalId: "alice"}}
	latencies(b, func() error {
		_, err := rpc.Grant(context.Background(), req)
		return err
	})
}

// BenchmarkGrantInProcess is the same grant on the same implementation, called directly.
func BenchmarkGrantInProcess(b *testing.B) {
	p := testpartner.New("bench")
	if err := p.Configure(context.Background(), sdk.Config{StateDir: b.TempDir()}, nil); err != nil {
		b.Fatal(err)
	}
	req := &partnerv1.GrantRequest{IdempotencyKey: "bench", BenefitKey: "FAST", Member: &partnerv1.Member{ExternalId: "alice"}}
	latencies(b, func() error {
		_, err := p.Grant(context.Background(), req)
		return err
	})
}

// BenchmarkPluginStart is a plugin's start: verify the checksum, exec, handshake with
// AutoMTLS, describe and configure, until RUNNING.
func BenchmarkPluginStart(b *testing.B) {
	dir := pluginDir(&testing.T{}, "bench")
	samples := make([]time.Duration, 0, b.N)
	for range b.N {
		t := time.Now()
		m, err := host.Start(context.Background(), host.Config{Dir: dir, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(t))
		if info, _ := m.Info("bench"); info.Status != host.Running {
			b.Fatalf("not running: %+v", info)
		}
		m.Close()
	}
	reportLatencies(b, samples)
}

// BenchmarkRestartAfterKill is the time from kill -9 of a plugin to RUNNING again.
func BenchmarkRestartAfterKill(b *testing.B) {
	m := startBench(b)
	samples := make([]time.Duration, 0, b.N)
	for range b.N {
		pid := m.PID("bench")
		t := time.Now()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		for {
			if info, _ := m.Info("bench"); info.Status == host.Running && m.PID("bench") != pid && m.PID("bench") != 0 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		samples = append(samples, time.Since(t))
	}
	reportLatencies(b, samples)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Package sdk is what a partner imports to build a benefit plugin for membergraph: implement
// Partner, call Serve from main, and run sdktest.Run in the partner's own tests. The plugin
// runs as a separate process speaking gRPC through github.com/hashicorp/go-plugin; the
// platform starts, verifies and supervises it.
package sdk

import (
	"context"
	"errors"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
)

// APIVersion is the protocol version this SDK speaks; go-plugin negotiates it at start.
const APIVersion = 1

// PluginName is the name of the partner plugin in go-plugin's plugin set.
const PluginName = "partner"

// Handshake is the go-plugin handshake: a binary started without it (by hand, say) says so
// and exits instead of waiting for a host.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  APIVersion,
	MagicCookieKey:   "MEMBERGRAPH_PARTNER_PLUGIN",
	MagicCookieValue: "2f6d1c0e-membergraph-partner",
}

// Errors a Partner returns for outcomes the platform shows a member; anything else is a
// fault. They travel as gRPC status codes.
var (
	// ErrNotEligible: the member may not have the benefit (the message says why).
	ErrNotEligible = errors.New("not eligible")
	// ErrUnknownBenefit: the partner offers no benefit of that key.
	ErrUnknownBenefit = errors.New("unknown benefit")
	// ErrUnknownGrant: no grant has that id.
	ErrUnknownGrant = errors.New("unknown grant")
	// ErrInvalid: the request or the configuration is malformed.
	ErrInvalid = errors.New("invalid request")
)

// Partner is a partner's benefit provider. The platform calls it from several goroutines at
// once and bounds every call by a deadline (ctx); a call that outlives it has failed.
//
// Grant must be idempotent: the same IdempotencyKey returns the first result and grants
// nothing more, also after the plugin restarted, so a partner keeps its grants in StateDir
// (or its own back end). Revoke of a revoked grant succeeds. Status of an unknown grant
// returns ErrUnknownGrant.
type Partner interface {
	Describe(ctx context.Context) (*partnerv1.DescribeResponse, error)
	// Configure is called after start and whenever an admin changes the configuration;
	// host is the platform's callback service (nil when there is none, in tests).
	Configure(ctx context.Context, cfg Config, host Host) error
	CheckEligibility(ctx context.Context, req *partnerv1.EligibilityRequest) (*partnerv1.EligibilityResponse, error)
	Grant(ctx context.Context, req *partnerv1.GrantRequest) (*partnerv1.GrantResponse, error)
	Revoke(ctx context.Context, req *partnerv1.RevokeRequest) error
	Status(ctx context.Context, req *partnerv1.StatusRequest) (*partnerv1.StatusResponse, error)
}

// Reporter is implemented by a partner that accepts activity from its back office (card
// spend, say) and awards points for it through Host. Report must be idempotent per key.
type Reporter interface {
	Report(ctx context.Context, req *partnerv1.ReportRequest) (*partnerv1.ReportResponse, error)
}

// Notifier is implemented by a partner that tells members things on its own channel (an
// app push, an SMS): a campaign's NOTIFY action. Notify must be idempotent per
// req.IdempotencyKey — the same (campaign, run, member) — also across restarts, so a
// retry after a crash between the platform's record and the answer sends nothing twice.
type Notifier interface {
	Notify(ctx context.Context, req *partnerv1.NotifyRequest) (*partnerv1.NotifyResponse, error)
}

// Config is a partner's settings, as an admin set them, and its state directory.
type Config struct {
	Values   map[string]string
	StateDir string
}

// Host is the platform's narrow callback service.
type Host interface {
	// AwardPoints credits points from the partner's own budget to a member it has granted
	// to; idempotent per key; never beyond the budget.
	AwardPoints(ctx context.Context, req *partnerv1.AwardPointsRequest) (*partnerv1.AwardPointsResponse, error)
	// ReadMember reads a member the partner has granted to.
	ReadMember(ctx context.Context, externalID string) (*partnerv1.Member, error)
}

// Procs is the GOMAXPROCS Serve gives the plugin process (0 keeps Go's default). A plugin is
// a small single-purpose process: on one P the hand-offs between its gRPC server's goroutines
// stay on one thread instead of waking another, which cost about 20 µs of each call on a
// two-core machine shared with the platform (docs/benchmarks.md). A partner with CPU-bound
// work to run in parallel sets it before Serve.
var Procs = 1

// Serve runs impl as a plugin until the platform stops it. It exits when the platform's
// process is gone, even if the platform was killed without a chance to stop it.
func Serve(impl Partner) {
	if Procs > 0 {
		runtime.GOMAXPROCS(Procs)
	}
	go exitWithParent()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{APIVersion: {PluginName: &GRPCPlugin{Impl: impl}}},
		GRPCServer:       newGRPCServer,
	})
}

// newGRPCServer is the plugin's gRPC server, on go-plugin's options (AutoMTLS among them),
// tuned for many small calls from one host.
func newGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(append(opts,
		// Fixed flow-control windows turn off BDP estimation, whose pings added frames (and
		// wake-ups) to calls; the messages are small, so the window never limits them.
		grpc.InitialWindowSize(WindowSize), grpc.InitialConnWindowSize(WindowSize),
		// Long-lived workers take the calls: no new goroutine, and no stack growth, per call.
		grpc.NumStreamWorkers(4),
	)...)
}

// WindowSize is the fixed HTTP/2 flow-control window of the partner connection, set on both
// ends (the host dials with it).
const WindowSize = 1 << 20

// exitWithParent ends the plugin once it is re-parented: the platform has died.
func exitWithParent() {
	parent := os.Getppid()
	for range time.Tick(250 * time.Millisecond) {
		if os.Getppid() != parent {
			os.Exit(3)
		}
	}
}

// GRPCPlugin is the go-plugin glue of the partner protocol, on both sides.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Partner // plugin side only
}

// GRPCServer serves Impl in the plugin.
func (p *GRPCPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	partnerv1.RegisterPartnerServer(s, &server{impl: p.Impl, broker: broker})
	return nil
}

// GRPCClient is the platform's side: a Client.
func (p *GRPCPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Client{PartnerClient: partnerv1.NewPartnerClient(c), broker: broker}, nil
}

// Client is the platform's handle on a running plugin.
type Client struct {
	partnerv1.PartnerClient
	broker *plugin.GRPCBroker
	desc   atomic.Pointer[partnerv1.DescribeResponse]
}

// Describe asks the plugin who it is and keeps the answer: what the plugin on this
// connection can do (GrantChecksEligibility) is what it said here.
func (c *Client) Describe(ctx context.Context, in *partnerv1.DescribeRequest, opts ...grpc.CallOption) (*partnerv1.DescribeResponse, error) {
	r, err := c.PartnerClient.Describe(ctx, in, opts...)
	if err == nil && r != nil {
		c.desc.Store(r)
	}
	return r, err
}

// GrantChecksEligibility reports whether the plugin behind this client said in Describe that
// it honours GrantRequest.check_eligibility; false before it was described. The platform
// sends a claim as one Grant only then, and as CheckEligibility then Grant otherwise.
func (c *Client) GrantChecksEligibility() bool {
	return c.desc.Load().GetGrantChecksEligibility()
}

// OffersNotify reports whether the plugin behind this client said in Describe that it
// serves Notify; false before it was described.
func (c *Client) OffersNotify() bool {
	return c.desc.Load().GetOffersNotify()
}

// ServeHost serves h to the plugin through the broker and returns the id to pass in
// ConfigureRequest.host_broker_id.
func (c *Client) ServeHost(h partnerv1.HostServer) uint32 {
	id := c.broker.NextId()
	go c.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		partnerv1.RegisterHostServer(s, h)
		return s
	})
	return id
}

// server adapts a Partner to the gRPC service, mapping the SDK's errors to status codes.
type server struct {
	partnerv1.UnimplementedPartnerServer
	impl   Partner
	broker *plugin.GRPCBroker
}

func (s *server) Describe(ctx context.Context, _ *partnerv1.DescribeRequest) (*partnerv1.DescribeResponse, error) {
	r, err := s.impl.Describe(ctx)
	if err != nil || r == nil {
		return r, toStatus(err)
	}
	// The adapter honours check_eligibility for every partner (Grant below); a copy, so the
	// partner's own (perhaps shared) description is not written to.
	r = proto.CloneOf(r)
	r.GrantChecksEligibility = true
	_, r.OffersNotify = s.impl.(Notifier)
	return r, nil
}

func (s *server) Configure(ctx context.Context, req *partnerv1.ConfigureRequest) (*partnerv1.ConfigureResponse, error) {
	var host Host
	if req.HostBrokerId != 0 {
		conn, err := s.broker.Dial(req.HostBrokerId)
		if err != nil {
			return nil, status.Errorf(codes.Unavailable, "dialing the host: %v", err)
		}
		host = hostClient{partnerv1.NewHostClient(conn)}
	}
	return &partnerv1.ConfigureResponse{}, toStatus(s.impl.Configure(ctx, Config{Values: req.Config, StateDir: req.StateDir}, host))
}

func (s *server) CheckEligibility(ctx context.Context, req *partnerv1.EligibilityRequest) (*partnerv1.EligibilityResponse, error) {
	r, err := s.impl.CheckEligibility(ctx, req)
	return r, toStatus(err)
}

// Grant with check_eligibility runs the partner's CheckEligibility first, in process, on
// every attempt: what the platform's CheckEligibility call before each Grant did. A member who
// is not eligible gets NotEligible's status and the partner's Grant is not called.
func (s *server) Grant(ctx context.Context, req *partnerv1.GrantRequest) (*partnerv1.GrantResponse, error) {
	if req.CheckEligibility {
		e, err := s.impl.CheckEligibility(ctx, &partnerv1.EligibilityRequest{BenefitKey: req.BenefitKey, Member: req.Member})
		if err != nil {
			return nil, toStatus(err)
		}
		if !e.GetEligible() {
			return nil, NotEligible(e.GetReason())
		}
	}
	r, err := s.impl.Grant(ctx, req)
	return r, toStatus(err)
}

func (s *server) Revoke(ctx context.Context, req *partnerv1.RevokeRequest) (*partnerv1.RevokeResponse, error) {
	return &partnerv1.RevokeResponse{}, toStatus(s.impl.Revoke(ctx, req))
}

func (s *server) Status(ctx context.Context, req *partnerv1.StatusRequest) (*partnerv1.StatusResponse, error) {
	r, err := s.impl.Status(ctx, req)
	return r, toStatus(err)
}

func (s *server) Report(ctx context.Context, req *partnerv1.ReportRequest) (*partnerv1.ReportResponse, error) {
	r, ok := s.impl.(Reporter)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "this partner takes no reports")
	}
	res, err := r.Report(ctx, req)
	return res, toStatus(err)
}

func (s *server) Notify(ctx context.Context, req *partnerv1.NotifyRequest) (*partnerv1.NotifyResponse, error) {
	n, ok := s.impl.(Notifier)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "this partner sends no notifications")
	}
	res, err := n.Notify(ctx, req)
	return res, toStatus(err)
}

type hostClient struct{ c partnerv1.HostClient }

func (h hostClient) AwardPoints(ctx context.Context, req *partnerv1.AwardPointsRequest) (*partnerv1.AwardPointsResponse, error) {
	return h.c.AwardPoints(ctx, req)
}

func (h hostClient) ReadMember(ctx context.Context, externalID string) (*partnerv1.Member, error) {
	r, err := h.c.ReadMember(ctx, &partnerv1.ReadMemberRequest{ExternalId: externalID})
	if err != nil {
		return nil, err
	}
	return r.Member, nil
}

// The google.rpc.ErrorInfo of a Grant that check_eligibility refused (partner.proto).
const (
	ReasonNotEligible = "NOT_ELIGIBLE"
	ErrorDomain       = "partner.v1.membergraph"
)

// NotEligible is the answer to a Grant with check_eligibility for a member who is not
// eligible: FAILED_PRECONDITION, the reason as its message and an ErrorInfo that tells it
// from a Grant's own FAILED_PRECONDITION refusals. A plugin in another language sends the same.
func NotEligible(reason string) error {
	st, err := status.New(codes.FailedPrecondition, reason).WithDetails(&errdetails.ErrorInfo{Reason: ReasonNotEligible, Domain: ErrorDomain})
	if err != nil { // only for a detail that cannot be marshalled, which ErrorInfo always can
		return status.Error(codes.Internal, err.Error())
	}
	return st.Err()
}

// IsNotEligible reports whether err is NotEligible's answer, and gives its reason.
func IsNotEligible(err error) (reason string, ok bool) {
	st, isStatus := status.FromError(err)
	if err == nil || !isStatus || st.Code() != codes.FailedPrecondition {
		return "", false
	}
	for _, d := range st.Details() {
		if info, isInfo := d.(*errdetails.ErrorInfo); isInfo && info.Reason == ReasonNotEligible && info.Domain == ErrorDomain {
			return st.Message(), true
		}
	}
	return "", false
}

var codeOf = []struct {
	err  error
	code codes.Code
}{
	{ErrNotEligible, codes.FailedPrecondition},
	{ErrUnknownBenefit, codes.NotFound},
	{ErrUnknownGrant, codes.NotFound},
	{ErrInvalid, codes.InvalidArgument},
}

func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	for _, c := range codeOf {
		if errors.Is(err, c.err) {
			return status.Error(c.code, err.Error())
		}
	}
	return status.Error(codes.Internal, err.Error())
}

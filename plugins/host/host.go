// Package host starts, verifies and supervises partner plugins: it finds executables in the
// plugin directory, starts only those whose SHA-256 the trusted catalogue names, over gRPC
// with automatic mTLS and without the server's environment, and keeps them running: health
// checks, restart with backoff, a deadline on every call, a circuit breaker and a
// concurrency limit per partner, stderr logged under the partner's key, and no orphans (a
// plugin built on the SDK exits when the server's process is gone, however it ended).
package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk"
)

// Status is a partner's state as operators see it.
type Status string

// The states.
const (
	Running    Status = "RUNNING"
	Restarting Status = "RESTARTING"
	Failed     Status = "FAILED"
	Disabled   Status = "DISABLED"
)

// Errors of calls through the host.
var (
	ErrUntrusted   = errors.New("not the trusted build")
	ErrUnknown     = errors.New("no such partner")
	ErrUnavailable = errors.New("partner unavailable")
	ErrCircuitOpen = errors.New("partner circuit open after repeated failures")
	ErrBusy        = errors.New("partner at its concurrency limit")
)

// Config configures a Manager. Zero fields take the defaults of withDefaults.
type Config struct {
	// Dir holds the plugin executables and the trusted catalogue.
	Dir string
	// StateDir holds a directory per partner that survives restarts and rebuilds. Servers
	// set it outside the build output (membergraph: STATE_DIR/plugins); the default Dir/state
	// is for tests, where Dir is a temporary directory.
	StateDir string
	// CallTimeout bounds every call to a plugin (default 3 s).
	CallTimeout time.Duration
	// StartTimeout bounds a plugin's start and handshake (default 10 s).
	StartTimeout time.Duration
	// MaxConcurrent calls per partner (default 16).
	MaxConcurrent int
	// BreakerFailures consecutive failed calls open the circuit for BreakerCooldown
	// (defaults 5 and 10 s), or until the plugin is restarted and answers again.
	BreakerFailures int
	BreakerCooldown time.Duration
	// HealthEvery is how often a running plugin is checked (default 100 ms).
	HealthEvery time.Duration
	// MaxBackoff caps the wait between restarts (default 5 s); the first restart is at once.
	MaxBackoff time.Duration
	// FailAfter consecutive failed starts mark the partner FAILED (default 3); it is still
	// retried every MaxBackoff.
	FailAfter int
	// Host serves the callback service to the named partner; nil offers none.
	Host func(key string) partnerv1.HostServer
	// Settings returns an enabled flag and the configuration of a partner (default: enabled,
	// no configuration).
	Settings func(key string) (enabled bool, cfg map[string]string)
	Logger   *slog.Logger
}

func (c *Config) withDefaults() {
	if c.StateDir == "" {
		c.StateDir = filepath.Join(c.Dir, "state")
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 3 * time.Second
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 10 * time.Second
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = 16
	}
	if c.BreakerFailures <= 0 {
		c.BreakerFailures = 5
	}
	if c.BreakerCooldown <= 0 {
		c.BreakerCooldown = 10 * time.Second
	}
	if c.HealthEvery <= 0 {
		c.HealthEvery = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.FailAfter <= 0 {
		c.FailAfter = 3
	}
	if c.Settings == nil {
		c.Settings = func(string) (bool, map[string]string) { return true, nil }
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Manager runs the partners of one plugin directory.
type Manager struct {
	cfg      Config
	mu       sync.Mutex
	partners map[string]*Partner
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

// Info is a partner as operators see it.
type Info struct {
	Key         string
	File        string
	Status      Status
	Reason      string // why FAILED, RESTARTING or DISABLED
	Description *partnerv1.DescribeResponse
	Restarts    int
	// Calls counts the calls since start by outcome: ok, refused (the partner said no),
	// fault, timeout, unavailable (not running), circuit_open or busy.
	Calls map[string]uint64
	// CallSeconds is the time spent in the calls that reached the plugin.
	CallSeconds float64
}

// Start discovers the plugin directory and starts every trusted executable; it returns once
// each has started or failed its first start. Untrusted executables are listed FAILED.
func Start(ctx context.Context, cfg Config) (*Manager, error) {
	// Plugins run in their state directory, so the paths must not be relative.
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cfg.Dir = dir
	if cfg.StateDir != "" {
		if cfg.StateDir, err = filepath.Abs(cfg.StateDir); err != nil {
			return nil, err
		}
	}
	cfg.withDefaults()
	cat, err := LoadCatalogue(cfg.Dir)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	m := &Manager{cfg: cfg, partners: map[string]*Partner{}, stop: stop}
	var started []chan struct{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
			continue
		}
		name := e.Name()
		key := strings.TrimSuffix(name, filepath.Ext(name))
		p := &Partner{m: m, key: key, file: filepath.Join(cfg.Dir, name), sem: make(chan struct{}, cfg.MaxConcurrent),
			status: Restarting, ready: make(chan struct{}), reconf: make(chan struct{}, 1)}
		m.partners[key] = p
		want, trusted := cat[name]
		if !trusted {
			p.fail(fmt.Sprintf("%s is not in the trusted catalogue (membergraph plugins trust %s)", name, name))
			continue
		}
		if got, err := FileSHA256(p.file); err != nil || got != want {
			p.fail(fmt.Sprintf("%s: %v", name, ErrUntrusted))
			continue
		}
		p.sum = want
		started = append(started, p.ready)
		m.wg.Add(1)
		go p.supervise(ctx)
	}
	for _, ch := range started {
		select {
		case <-ch:
		case <-time.After(cfg.StartTimeout + time.Second):
		}
	}
	return m, nil
}

// Close stops every plugin and waits for their supervisors.
func (m *Manager) Close() {
	m.stop()
	m.wg.Wait()
}

// Partners lists the partners by key.
func (m *Manager) Partners() []Info {
	m.mu.Lock()
	keys := make([]string, 0, len(m.partners))
	for k := range m.partners {
		keys = append(keys, k)
	}
	m.mu.Unlock()
	sort.Strings(keys)
	out := make([]Info, len(keys))
	for i, k := range keys {
		out[i] = m.partner(k).info()
	}
	return out
}

func (m *Manager) partner(key string) *Partner {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.partners[key]
}

// Info is one partner's state.
func (m *Manager) Info(key string) (Info, error) {
	p := m.partner(key)
	if p == nil {
		return Info{}, fmt.Errorf("%w %q", ErrUnknown, key)
	}
	return p.info(), nil
}

// Reconfigure sends a running partner its settings again (after an admin changed them)
// before it returns; a partner switched off is stopped, one switched on is started.
func (m *Manager) Reconfigure(ctx context.Context, key string) error {
	p := m.partner(key)
	if p == nil {
		return fmt.Errorf("%w %q", ErrUnknown, key)
	}
	enabled, _ := m.cfg.Settings(key)
	if p.info().Status == Running && enabled {
		return p.configure(ctx)
	}
	select {
	case p.reconf <- struct{}{}:
	default:
	}
	return nil
}

// Call runs fn against the partner's plugin under the call deadline, the concurrency limit
// and the circuit breaker. Errors of fn are the plugin's, as gRPC statuses.
func (m *Manager) Call(ctx context.Context, key string, fn func(ctx context.Context, c *sdk.Client) error) error {
	p := m.partner(key)
	if p == nil {
		return fmt.Errorf("%w %q", ErrUnknown, key)
	}
	return p.call(ctx, fn)
}

// OffersNotify reports whether the partner of key said, when it last started, that it
// serves Notify (ErrUnknown when there is no such partner). A partner not running now
// answers what its last start said, false if it never started.
func (m *Manager) OffersNotify(key string) (bool, error) {
	info, err := m.Info(key)
	if err != nil {
		return false, err
	}
	return info.Description.GetOffersNotify(), nil
}

// Notify sends req to the partner of key through Call: its deadline, concurrency limit and
// circuit breaker.
func (m *Manager) Notify(ctx context.Context, key string, req *partnerv1.NotifyRequest) (*partnerv1.NotifyResponse, error) {
	var res *partnerv1.NotifyResponse
	err := m.Call(ctx, key, func(ctx context.Context, c *sdk.Client) (err error) {
		res, err = c.Notify(ctx, req)
		return err
	})
	return res, err
}

// Partner is one supervised plugin.
type Partner struct {
	m    *Manager
	key  string
	file string
	sum  string
	sem  chan struct{}

	mu        sync.Mutex
	status    Status
	reason    string
	client    *plugin.Client
	rpc       *sdk.Client
	desc      *partnerv1.DescribeResponse
	restarts  int
	failures  int // consecutive failed calls
	openUntil time.Time
	calls     map[string]uint64
	callTime  time.Duration
	ready     chan struct{} // closed after the first start attempt
	readyOnce sync.Once
	reconf    chan struct{} // an admin switched or reconfigured the partner
}

func (p *Partner) info() Info {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Info{Key: p.key, File: filepath.Base(p.file), Status: p.status, Reason: p.reason, Description: p.desc, Restarts: p.restarts,
		Calls: maps.Clone(p.calls), CallSeconds: p.callTime.Seconds()}
}

func (p *Partner) set(s Status, reason string) {
	p.mu.Lock()
	p.status, p.reason = s, reason
	p.mu.Unlock()
	if s != Restarting {
		p.readyOnce.Do(func() { close(p.ready) })
	}
}

// up marks a started plugin RUNNING. Its start answered describe and configure, its first
// health check: a circuit opened by the calls that failed while the previous process died
// is closed in the same step, so calls succeed as soon as the status says RUNNING instead
// of being refused for the rest of BreakerCooldown.
func (p *Partner) up() {
	p.mu.Lock()
	p.failures, p.openUntil = 0, time.Time{}
	p.mu.Unlock()
	p.set(Running, "")
}

func (p *Partner) fail(reason string) {
	p.m.cfg.Logger.Error("partner plugin failed", "partner", p.key, "reason", reason)
	p.set(Failed, reason)
}

// supervise starts the plugin and restarts it whenever it dies, until ctx ends.
func (p *Partner) supervise(ctx context.Context) {
	defer p.m.wg.Done()
	backoff, failedStarts := time.Duration(0), 0
	for ctx.Err() == nil {
		if enabled, _ := p.m.cfg.Settings(p.key); !enabled {
			p.set(Disabled, "disabled by an admin")
			if !p.wait(ctx, time.Hour) {
				return
			}
			continue
		}
		err := p.start(ctx)
		if err != nil {
			failedStarts++
			if failedStarts >= p.m.cfg.FailAfter {
				p.fail(err.Error())
			} else {
				p.set(Restarting, err.Error())
			}
			backoff = min(max(backoff*2, 50*time.Millisecond), p.m.cfg.MaxBackoff)
			if !p.wait(ctx, backoff) {
				return
			}
			continue
		}
		failedStarts, backoff = 0, 0
		p.up()
		reason := p.watch(ctx)
		if ctx.Err() != nil {
			p.stopPlugin()
			return
		}
		// RESTARTING before the process is let go, so the status never says RUNNING of a
		// partner that has no process.
		p.set(Restarting, reason)
		p.stopPlugin()
		p.mu.Lock()
		p.restarts++
		p.mu.Unlock()
		p.m.cfg.Logger.Warn("partner plugin restarting", "partner", p.key, "reason", reason)
	}
}

// wait sleeps d, or less when an admin reconfigures; false when ctx ended.
func (p *Partner) wait(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
	case <-p.reconf:
	}
	return true
}

// watch returns when the plugin should be restarted, and why.
func (p *Partner) watch(ctx context.Context) string {
	t := time.NewTicker(p.m.cfg.HealthEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return "shutting down"
		case <-p.reconf:
			if enabled, _ := p.m.cfg.Settings(p.key); !enabled {
				return "disabled by an admin"
			}
		case <-t.C:
			p.mu.Lock()
			c := p.client
			p.mu.Unlock()
			if c.Exited() {
				return "the plugin process exited"
			}
			proto, err := c.Client()
			if err == nil {
				err = proto.Ping()
			}
			if err != nil {
				return "health check: " + err.Error()
			}
		}
	}
}

// start launches the plugin, verifies and negotiates, then describes and configures it.
func (p *Partner) start(ctx context.Context) error {
	sum, _ := hex.DecodeString(p.sum)
	cmd := exec.Command(p.file)
	// No inherited environment: a partner never sees database credentials or secrets.
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + p.stateDir()}
	cmd.Dir = p.stateDir()
	if err := os.MkdirAll(cmd.Dir, 0o700); err != nil {
		return err
	}
	// No Pdeathsig: the kernel sends it when the OS thread that forked the plugin ends,
	// and Go may end threads (a goroutine that locked its thread and returned), which
	// killed healthy plugins. The SDK's parent watch ends a plugin whose server is gone.
	c := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{sdk.APIVersion: {sdk.PluginName: &sdk.GRPCPlugin{}}},
		Cmd:              cmd,
		SecureConfig:     &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     p.m.cfg.StartTimeout,
		Stderr:           &lineLogger{log: p.m.cfg.Logger.With("partner", p.key)},
		Logger:           hclog.New(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Off}),
		// The SDK's server sets the same fixed windows: no BDP pings on the calls.
		GRPCDialOptions: []grpc.DialOption{grpc.WithInitialWindowSize(sdk.WindowSize), grpc.WithInitialConnWindowSize(sdk.WindowSize)},
	})
	proto, err := c.Client()
	if err != nil {
		c.Kill()
		return fmt.Errorf("starting %s: %w", filepath.Base(p.file), err)
	}
	raw, err := proto.Dispense(sdk.PluginName)
	if err != nil {
		c.Kill()
		return fmt.Errorf("dispensing %s: %w", filepath.Base(p.file), err)
	}
	p.mu.Lock()
	p.client, p.rpc = c, raw.(*sdk.Client)
	p.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, p.m.cfg.CallTimeout)
	defer cancel()
	desc, err := p.rpc.Describe(cctx, &partnerv1.DescribeRequest{})
	if err == nil && desc.Key != p.key {
		err = fmt.Errorf("the plugin says it is %q, its file says %q", desc.Key, p.key)
	}
	if err != nil {
		p.stopPlugin()
		return fmt.Errorf("describe: %w", err)
	}
	p.mu.Lock()
	p.desc = desc
	p.mu.Unlock()
	if err := p.configure(ctx); err != nil {
		p.stopPlugin()
		return fmt.Errorf("configure: %w", err)
	}
	return nil
}

func (p *Partner) configure(ctx context.Context) error {
	_, values := p.m.cfg.Settings(p.key)
	p.mu.Lock()
	rpc := p.rpc
	p.mu.Unlock()
	req := &partnerv1.ConfigureRequest{Config: values, StateDir: p.stateDir()}
	if p.m.cfg.Host != nil {
		req.HostBrokerId = rpc.ServeHost(p.m.cfg.Host(p.key))
	}
	cctx, cancel := context.WithTimeout(ctx, p.m.cfg.CallTimeout)
	defer cancel()
	_, err := rpc.Configure(cctx, req)
	return err
}

func (p *Partner) stateDir() string { return filepath.Join(p.m.cfg.StateDir, p.key) }

func (p *Partner) stopPlugin() {
	p.mu.Lock()
	c := p.client
	p.client, p.rpc = nil, nil
	p.mu.Unlock()
	if c != nil {
		c.Kill()
	}
}

// call runs fn under the partner's limits.
func (p *Partner) call(ctx context.Context, fn func(ctx context.Context, c *sdk.Client) error) error {
	p.mu.Lock()
	st, reason, rpc, open := p.status, p.reason, p.rpc, time.Now().Before(p.openUntil)
	p.mu.Unlock()
	switch {
	case st != Running || rpc == nil:
		p.count("unavailable", 0)
		return fmt.Errorf("%w: %s is %s %s", ErrUnavailable, p.key, st, reason)
	case open:
		p.count("circuit_open", 0)
		return fmt.Errorf("%w: %s", ErrCircuitOpen, p.key)
	}
	select {
	case p.sem <- struct{}{}:
		defer func() { <-p.sem }()
	default:
		p.count("busy", 0)
		return fmt.Errorf("%w: %s", ErrBusy, p.key)
	}
	cctx, cancel := context.WithTimeout(ctx, p.m.cfg.CallTimeout)
	defer cancel()
	began := time.Now()
	err := fn(cctx, rpc)
	p.record(err, rpc)
	switch {
	case err == nil:
		p.count("ok", time.Since(began))
	case ctx.Err() == nil && (cctx.Err() != nil || status.Code(err) == codes.DeadlineExceeded):
		// gRPC may notice the deadline a moment before the context does.
		p.count("timeout", time.Since(began))
		return fmt.Errorf("%w: %s did not answer within %s", ErrUnavailable, p.key, p.m.cfg.CallTimeout)
	case fault(err):
		p.count("fault", time.Since(began))
	default:
		p.count("refused", time.Since(began))
	}
	return err
}

// count records a call's outcome and the time it spent in the plugin.
func (p *Partner) count(outcome string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.calls == nil {
		p.calls = map[string]uint64{}
	}
	p.calls[outcome]++
	p.callTime += d
}

// record feeds the circuit breaker: faults count, a partner's answers (not eligible,
// unknown grant, …) do not. A call made on a process that has since been replaced counts
// for nothing: its fault is the old process's death, and counting it would reopen the
// circuit that up closed for the new one.
func (p *Partner) record(err error, rpc *sdk.Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rpc != rpc {
		return
	}
	if err == nil || !fault(err) {
		p.failures = 0
		return
	}
	p.failures++
	if p.failures >= p.m.cfg.BreakerFailures {
		p.openUntil = time.Now().Add(p.m.cfg.BreakerCooldown)
		p.failures = 0
		p.m.cfg.Logger.Warn("partner circuit opened", "partner", p.key, "cooldown", p.m.cfg.BreakerCooldown.String())
	}
}

func fault(err error) bool {
	switch status.Code(err) {
	case codes.FailedPrecondition, codes.NotFound, codes.InvalidArgument, codes.AlreadyExists, codes.PermissionDenied:
		return false
	}
	return true
}

// line logs one line: go-plugin's own JSON log lines (from the plugin's side of the
// protocol) at their level with their fields, anything else as the plugin wrote it.
func (l *lineLogger) line(line string) {
	var rec map[string]any
	if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &rec) == nil && rec["@message"] != nil {
		level := map[string]slog.Level{"trace": slog.LevelDebug - 4, "debug": slog.LevelDebug, "warn": slog.LevelWarn, "error": slog.LevelError}[fmt.Sprint(rec["@level"])]
		msg := fmt.Sprint(rec["@message"])
		var attrs []any
		for k, v := range rec {
			if !strings.HasPrefix(k, "@") {
				attrs = append(attrs, k, v)
			}
		}
		l.log.Log(context.Background(), level, "partner plugin: "+msg, attrs...)
		return
	}
	l.log.Info("partner plugin: " + line)
}

// lineLogger logs a plugin's stderr a line at a time.
type lineLogger struct {
	log *slog.Logger
	buf []byte
}

func (l *lineLogger) Write(b []byte) (int, error) {
	l.buf = append(l.buf, b...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(l.buf[:i])); line != "" {
			l.line(line)
		}
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 64<<10 { // a line without end: log what there is
		l.log.Info("partner plugin: " + string(l.buf))
		l.buf = l.buf[:0]
	}
	return len(b), nil
}

// PID is the process id of the partner's plugin, 0 when none runs.
func (m *Manager) PID(key string) int {
	p := m.partner(key)
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == nil || p.client.ReattachConfig() == nil {
		return 0
	}
	return p.client.ReattachConfig().Pid
}

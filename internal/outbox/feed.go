package outbox

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/auth"
)

// Update is one outbox message as a live update hears it.
type Update struct {
	Sequence  int
	ProgramID int
	MemberID  int
	Type      string
	Change    json.RawMessage
	At        time.Time
}

// FeedConfig tunes a Feed; zero fields take the defaults.
type FeedConfig struct {
	// Poll is how often the outbox is read while anyone listens (default 250 ms): the most a
	// live update lags its commit, on whichever replica it committed.
	Poll time.Duration
	// GapWait is how long a missing sequence is waited for (default 10 s). Sequences are
	// taken when a transaction writes, not when it commits, so a message can commit after
	// one with a higher sequence; past GapWait the missing number is taken for a transaction
	// that rolled back.
	GapWait time.Duration
	// Buffer is how many updates one listener may have unread (default 256); beyond, the
	// newest are dropped for that listener and logged.
	Buffer int
}

// Feed hands the outbox's member messages to listeners in this process, by polling the
// table by sequence, so that a change committed by any replica reaches a listener on any
// other. It polls only while someone listens.
type Feed struct {
	client *ent.Client
	cfg    FeedConfig
	log    *slog.Logger

	mu      sync.Mutex
	subs    map[int]map[chan Update]struct{} // by member id
	running bool
}

// NewFeed returns a feed over the outbox table.
func NewFeed(client *ent.Client, cfg FeedConfig, logger *slog.Logger) *Feed {
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.GapWait <= 0 {
		cfg.GapWait = 10 * time.Second
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 256
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Feed{client: client, cfg: cfg, log: logger, subs: map[int]map[chan Update]struct{}{}}
}

// Subscribe returns the member's updates committed from now on (MemberTypes only), in
// sequence, until ctx ends; then the channel is closed.
func (f *Feed) Subscribe(ctx context.Context, memberID int) (<-chan Update, error) {
	ch := make(chan Update, f.cfg.Buffer)
	f.mu.Lock()
	if f.subs[memberID] == nil {
		f.subs[memberID] = map[chan Update]struct{}{}
	}
	f.subs[memberID][ch] = struct{}{}
	start := !f.running
	f.running = true
	f.mu.Unlock()
	if start {
		// The cursor starts at the newest message before this listener is told of any.
		low, err := Newest(context.WithoutCancel(ctx), f.client)
		if err != nil {
			f.leave(memberID, ch)
			f.mu.Lock()
			f.running = false
			f.mu.Unlock()
			return nil, err
		}
		go f.run(low)
	}
	go func() {
		<-ctx.Done()
		f.leave(memberID, ch)
	}()
	return ch, nil
}

func (f *Feed) leave(memberID int, ch chan Update) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[memberID][ch]; !ok {
		return
	}
	delete(f.subs[memberID], ch)
	if len(f.subs[memberID]) == 0 {
		delete(f.subs, memberID)
	}
	close(ch)
}

// run polls until nobody listens. low is the sequence up to which every message was
// handed out or given up on; seen holds those above it handed out already.
func (f *Feed) run(low int) {
	sys := auth.SystemContext(context.Background(), 0)
	seen := map[int]bool{}
	var gapSince time.Time
	for {
		time.Sleep(f.cfg.Poll)
		f.mu.Lock()
		if len(f.subs) == 0 {
			f.running = false
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		msgs, err := After(sys, f.client, low, 1000)
		if err != nil {
			f.log.Warn("live updates: reading the outbox", "err", err)
			continue
		}
		for _, m := range msgs {
			if seen[m.ID] {
				continue
			}
			seen[m.ID] = true
			if slices.Contains(MemberTypes, m.Type) {
				f.hand(Update{Sequence: m.ID, ProgramID: m.ProgramID, MemberID: m.MemberID, Type: m.Type,
					Change: m.Data, At: m.At})
			}
		}
		// Move low over what is handed out; a gap below later messages holds it for GapWait.
		for {
			for seen[low+1] {
				delete(seen, low+1)
				low++
			}
			if len(seen) == 0 {
				gapSince = time.Time{}
				break
			}
			if gapSince.IsZero() {
				gapSince = time.Now()
			}
			if time.Since(gapSince) < f.cfg.GapWait {
				break
			}
			next := 0
			for id := range seen {
				if next == 0 || id < next {
					next = id
				}
			}
			low, gapSince = next-1, time.Time{}
		}
	}
}

func (f *Feed) hand(u Update) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs[u.MemberID] {
		select {
		case ch <- u:
		default:
			f.log.Warn("live updates: a listener is behind; update dropped", "member", u.MemberID, "sequence", u.Sequence)
		}
	}
}

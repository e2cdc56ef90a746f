// Command videovip is the video platform's partner plugin: a one-year VIP membership,
// bundled with the paid membership, delivered as an activation code valid 12 months.
// Until PLUS exists, members of the configured tiers are eligible, and those an admin names.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
	"github.com/membergraph/membergraph/plugins/sdk"
)

const benefit = "VIP_YEAR"

type videoVIP struct {
	mu      sync.RWMutex
	tiers   []string
	members []string
	book    *sdk.GrantBook

	// notes is the notifications sent, by idempotency key, kept as one JSON line each in
	// StateDir/notifications.jsonl (the video app's push stands in for it): a key seen
	// before, also before a restart, sends nothing again.
	noteMu sync.Mutex
	notes  map[string]string
	noteF  *os.File
}

// Notification is one line of notifications.jsonl.
type Notification struct {
	ID             string            `json:"id"`
	IdempotencyKey string            `json:"idempotencyKey"`
	ExternalID     string            `json:"externalId"`
	Template       string            `json:"template"`
	CampaignKey    string            `json:"campaignKey"`
	Params         map[string]string `json:"params,omitempty"`
}

func (p *videoVIP) Describe(context.Context) (*partnerv1.DescribeResponse, error) {
	return &partnerv1.DescribeResponse{
		Key: "videovip", Name: "Video VIP", Version: "1.0.0", ApiVersions: []uint32{sdk.APIVersion},
		Benefits: []*partnerv1.Benefit{{Key: benefit, Name: "One year of Video VIP",
			Description: "An activation code for a year of the video platform's VIP membership."}},
		ConfigSchema: []*partnerv1.ConfigField{
			{Key: "eligible_tiers", Description: "comma-separated tier keys whose members are eligible", DefaultValue: "GOLD,DIAMOND"},
			{Key: "eligible_members", Description: "comma-separated externalIds an admin made eligible"},
		},
	}, nil
}

func (p *videoVIP) Configure(_ context.Context, cfg sdk.Config, _ sdk.Host) error {
	book, err := sdk.OpenGrantBook(cfg.StateDir)
	if err != nil {
		return err
	}
	tiers := cfg.Values["eligible_tiers"]
	if tiers == "" {
		tiers = "GOLD,DIAMOND"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.book, p.tiers, p.members = book, split(tiers), split(cfg.Values["eligible_members"])
	return p.openNotes(cfg.StateDir)
}

func (p *videoVIP) openNotes(dir string) error {
	p.noteMu.Lock()
	defer p.noteMu.Unlock()
	if p.noteF != nil {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(dir, "notifications.jsonl"), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	p.notes = map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var n Notification
		if json.Unmarshal(sc.Bytes(), &n) == nil {
			p.notes[n.IdempotencyKey] = n.ID
		}
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return err
	}
	p.noteF = f
	return nil
}

// Notify pushes a message to the member in the video app; here it is a line in
// notifications.jsonl, written (and synced) before it answers.
func (p *videoVIP) Notify(_ context.Context, req *partnerv1.NotifyRequest) (*partnerv1.NotifyResponse, error) {
	if req.IdempotencyKey == "" || req.GetMember().GetExternalId() == "" || req.Template == "" {
		return nil, fmt.Errorf("%w: a notification needs idempotency_key, member and template", sdk.ErrInvalid)
	}
	p.noteMu.Lock()
	defer p.noteMu.Unlock()
	if p.noteF == nil {
		return nil, fmt.Errorf("%w: not configured", sdk.ErrInvalid)
	}
	if id, ok := p.notes[req.IdempotencyKey]; ok {
		return &partnerv1.NotifyResponse{NotificationId: id, Replayed: true}, nil
	}
	n := Notification{ID: sdk.NewID(), IdempotencyKey: req.IdempotencyKey, ExternalID: req.Member.GetExternalId(),
		Template: req.Template, CampaignKey: req.CampaignKey, Params: req.Params}
	line, err := json.Marshal(n)
	if err != nil {
		return nil, err
	}
	if _, err := p.noteF.Write(append(line, '\n')); err != nil {
		return nil, err
	}
	if err := p.noteF.Sync(); err != nil {
		return nil, err
	}
	p.notes[n.IdempotencyKey] = n.ID
	return &partnerv1.NotifyResponse{NotificationId: n.ID}, nil
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (p *videoVIP) CheckEligibility(_ context.Context, req *partnerv1.EligibilityRequest) (*partnerv1.EligibilityResponse, error) {
	if req.BenefitKey != benefit {
		return nil, fmt.Errorf("%w %q", sdk.ErrUnknownBenefit, req.BenefitKey)
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	m := req.GetMember()
	if m.GetPlusActive() || slices.Contains(p.tiers, m.GetTierKey()) || slices.Contains(p.members, m.GetExternalId()) {
		return &partnerv1.EligibilityResponse{Eligible: true}, nil
	}
	return &partnerv1.EligibilityResponse{Reason: fmt.Sprintf("Video VIP comes with PLUS or the %s tiers", strings.Join(p.tiers, ", "))}, nil
}

func (p *videoVIP) Grant(_ context.Context, req *partnerv1.GrantRequest) (*partnerv1.GrantResponse, error) {
	if req.BenefitKey != benefit {
		return nil, fmt.Errorf("%w %q", sdk.ErrUnknownBenefit, req.BenefitKey)
	}
	g, _, err := p.book.Grant(req.IdempotencyKey, func(string, map[string]string) (sdk.StoredGrant, error) {
		code := strings.ToUpper(sdk.NewID()[:16])
		return sdk.StoredGrant{BenefitKey: benefit, ExternalID: req.Member.GetExternalId(),
			Code:          fmt.Sprintf("VIP-%s-%s-%s-%s", code[0:4], code[4:8], code[8:12], code[12:16]),
			ExpiresAtUnix: time.Now().AddDate(1, 0, 0).Unix()}, nil
	})
	if err != nil {
		return nil, err
	}
	return &partnerv1.GrantResponse{GrantId: g.ID, Code: g.Code, ExpiresAtUnix: g.ExpiresAtUnix,
		Description: "Activate at video.example/vip within 12 months"}, nil
}

func (p *videoVIP) Revoke(_ context.Context, req *partnerv1.RevokeRequest) error {
	return p.book.Revoke(req.GrantId)
}

func (p *videoVIP) Status(_ context.Context, req *partnerv1.StatusRequest) (*partnerv1.StatusResponse, error) {
	return p.book.Status(req.GrantId)
}

func main() { sdk.Serve(&videoVIP{}) }

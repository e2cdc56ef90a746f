// Package webhook delivers the outbox's messages (internal/outbox) to the programme's HTTP
// endpoints, signed per the Standard Webhooks specification (https://www.standardwebhooks.com):
// headers webhook-id, webhook-timestamp and webhook-signature ("v1,<base64 HMAC-SHA256 of
// id.timestamp.body>" under the endpoint's secret, whsec_<base64>). Service manages the
// endpoints for ADMINs; Dispatcher, run by every `serve` replica, delivers.
package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/webhookdelivery"
	"github.com/membergraph/membergraph/ent/webhookendpoint"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Bounds of an endpoint's input.
const (
	MaxURLLen         = 2048
	MaxDescriptionLen = 500
	secretBytes       = 24 // 192 bits; the spec asks for 24 to 64
)

var (
	// ErrNotFound: no endpoint or delivery of that id in the viewer's programme.
	ErrNotFound = errors.New("webhook: not found")
)

// NewSecret returns a fresh signing secret, whsec_ and the base64 of random bytes, the form
// the spec's libraries read.
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b), nil
}

// Sign returns the webhook-signature header of body sent as message id at ts.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return "", err
	}
	return wh.Sign(id, ts, body)
}

// Service manages the programme's endpoints and deliveries for its ADMINs (the ent privacy
// rules hold every read and write to the viewer's programme).
type Service struct {
	client *ent.Client
	clock  clock.Clock
}

// NewService returns the endpoints' service.
func NewService(client *ent.Client, c clock.Clock) *Service {
	return &Service{client: client, clock: c}
}

// EndpointInput is what createWebhookEndpoint takes.
type EndpointInput struct {
	URL         string
	EventTypes  []string
	Description string
}

// CheckURL refuses what cannot be an endpoint: anything but an absolute http(s) URL with a
// host, credentials in it, a fragment, or more than MaxURLLen bytes.
func CheckURL(errs *usererr.List, field, raw string) {
	if raw == "" || len(raw) > MaxURLLen {
		errs.Add(usererr.InvalidArgument, field, "url must be 1–%d characters", MaxURLLen)
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		errs.Add(usererr.InvalidArgument, field, "url is not a URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		errs.Add(usererr.InvalidArgument, field, "url must start with https:// or http://")
	case u.Host == "" || u.Hostname() == "":
		errs.Add(usererr.InvalidArgument, field, "url must name a host")
	case u.User != nil:
		errs.Add(usererr.InvalidArgument, field, "url must not carry credentials; the signature authenticates the sender")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		errs.Add(usererr.InvalidArgument, field, "url must not have a fragment")
	case strings.ContainsAny(raw, " \t\r\n"):
		errs.Add(usererr.InvalidArgument, field, "url must not contain spaces")
	}
}

func checkInput(in EndpointInput) ([]string, error) {
	var errs usererr.List
	CheckURL(&errs, "input.url", in.URL)
	var types []string
	if len(in.EventTypes) == 0 {
		errs.Add(usererr.InvalidArgument, "input.eventTypes", "name at least one event type: %s", strings.Join(outbox.Types, ", "))
	}
	for _, t := range in.EventTypes {
		if !outbox.Known(t) {
			errs.Add(usererr.InvalidArgument, "input.eventTypes", "unknown event type %q; known: %s", t, strings.Join(outbox.Types, ", "))
			break
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if len(in.Description) > MaxDescriptionLen {
		errs.Add(usererr.InvalidArgument, "input.description", "description must be at most %d characters", MaxDescriptionLen)
	}
	return types, errs.Err()
}

// Create adds an endpoint and returns it with its secret, which no later read shows.
func (s *Service) Create(ctx context.Context, in EndpointInput) (*ent.WebhookEndpoint, string, error) {
	types, err := checkInput(in)
	if err != nil {
		return nil, "", err
	}
	secret, err := NewSecret()
	if err != nil {
		return nil, "", err
	}
	v, _ := auth.FromContext(ctx)
	e, err := s.client.WebhookEndpoint.Create().SetProgramID(v.ProgramID).SetURL(in.URL).SetEventTypes(types).
		SetDescription(in.Description).SetSecret(secret).SetCreatedAt(s.clock.Now()).Save(ctx)
	if err != nil {
		return nil, "", err
	}
	return e, secret, nil
}

// Rotate gives the endpoint a new secret, at once: deliveries signed from now on use it.
func (s *Service) Rotate(ctx context.Context, id int) (*ent.WebhookEndpoint, string, error) {
	secret, err := NewSecret()
	if err != nil {
		return nil, "", err
	}
	e, err := s.client.WebhookEndpoint.UpdateOneID(id).SetSecret(secret).Save(ctx)
	if ent.IsNotFound(err) {
		return nil, "", ErrNotFound
	}
	return e, secret, err
}

// Disable stops deliveries to the endpoint; what is owed stays owed.
func (s *Service) Disable(ctx context.Context, id int) (*ent.WebhookEndpoint, error) {
	e, err := s.client.WebhookEndpoint.UpdateOneID(id).SetStatus(webhookendpoint.StatusDISABLED).
		SetDisabledReason("disabled by an operator").Save(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return e, err
}

// Endpoint returns one endpoint of the viewer's programme.
func (s *Service) Endpoint(ctx context.Context, id int) (*ent.WebhookEndpoint, error) {
	e, err := s.client.WebhookEndpoint.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return e, err
}

// Endpoints lists the programme's endpoints, oldest first.
func (s *Service) Endpoints(ctx context.Context) ([]*ent.WebhookEndpoint, error) {
	return s.client.WebhookEndpoint.Query().Order(ent.Asc(webhookendpoint.FieldID)).All(ctx)
}

// Deliveries is the query of an endpoint's deliveries, for the caller to page (newest
// first is the caller's order).
func (s *Service) Deliveries(endpointID int) *ent.WebhookDeliveryQuery {
	return s.client.WebhookDelivery.Query().Where(webhookdelivery.EndpointID(endpointID))
}

// Redeliver queues a delivery again, whatever its status, due now: the receiver gets it once
// more under the same webhook-id, behind the member's earlier messages still owed.
func (s *Service) Redeliver(ctx context.Context, id int) (*ent.WebhookDelivery, error) {
	d, err := s.client.WebhookDelivery.UpdateOneID(id).SetStatus(webhookdelivery.StatusPENDING).
		SetNextAttemptAt(s.clock.Now()).ClearDeliveredAt().Save(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return d, err
}

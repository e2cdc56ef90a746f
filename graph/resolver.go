// Package graph is the GraphQL API: gqlgen resolvers, the @auth directive, the limits that
// keep a query's cost bounded, and the HTTP server that assembles them. It is the only
// package that knows GraphQL; resolvers authorise, call a service from internal/ and map
// its errors.
package graph

import (
	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/analytics"
	"github.com/membergraph/membergraph/internal/benefit"
	"github.com/membergraph/membergraph/internal/campaign"
	"github.com/membergraph/membergraph/internal/events"
	"github.com/membergraph/membergraph/internal/medal"
	"github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/partner"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/pluscode"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/score"
	"github.com/membergraph/membergraph/internal/segment"
	"github.com/membergraph/membergraph/internal/storeprog"
	"github.com/membergraph/membergraph/internal/tag"
	"github.com/membergraph/membergraph/internal/tier"
	"github.com/membergraph/membergraph/internal/webhook"
)

// Resolver holds the services the resolvers call. The fields are unexported because the
// generated resolver types embed Resolver and have methods named after the fields.
type Resolver struct {
	client   *ent.Client
	programs *program.Service
	members  *member.Service
	ledger   *points.Ledger
	events   *events.Service
	scores   *score.Service
	tiers    *tier.Service
	benefits *benefit.Service
	medals   *medal.Service
	partners *partner.Service
	plus     *plus.Service
	// plusCodes issues and redeems PLUS codes.
	plusCodes *pluscode.Service
	// stores serves store programmes, consents and what a store sees and grants.
	stores *storeprog.Service
	// analytics computes the operators' figures (analytics.resolvers.go).
	analytics *analytics.Service
	// campaigns creates, dry-runs, pauses and reports targeted campaigns.
	campaigns *campaign.Service
	// catalogues caches each programme's catalogue for queries (catalogue.go).
	catalogues *catalogues
	// webhooks manages the programme's webhook endpoints (webhooks.resolvers.go).
	webhooks *webhook.Service
	// feed hands memberUpdated the outbox's messages, from whichever replica wrote them.
	feed *outbox.Feed
	// tags sets manual tags and keeps tag rules; segments saves and counts segments.
	tags     *tag.Service
	segments *segment.Service
}

package partner

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/partnergrant"
	"github.com/membergraph/membergraph/internal/ident"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/usererr"
	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
)

// Callbacks returns the host service offered to the plugin of partner key: it reaches only
// members that partner has a granted benefit with, and pays only from that partner's budget.
func (s *Service) Callbacks(key string) partnerv1.HostServer { return &callbacks{s: s, key: key} }

type callbacks struct {
	partnerv1.UnimplementedHostServer
	s   *Service
	key string
}

// granted finds a member the partner has a grant with (granted, or being granted: an award
// can be part of granting); anyone else looks unknown.
func (c *callbacks) granted(ctx context.Context, externalID string) (*ent.Member, error) {
	ctx = c.s.sys(ctx)
	if !ident.Valid(ident.ExternalID, externalID) {
		return nil, status.Error(codes.InvalidArgument, ident.Message(ident.ExternalID, externalID))
	}
	m, err := c.s.client.Member.Query().Where(member.ExternalID(externalID),
		member.HasPartnerGrantsWith(partnergrant.PartnerKey(c.key), partnergrant.StatusIn(partnergrant.StatusGRANTED, partnergrant.StatusPENDING))).
		WithTier().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, status.Errorf(codes.NotFound, "%s has no granted benefit with member %q", c.key, externalID)
	}
	return m, err
}

func (c *callbacks) ReadMember(ctx context.Context, req *partnerv1.ReadMemberRequest) (*partnerv1.ReadMemberResponse, error) {
	m, err := c.granted(ctx, req.ExternalId)
	if err != nil {
		return nil, err
	}
	return &partnerv1.ReadMemberResponse{Member: &partnerv1.Member{ExternalId: m.ExternalID, TierKey: m.Edges.Tier.Key,
		PlusActive: c.s.plusActive(c.s.sys(ctx), m.ID)}}, nil
}

// GrantPlus grants a PLUS term to a member the partner has a grant with, within what the
// operator allows the partner (docs/domain.md §5 "Partner channels").
func (c *callbacks) GrantPlus(ctx context.Context, req *partnerv1.GrantPlusRequest) (*partnerv1.GrantPlusResponse, error) {
	m, err := c.granted(ctx, req.ExternalId)
	if err != nil {
		return nil, err
	}
	return c.s.grantPlus(c.s.sys(ctx), c.key, m, req)
}

func (c *callbacks) AwardPoints(ctx context.Context, req *partnerv1.AwardPointsRequest) (*partnerv1.AwardPointsResponse, error) {
	if _, err := c.granted(ctx, req.ExternalId); err != nil {
		return nil, err
	}
	var left int64
	// Keys are the partner's own; prefixed so no partner can replay another's request.
	res, err := c.s.ledger.AwardFromPartner(c.s.sys(ctx), points.StoreGrantRequest{StoreID: c.key, ExternalID: req.ExternalId,
		Points: req.Points, Reason: req.Reason, IdempotencyKey: "partner:" + c.key + ":" + req.IdempotencyKey}, &left)
	if ue, ok := usererr.From(err); ok {
		code := codes.InvalidArgument
		switch ue[0].Code {
		case usererr.FailedPrecondition:
			code = codes.FailedPrecondition
		case usererr.Conflict:
			code = codes.AlreadyExists
		}
		return nil, status.Error(code, ue.Error())
	}
	if err != nil {
		c.s.logger.Error("partner award failed", "partner", c.key, "err", err)
		return nil, status.Error(codes.Internal, "internal error")
	}
	if res.Replayed {
		b, err := c.s.ledger.StoreBudget(c.s.sys(ctx), points.PartnerFunding(c.key))
		if err == nil && b != nil {
			left = b.Funded - b.Granted
		}
	}
	return &partnerv1.AwardPointsResponse{Replayed: res.Replayed, BudgetLeft: left}, nil
}

package partner

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/partnersetting"
	"github.com/membergraph/membergraph/ent/plusterm"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/score/formula"
	"github.com/membergraph/membergraph/internal/usererr"
	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
)

// The platform's own settings of a partner live in its configuration JSON under this
// prefix, beside the plugin's settings but never handed to the plugin: a partner must not
// learn, let alone choose, how many PLUS terms it may grant.
const (
	platformPrefix  = "membergraph."
	plusPlansKey    = platformPrefix + "plus_plans"
	plusMonthlyKey  = platformPrefix + "plus_monthly_cap"
	MaxPlusMonthCap = 1_000_000
)

// The refusal codes of GrantPlus that are the platform's, not the PLUS rules'.
const (
	RefusalNotAllowed = "NOT_ALLOWED"
	RefusalMonthlyCap = "MONTHLY_CAP"
)

// PlusAllowance is what the operator allows a partner in the PLUS channel (docs/domain.md §5
// "Partner channels"). The zero value allows nothing.
type PlusAllowance struct {
	// Plans are the plan keys the partner may grant, in the order the admin gave them.
	Plans []string
	// MonthlyCap is how many terms the partner may grant per calendar month of the
	// programme's time zone, whatever became of them later (cancelled terms count).
	MonthlyCap int
}

// SetPlus attaches the PLUS service: it grants the terms partners ask for through GrantPlus
// and answers Member.plus_active. Without it GrantPlus is UNIMPLEMENTED and no member is
// PLUS to a partner. The bundled benefits are its TermListener, registered apart
// (p.AddListener(s.TermListener())).
func (s *Service) SetPlus(p *plus.Service) { s.plus = p }

func (s *Service) plusActive(ctx context.Context, memberID int) bool {
	if s.plus == nil {
		return false
	}
	ok, err := s.plus.Active(ctx, memberID, s.clock.Now())
	if err != nil {
		s.logger.Warn("PLUS status for a partner", "member", memberID, "err", err)
	}
	return ok && err == nil
}

// plusAllowance reads the allowance from a partner's stored configuration.
func plusAllowance(config map[string]string) PlusAllowance {
	var a PlusAllowance
	for _, p := range strings.Split(config[plusPlansKey], ",") {
		if p = strings.TrimSpace(p); p != "" {
			a.Plans = append(a.Plans, p)
		}
	}
	a.MonthlyCap, _ = strconv.Atoi(config[plusMonthlyKey])
	return a
}

// PlusAllowance is what the operator allows partner key in the PLUS channel.
func (s *Service) PlusAllowance(key string) PlusAllowance {
	st, err := s.setting(context.Background(), key)
	if err != nil || st == nil {
		return PlusAllowance{}
	}
	return plusAllowance(st.Config)
}

var planKey = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)

func validateAllowance(errs *usererr.List, a *PlusAllowance) {
	seen := map[string]bool{}
	for i, p := range a.Plans {
		if !planKey.MatchString(p) {
			errs.Add(usererr.InvalidArgument, fmt.Sprintf("input.plus.plans.%d", i), "a plan key is 1–32 capital letters, digits or _, starting with a letter; got %q", p)
		} else if seen[p] {
			errs.Add(usererr.InvalidArgument, fmt.Sprintf("input.plus.plans.%d", i), "plan %s is named twice", p)
		}
		seen[p] = true
	}
	if a.MonthlyCap < 0 || a.MonthlyCap > MaxPlusMonthCap {
		errs.Add(usererr.InvalidArgument, "input.plus.monthlyCap", "monthlyCap must be 0–%d terms", MaxPlusMonthCap)
	}
}

// pluginConfig is the configuration the plugin gets: the platform's keys removed.
func pluginConfig(config map[string]string) map[string]string {
	out := make(map[string]string, len(config))
	for k, v := range config {
		if !strings.HasPrefix(k, platformPrefix) {
			out[k] = v
		}
	}
	return out
}

// plusKey is the platform's idempotency key of a partner's request: prefixed, so no
// partner can replay another's (or a purchase's) key.
func plusKey(partnerKey, key string) string { return "partner:" + partnerKey + ":" + key }

// grantPlus is the Host callback GrantPlus of partner key for member m.
func (s *Service) grantPlus(ctx context.Context, partnerKey string, m *ent.Member, req *partnerv1.GrantPlusRequest) (*partnerv1.GrantPlusResponse, error) {
	if s.plus == nil {
		return nil, status.Error(codes.Unimplemented, "this server does not grant PLUS to partners")
	}
	key := plusKey(partnerKey, req.IdempotencyKey)
	switch {
	case req.Plan == "":
		return nil, status.Error(codes.InvalidArgument, "plan is required")
	case req.IdempotencyKey == "" || !points.ValidKey(key):
		return nil, status.Errorf(codes.InvalidArgument, "idempotency_key must be 1–%d printable ASCII characters", points.MaxKeyLen-len(plusKey(partnerKey, "")))
	case len(req.Reference) > 128:
		return nil, status.Error(codes.InvalidArgument, "reference is at most 128 bytes")
	}
	// A key used before answers as it did, whatever the allowance says now (Grant calls
	// admit only for a new key); the PLUS service tells a replay from another request under
	// the key.
	admit := func(ctx context.Context, tx *ent.Tx) error {
		refusal, code, err := s.plusRefusal(ctx, tx, partnerKey, req.Plan)
		if err == nil && refusal != "" {
			err = &plusRefused{refusal: refusal, code: code}
		}
		return err
	}
	res, err := s.plus.Grant(ctx, plus.GrantRequest{MemberID: m.ID, Plan: req.Plan, Source: plus.SourcePartnerPrefix + partnerKey,
		PaymentRef: req.Reference, IdempotencyKey: key, Field: "grantPlus", Admit: admit})
	if pr := (*plusRefused)(nil); errors.As(err, &pr) {
		return &partnerv1.GrantPlusResponse{Refusal: pr.refusal, RefusalCode: pr.code}, nil
	}
	if ue, ok := usererr.From(err); ok {
		if ue[0].Code == usererr.Conflict {
			return nil, status.Error(codes.AlreadyExists, ue[0].Message)
		}
		return &partnerv1.GrantPlusResponse{Refusal: ue[0].Message, RefusalCode: string(ue[0].Code)}, nil
	}
	if err != nil {
		s.logger.Error("PLUS grant for a partner failed", "partner", partnerKey, "err", err)
		return nil, status.Error(codes.Internal, "internal error")
	}
	t := res.Term
	return &partnerv1.GrantPlusResponse{Replayed: res.Replayed, Term: &partnerv1.PlusTerm{Id: strconv.Itoa(t.ID), Plan: t.Plan,
		StartsAtUnix: t.StartAt.Unix(), EndsAtUnix: t.EndAt.Unix()}}, nil
}

// plusRefused is a partner's PLUS grant refused by the platform's allowance: nothing is
// written, and the partner is told why.
type plusRefused struct{ refusal, code string }

func (e *plusRefused) Error() string { return e.code + ": " + e.refusal }

// plusRefusal says why partner key may not grant a term of plan now, or "" when it may. It
// runs in the grant's transaction and locks the partner's setting row first (MySQL; SQLite's
// transactions hold the database), so the grants of one partner queue on that row across
// every replica and the month's count includes every term committed before.
func (s *Service) plusRefusal(ctx context.Context, tx *ent.Tx, partnerKey, plan string) (refusal, code string, err error) {
	q := tx.PartnerSetting.Query().Where(partnersetting.ProgramID(s.programID), partnersetting.PartnerKey(partnerKey))
	if s.ledger.Dialect() == dialect.MySQL {
		q.ForUpdate()
	}
	st, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		st, err = nil, nil
	}
	if err != nil {
		return "", "", err
	}
	var a PlusAllowance
	if st != nil {
		a = plusAllowance(st.Config)
	}
	if !slices.Contains(a.Plans, plan) {
		if len(a.Plans) == 0 {
			return fmt.Sprintf("%s is not allowed to grant PLUS (configurePartner's plus settings)", partnerKey), RefusalNotAllowed, nil
		}
		return fmt.Sprintf("%s may grant the plans %s, not %s", partnerKey, strings.Join(a.Plans, ", "), plan), RefusalNotAllowed, nil
	}
	n, err := s.plusGrantedThisMonth(ctx, tx.Client(), partnerKey)
	if err != nil {
		return "", "", err
	}
	if n >= a.MonthlyCap {
		return fmt.Sprintf("%s has granted %d PLUS terms this month, its cap of %d", partnerKey, n, a.MonthlyCap), RefusalMonthlyCap, nil
	}
	return "", "", nil
}

// PlusGrantedThisMonth counts the terms partner key granted this calendar month.
func (s *Service) PlusGrantedThisMonth(ctx context.Context, partnerKey string) (int, error) {
	return s.plusGrantedThisMonth(ctx, s.client, partnerKey)
}

// plusGrantedThisMonth counts through c: inside a grant's transaction, its own client, so
// the count never waits for a second connection while the transaction holds one.
func (s *Service) plusGrantedThisMonth(ctx context.Context, c *ent.Client, partnerKey string) (int, error) {
	ctx = s.sys(ctx)
	from, err := s.monthStart(ctx, c)
	if err != nil {
		return 0, err
	}
	// The prefix keeps the count on the (program_id, idempotency_key) index: one partner's terms.
	return c.PlusTerm.Query().Where(plusterm.ProgramID(s.programID), plusterm.IdempotencyKeyHasPrefix(plusKey(partnerKey, "")),
		plusterm.Source(plus.SourcePartnerPrefix+partnerKey), plusterm.CreatedAtGTE(from)).Count(ctx)
}

// monthStart is the first instant of the current calendar month in the programme's zone.
func (s *Service) monthStart(ctx context.Context, c *ent.Client) (time.Time, error) {
	prog, err := c.Program.Get(ctx, s.programID)
	if err != nil {
		return time.Time{}, err
	}
	loc, err := points.Location(prog.TimeZone)
	if err != nil {
		return time.Time{}, err
	}
	return formula.MonthOf(s.clock.Now(), loc).Start(loc), nil
}

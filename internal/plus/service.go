package plus

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/benefitclaim"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/memberscore"
	"github.com/membergraph/membergraph/ent/plusrequest"
	"github.com/membergraph/membergraph/ent/plusterm"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/internal/audit"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/ident"
	internalmember "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/page"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/usererr"
)

// TermListener hears of terms that start and end, after the transaction that wrote them
// committed (never for one rolled back, never twice for a replay). The bundled partner
// membership hangs off it. why is EndCancelled, EndRefunded or EndExpired.
type TermListener interface {
	TermStarted(ctx context.Context, term *ent.PlusTerm)
	TermEnded(ctx context.Context, term *ent.PlusTerm, why string)
}

// Checker answers whether a member is PLUS from the terms alone. It needs nothing but the
// client, so the ledger can be built with it before the Service that needs the ledger.
type Checker struct{ client *ent.Client }

// NewChecker returns a checker over client.
func NewChecker(client *ent.Client) *Checker { return &Checker{client: client} }

// Active reports whether the member holds a term at at: start ≤ at < end, a cancelled
// term's end being its cancel instant. It implements points.PlusChecker. Inside a
// transaction carried by ctx (ent.NewTxContext) it reads through that transaction.
func (c *Checker) Active(ctx context.Context, memberID int, at time.Time) (bool, error) {
	v, _ := auth.FromContext(ctx)
	// The caller chose the member; the platform's own question needs no per-role filter.
	sys := auth.SystemContext(ctx, v.ProgramID)
	q := c.client.PlusTerm.Query()
	if tx := ent.TxFromContext(ctx); tx != nil {
		q = tx.PlusTerm.Query()
	}
	return q.Where(plusterm.MemberID(memberID), plusterm.StartAtLTE(at.UTC()), plusterm.EndAtGT(at.UTC())).Exist(sys)
}

// Service grants, cancels and reads PLUS terms. Writes run under the member's points
// account lock (points.Ledger.Open), so they are serial with each other and with the
// member's points.
type Service struct {
	client    *ent.Client
	ledger    *points.Ledger
	clock     clock.Clock
	checker   *Checker
	listeners []TermListener
	obs       Observer
}

// Observer hears of terms started and ended, for operations metrics; after the commit,
// quick, and never calling back into the service.
type Observer interface {
	TermStarted(source, plan string)
	TermEnded(why string)
}

// NewService returns a service writing under ledger's member lock, on ledger's clock.
func NewService(client *ent.Client, ledger *points.Ledger) *Service {
	return &Service{client: client, ledger: ledger, clock: ledger.Clock(), checker: NewChecker(client)}
}

// AddListener makes l hear of every term that starts or ends; call it before the service
// is used.
func (s *Service) AddListener(l TermListener) { s.listeners = append(s.listeners, l) }

// SetObserver makes o hear of every term that starts or ends; call it before use.
func (s *Service) SetObserver(o Observer) { s.obs = o }

// Active implements points.PlusChecker.
func (s *Service) Active(ctx context.Context, memberID int, at time.Time) (bool, error) {
	return s.checker.Active(ctx, memberID, at)
}

// Clock is the service's clock.
func (s *Service) Clock() clock.Clock { return s.clock }

// MemberID resolves an externalId in the viewer's programme, as the viewer may see it (a
// MEMBER only itself): another member's id and an unknown one are both NOT_FOUND.
func (s *Service) MemberID(ctx context.Context, externalID string) (int, error) {
	m, err := internalmember.Named(ctx, s.client, externalID)
	if err != nil {
		return 0, err
	}
	return m.ID, nil
}

// GrantRequest asks for a term. Plan names one of the programme's plans; Source is how the
// term comes about. PaidCents is what the member paid (a PURCHASE must pay the price the
// platform decides); PaymentRef the commerce side's reference of the payment.
type GrantRequest struct {
	MemberID       int
	Plan           string
	Source         string
	PaidCents      int64
	PaymentRef     string
	IdempotencyKey string
	// Bundled is recorded on the term as what it came with (e.g. a partner's reference).
	Bundled map[string]string
	// Field is the input path user errors name (default "input").
	Field string
	// Admit, when set, decides inside the grant's transaction, after the member's lock and
	// only for a key not used before, whether the grant may go ahead: an error from it rolls
	// the grant back, writes nothing (not even the key) and is returned as it is. A partner
	// channel's monthly cap is counted here, under a lock Admit takes, so that the count and
	// the term it admits commit together on every replica.
	Admit func(ctx context.Context, tx *ent.Tx) error
}

// GrantResult is the term granted, or the first one granted under the key.
type GrantResult struct {
	Term     *ent.PlusTerm
	Replayed bool
	// PriceReason says how the price was decided, e.g. "exclusive price, settled score 4,612 ≥ 4,500".
	PriceReason string
}

type grantBody struct {
	MemberID   int               `json:"memberId"`
	Plan       string            `json:"plan"`
	Source     string            `json:"source"`
	PaidCents  int64             `json:"paidCents"`
	PaymentRef string            `json:"paymentRef"`
	Bundled    map[string]string `json:"bundled,omitempty"`
}

const (
	opGrant  = "GRANT"
	opCancel = "CANCEL"
)

// Grant creates a term: the one way in for purchases, trials, codes and partners. It locks
// the member, stacks the term onto the end of the member's chain (or starts it now), and is
// idempotent by key: a replay returns the first result, a refusal included; another body
// under the key is CONFLICT. A refusal writes no term.
func (s *Service) Grant(ctx context.Context, req GrantRequest) (*GrantResult, error) {
	f := req.Field
	if f == "" {
		f = "input"
	}
	var errs usererr.List
	ident.Check(&errs, f+".idempotencyKey", ident.Key, req.IdempotencyKey)
	if !ValidSource(req.Source) {
		errs.Add(usererr.InvalidArgument, f+".source", "source must be PURCHASE, TRIAL, CODE or PARTNER:<key>")
	}
	if req.PaidCents < 0 {
		errs.Add(usererr.InvalidArgument, f+".amountCents", "the amount paid must be ≥ 0")
	}
	if len(req.PaymentRef) > 128 {
		errs.Add(usererr.InvalidArgument, f+".paymentRef", "paymentRef is at most 128 characters")
	}
	if req.Source == SourcePurchase && strings.TrimSpace(req.PaymentRef) == "" {
		errs.Add(usererr.InvalidArgument, f+".paymentRef", "a purchase needs the payment's reference")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	prog, sys, err := s.program(ctx)
	if err != nil {
		return nil, err
	}
	plans := prog.Rules.PlusPlans()
	plan, ok := plans.Plan(req.Plan)
	if !ok {
		return nil, usererr.New(usererr.NotFound, f+".plan", "no PLUS plan %q", req.Plan)
	}
	hash := points.Hash(grantBody{req.MemberID, req.Plan, req.Source, req.PaidCents, req.PaymentRef, req.Bundled})
	loc, err := points.Location(prog.TimeZone)
	if err != nil {
		return nil, err
	}
	var res *GrantResult
	var refusal *usererr.Error
	err = s.ledger.WithTx(sys, func(tx *ent.Tx) error {
		res, refusal = &GrantResult{}, nil
		now, prev, err := s.lock(sys, tx, prog, req.MemberID, req.IdempotencyKey, f)
		if err != nil {
			return err
		}
		if prev != nil {
			if prev.BodyHash != hash || prev.Op != opGrant {
				return conflict(f, req.IdempotencyKey)
			}
			res.Replayed = true
			if refusal = prev.refusal(); refusal != nil {
				return nil
			}
			res.Term, err = tx.PlusTerm.Get(sys, *prev.TermID)
			return err
		}
		if req.Admit != nil {
			if err := req.Admit(sys, tx); err != nil {
				return err
			}
		}
		terms, err := tx.PlusTerm.Query().Where(plusterm.MemberID(req.MemberID)).All(sys)
		if err != nil {
			return err
		}
		if refusal, err = s.refuse(sys, tx, req, plan, terms, f, res); err != nil {
			return err
		}
		if refusal != nil {
			return s.remember(sys, tx, prog.ID, req.MemberID, req.IdempotencyKey, hash, opGrant, nil, 0, refusal, now, f)
		}
		start := ChainEnd(terms, now)
		end := TermEnd(plan, start, loc)
		res.Term, err = tx.PlusTerm.Create().SetProgramID(prog.ID).SetMemberID(req.MemberID).SetPlan(plan.Key).
			SetSource(req.Source).SetStartAt(start).SetEndAt(end).SetPlannedEndAt(end).SetPricePaidCents(req.PaidCents).
			SetPaymentRef(req.PaymentRef).SetIdempotencyKey(req.IdempotencyKey).SetBodyHash(hash).
			SetBundled(req.Bundled).SetCreatedAt(now).Save(sys)
		if ent.IsConstraintError(err) {
			return conflict(f, req.IdempotencyKey)
		}
		if err != nil {
			return err
		}
		if err := outbox.Write(sys, tx, []outbox.Message{termMessage(outbox.PlusStarted, res.Term, "", now)}); err != nil {
			return err
		}
		return s.remember(sys, tx, prog.ID, req.MemberID, req.IdempotencyKey, hash, opGrant, &res.Term.ID, 0, nil, now, f)
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	if !res.Replayed {
		if s.obs != nil {
			s.obs.TermStarted(res.Term.Source, res.Term.Plan)
		}
		for _, l := range s.listeners {
			l.TermStarted(ctx, res.Term)
		}
	}
	return res, nil
}

// refuse applies the rules of docs/domain.md §5 "Prices" to a grant: the trial once per
// member ever and only through TRIAL, a purchase at the platform's price. It returns the
// refusal, or nil to go ahead (with res.PriceReason set).
func (s *Service) refuse(ctx context.Context, tx *ent.Tx, req GrantRequest, plan rules.PlusPlan, terms []*ent.PlusTerm, f string, res *GrantResult) (*usererr.Error, error) {
	switch {
	case plan.Trial != (req.Source == SourceTrial):
		if plan.Trial {
			return usererr.New(usererr.InvalidArgument, f+".plan", "%s is the trial; it is started with startPlusTrial", plan.Key), nil
		}
		return usererr.New(usererr.InvalidArgument, f+".plan", "a trial is of the trial plan, not %s", plan.Key), nil
	case plan.Trial && !TrialOpen(terms):
		return usererr.New(usererr.FailedPrecondition, f+".externalId", "the trial is once per member, for members who never held PLUS; this member held %d term(s)", len(terms)), nil
	case plan.Trial:
		res.PriceReason = "the trial is free"
		return nil, nil
	case req.Source != SourcePurchase:
		return nil, nil
	}
	score, err := settledScore(ctx, tx, req.MemberID)
	if err != nil {
		return nil, err
	}
	price, why := Price(plan, score)
	res.PriceReason = why
	if req.PaidCents != price {
		return usererr.New(usererr.InvalidArgument, f+".amountCents", "the price of %s for this member is %d cents (%s: %s), not %d", plan.Key, price, Yuan(price), why, req.PaidCents), nil
	}
	return nil, nil
}

func settledScore(ctx context.Context, tx *ent.Tx, memberID int) (int64, error) {
	sc, err := tx.MemberScore.Query().Where(memberscore.MemberID(memberID)).Only(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return sc.Settled, nil
}

// program is the viewer's programme and a platform context scoped to it: once a resolver
// has authorised the request and resolved the member, the service writes as the platform
// (a MEMBER starting its own trial may not write terms itself).
func (s *Service) program(ctx context.Context) (*ent.Program, context.Context, error) {
	v, _ := auth.FromContext(ctx)
	sys := auth.SystemContext(ctx, v.ProgramID)
	prog, err := s.client.Program.Get(sys, v.ProgramID)
	if err != nil {
		return nil, nil, fmt.Errorf("programme %d: %w", v.ProgramID, err)
	}
	return prog, sys, nil
}

// request is a stored PlusRequest.
type request struct{ *ent.PlusRequest }

func (r request) refusal() *usererr.Error {
	if r.ErrorCode == "" {
		return nil
	}
	var path []string
	if r.ErrorField != "" {
		path = strings.Split(r.ErrorField, ".")
	}
	return &usererr.Error{Code: usererr.Code(r.ErrorCode), Field: path, Message: r.ErrorMessage}
}

// lock takes the member's account lock in tx, checks the member is the programme's, and
// returns the time and the request stored under key, if any.
func (s *Service) lock(ctx context.Context, tx *ent.Tx, prog *ent.Program, memberID int, key, f string) (time.Time, *request, error) {
	b, err := s.ledger.Open(ctx, tx, prog, memberID)
	if ent.IsNotFound(err) || err == nil && b.Account.ProgramID != prog.ID {
		return time.Time{}, nil, usererr.New(usererr.NotFound, f+".externalId", "no such member")
	}
	if err != nil {
		return time.Time{}, nil, err
	}
	prev, err := tx.PlusRequest.Query().Where(plusrequest.ProgramID(prog.ID), plusrequest.Key(key)).Only(ctx)
	if ent.IsNotFound(err) {
		return b.Now, nil, nil
	}
	if err != nil {
		return time.Time{}, nil, err
	}
	if prev.MemberID != memberID {
		return time.Time{}, nil, conflict(f, key)
	}
	return b.Now, &request{prev}, nil
}

// remember stores a request's outcome under its key.
func (s *Service) remember(ctx context.Context, tx *ent.Tx, programID, memberID int, key, hash, op string, termID *int, refundable int64, refusal *usererr.Error, now time.Time, f string) error {
	c := tx.PlusRequest.Create().SetProgramID(programID).SetMemberID(memberID).SetKey(key).SetBodyHash(hash).
		SetOp(op).SetNillableTermID(termID).SetRefundableCents(refundable).SetCreatedAt(now)
	if refusal != nil {
		c.SetErrorCode(string(refusal.Code)).SetErrorField(strings.Join(refusal.Field, ".")).SetErrorMessage(truncate(refusal.Message, 512))
	}
	err := c.Exec(ctx)
	if ent.IsConstraintError(err) {
		// The same key at once for another member: that request won.
		return conflict(f, key)
	}
	return err
}

func conflict(f, key string) error {
	return usererr.New(usererr.Conflict, f+".idempotencyKey", "idempotencyKey %q was used for a different request", key)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// CancelRequest ends a member's membership now.
type CancelRequest struct {
	MemberID int
	// Refund grants the refundable amount; without it the terms end and nothing is paid back.
	Refund         bool
	Reason         string
	IdempotencyKey string
	Field          string // the input path user errors name (default "input")
}

// CancelResult is what a cancellation did.
type CancelResult struct {
	// Term is the term that was running, now ended; Cancelled adds the terms stacked after
	// it, which will not start. Oldest first.
	Term      *ent.PlusTerm
	Cancelled []*ent.PlusTerm
	// RefundableCents is what the policy returns: per term the price paid less the value
	// received in it (bonus points, PLUS coupons used), never below zero, summed.
	RefundableCents int64
	// RefundedCents is what was granted: RefundableCents when a refund was asked for, else 0.
	RefundedCents int64
	Replayed      bool
}

type cancelBody struct {
	MemberID int    `json:"memberId"`
	Refund   bool   `json:"refund"`
	Reason   string `json:"reason"`
}

// Cancel ends the member's current term now and cancels the terms stacked after it
// (docs/domain.md §5 "Cancel and refund"); a refund pays back the price less the value
// received. The PLUS bonus points stay earned. Idempotent by key like Grant.
func (s *Service) Cancel(ctx context.Context, req CancelRequest) (*CancelResult, error) {
	f := req.Field
	if f == "" {
		f = "input"
	}
	var errs usererr.List
	ident.Check(&errs, f+".idempotencyKey", ident.Key, req.IdempotencyKey)
	if n := len([]rune(req.Reason)); strings.TrimSpace(req.Reason) == "" || n > 256 {
		errs.Add(usererr.InvalidArgument, f+".reason", "a cancellation needs a reason of 1–256 characters")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	prog, sys, err := s.program(ctx)
	if err != nil {
		return nil, err
	}
	hash := points.Hash(cancelBody{req.MemberID, req.Refund, req.Reason})
	var res *CancelResult
	var refusal *usererr.Error
	err = s.ledger.WithTx(sys, func(tx *ent.Tx) error {
		res, refusal = &CancelResult{}, nil
		now, prev, err := s.lock(sys, tx, prog, req.MemberID, req.IdempotencyKey, f)
		if err != nil {
			return err
		}
		if prev != nil {
			if prev.BodyHash != hash || prev.Op != opCancel {
				return conflict(f, req.IdempotencyKey)
			}
			res.Replayed = true
			if refusal = prev.refusal(); refusal != nil {
				return nil
			}
			res.RefundableCents = prev.RefundableCents
			if req.Refund {
				res.RefundedCents = prev.RefundableCents
			}
			res.Cancelled, err = tx.PlusTerm.Query().Where(plusterm.MemberID(req.MemberID), plusterm.CancelledAt(prev.CreatedAt)).
				Order(plusterm.ByStartAt(), plusterm.ByID()).All(sys)
			if err == nil && len(res.Cancelled) > 0 {
				res.Term = res.Cancelled[0]
			}
			return err
		}
		terms, err := tx.PlusTerm.Query().Where(plusterm.MemberID(req.MemberID), plusterm.EndAtGT(now)).
			Order(plusterm.ByStartAt(), plusterm.ByID()).All(sys)
		if err != nil {
			return err
		}
		if len(terms) == 0 || terms[0].StartAt.After(now) {
			refusal = usererr.New(usererr.FailedPrecondition, f+".externalId", "the member holds no PLUS term now")
			return s.remember(sys, tx, prog.ID, req.MemberID, req.IdempotencyKey, hash, opCancel, nil, 0, refusal, now, f)
		}
		got, err := received(sys, tx, prog, req.MemberID, terms[0].StartAt, now)
		if err != nil {
			return err
		}
		for i, t := range terms {
			refundable := t.PricePaidCents // a term that has not started gave nothing yet
			end := t.StartAt
			if i == 0 {
				refundable, end = Refundable(t.PricePaidCents, got), now
			}
			res.RefundableCents += refundable
			// The end is told to the listeners here, so the expiry job skips the term.
			u := tx.PlusTerm.UpdateOne(t).SetEndAt(end).SetCancelledAt(now).SetCancelReason(req.Reason).SetEndRecordedAt(now)
			if req.Refund {
				u.SetRefundedAt(now).SetRefundCents(refundable)
			}
			if t, err = u.Save(sys); err != nil {
				return err
			}
			res.Cancelled = append(res.Cancelled, t)
		}
		res.Term = res.Cancelled[0]
		if req.Refund {
			res.RefundedCents = res.RefundableCents
		}
		why := EndCancelled
		if req.Refund {
			why = EndRefunded
		}
		if err := outbox.Write(sys, tx, []outbox.Message{termMessage(outbox.PlusEnded, res.Term, string(why), now)}); err != nil {
			return err
		}
		return s.remember(sys, tx, prog.ID, req.MemberID, req.IdempotencyKey, hash, opCancel, &res.Term.ID, res.RefundableCents, nil, now, f)
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	if !res.Replayed {
		why := EndCancelled
		if req.Refund {
			why = EndRefunded
		}
		for _, t := range res.Cancelled {
			if s.obs != nil {
				s.obs.TermEnded(why)
			}
			for _, l := range s.listeners {
				l.TermEnded(ctx, t, why)
			}
		}
	}
	return res, nil
}

// received is the value the member had from PLUS in [from, to]: the net PLUS-funded points
// (bonus less bonus refunded) and the face value of the PLUS benefits claimed.
func received(ctx context.Context, tx *ent.Tx, prog *ent.Program, memberID int, from, to time.Time) (Received, error) {
	r := Received{PointsPerYuan: prog.PointsPerYuan}
	var sums []struct {
		Sum *int64 `json:"sum"`
	}
	err := tx.PointEntry.Query().Where(pointentry.MemberID(memberID), pointentry.Funding(points.FundPlus),
		pointentry.CreatedAtGTE(from), pointentry.CreatedAtLTE(to)).
		Aggregate(ent.As(ent.Sum(pointentry.FieldAmount), "sum")).Scan(ctx, &sums)
	if err != nil {
		return r, err
	}
	if len(sums) == 1 && sums[0].Sum != nil {
		r.BonusPoints = *sums[0].Sum
	}
	sums = nil
	err = tx.BenefitClaim.Query().Where(benefitclaim.MemberID(memberID), benefitclaim.SourceEQ(benefitclaim.SourcePLUS),
		benefitclaim.ClaimedAtGTE(from), benefitclaim.ClaimedAtLTE(to)).
		Aggregate(ent.As(ent.Sum(benefitclaim.FieldFaceValueCents), "sum")).Scan(ctx, &sums)
	if err != nil {
		return r, err
	}
	if len(sums) == 1 && sums[0].Sum != nil {
		r.CouponCents = *sums[0].Sum
	}
	return r, nil
}

// Terms are the member's terms, newest first by start and then id, as the viewer may see
// them: one statement.
func (s *Service) Terms(ctx context.Context, memberID int) ([]*ent.PlusTerm, error) {
	return s.client.PlusTerm.Query().Where(plusterm.MemberID(memberID)).
		Order(plusterm.ByStartAt(sql.OrderDesc()), plusterm.ByID(sql.OrderDesc())).All(ctx)
}

// Status is a member's PLUS standing at one instant.
type Status struct {
	Active bool
	// Current is the term that holds now; nil when the member is not PLUS.
	Current *ent.PlusTerm
	// End is where the chain of terms ends (the last term's end): what a purchase extends.
	// Zero when the member is not PLUS.
	End time.Time
	// DaysLeft is the days until End, a started day counting whole.
	DaysLeft int
}

// StatusAt is the standing the terms give at now.
func StatusAt(terms []*ent.PlusTerm, now time.Time) Status {
	cur := Covering(terms, now)
	if cur == nil {
		return Status{}
	}
	end := ChainEnd(terms, now)
	left := end.Sub(now)
	return Status{Active: true, Current: cur, End: end, DaysLeft: int((left + 24*time.Hour - 1) / (24 * time.Hour))}
}

// Quote is what plusQuote answers: the plans a member may buy now with their price and
// why, the trial's availability, and the end a purchase would extend.
type Quote struct {
	MemberID     int
	SettledScore int64
	Plans        []PlanQuote
	// Trial is the trial plan; TrialOpen whether this member may start it.
	Trial     *rules.PlusPlan
	TrialOpen bool
	Status    Status
}

// PlanQuote is one paid plan at this member's price, and the term buying it now would give.
type PlanQuote struct {
	Plan       rules.PlusPlan
	PriceCents int64
	Reason     string
	StartAt    time.Time
	EndAt      time.Time
}

// Quote prices the programme's plans for the member named: two statements (the member with
// its settled score, its terms) given the programme.
func (s *Service) Quote(ctx context.Context, prog *ent.Program, externalID, field string) (*Quote, error) {
	if err := ident.Err(field, ident.ExternalID, externalID); err != nil {
		return nil, err
	}
	var rows []struct {
		ID      int    `json:"id"`
		Settled *int64 `json:"settled"`
	}
	err := s.client.Member.Query().Where(member.ExternalID(externalID)).Modify(func(sel *sql.Selector) {
		t := sql.Table(memberscore.Table)
		sel.LeftJoin(t).On(sel.C(member.FieldID), t.C(memberscore.FieldMemberID))
		sel.Select(sel.C(member.FieldID), sql.As(t.C(memberscore.FieldSettled), "settled"))
	}).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, usererr.New(usererr.NotFound, field, "no member with externalId %q", externalID)
	}
	q := &Quote{MemberID: rows[0].ID}
	if rows[0].Settled != nil {
		q.SettledScore = *rows[0].Settled
	}
	terms, err := s.Terms(ctx, q.MemberID)
	if err != nil {
		return nil, err
	}
	loc, err := points.Location(prog.TimeZone)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	q.Status = StatusAt(terms, now)
	start := ChainEnd(terms, now)
	for _, pl := range prog.Rules.PlusPlans().Plans {
		if pl.Trial {
			q.Trial, q.TrialOpen = &pl, TrialOpen(terms)
			continue
		}
		price, why := Price(pl, q.SettledScore)
		q.Plans = append(q.Plans, PlanQuote{Plan: pl, PriceCents: price, Reason: why, StartAt: start, EndAt: TermEnd(pl, start, loc)})
	}
	return q, nil
}

// UpdatePlans replaces the viewer's programme's PLUS plans after checking every value, and
// audits the change. Terms granted before keep their plan, dates and price.
func (s *Service) UpdatePlans(ctx context.Context, p rules.Plus) (rules.Plus, error) {
	var errs usererr.List
	for _, vi := range p.Check() {
		errs.Add(usererr.InvalidArgument, "input."+vi.Path, "%s", vi.Message)
	}
	if err := errs.Err(); err != nil {
		return rules.Plus{}, err
	}
	v, _ := auth.FromContext(ctx)
	var out rules.Plus
	err := store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
		q := tx.Program.Query().Where(func(sel *sql.Selector) { sel.Where(sql.EQ(sel.C("id"), v.ProgramID)) })
		if s.ledger.Dialect() == dialect.MySQL {
			q.ForUpdate() // rules are one JSON document: other rule changes wait rather than overwrite
		}
		prog, err := q.Only(ctx)
		if err != nil {
			return err
		}
		before := prog.Rules.PlusPlans()
		next := prog.Rules
		next.Plus = p
		if err := next.Validate(); err != nil {
			return usererr.New(usererr.InvalidArgument, "input", "%v", err)
		}
		if err := tx.Program.UpdateOne(prog).SetRules(next).Exec(ctx); err != nil {
			return err
		}
		out = next.PlusPlans()
		return audit.Record(ctx, tx, s.clock.Now(), "updatePlusPlans", before, out)
	})
	return out, err
}

// HistoryPage pages terms by keyset, newest first by start and then id: a member's terms
// are few, so Member.plus reads them all in one statement and pages them here, with the
// same cursors and page rules as the connections paged in SQL.
func HistoryPage(terms []*ent.PlusTerm, r page.Request) (page.Page[*ent.PlusTerm], error) {
	if err := r.Validate(); err != nil {
		return page.Page[*ent.PlusTerm]{}, err
	}
	newer := func(t *ent.PlusTerm, k page.Key) bool {
		return t.StartAt.After(k.At) || t.StartAt.Equal(k.At) && t.ID > k.ID
	}
	sorted := slices.Clone(terms)
	slices.SortFunc(sorted, func(a, b *ent.PlusTerm) int {
		if c := b.StartAt.Compare(a.StartAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	var rows []*ent.PlusTerm
	for _, t := range sorted {
		if r.After != nil && !newer(&ent.PlusTerm{StartAt: r.After.At, ID: r.After.ID}, page.Key{At: t.StartAt, ID: t.ID}) {
			continue
		}
		if r.Before != nil && !newer(t, *r.Before) {
			continue
		}
		rows = append(rows, t)
	}
	if r.Backward() {
		slices.Reverse(rows)
	}
	if n := r.Limit(); n > 0 && len(rows) > n {
		rows = rows[:n]
	}
	p := page.Trim(r, rows)
	if r.Total {
		p.TotalCount = len(terms)
	}
	return p, nil
}

// RecordEnds notes every term whose end instant has passed and that no cancellation
// ended, for the history and the metrics, and tells the listeners (EndExpired). Benefits do
// not wait for it: status is a function of the clock. Each term is claimed by a conditional
// update, so several servers may run it at once and every end is told once.
func (s *Service) RecordEnds(ctx context.Context) (int, error) {
	sys := auth.SystemContext(ctx, 0)
	now := s.clock.Now()
	done := 0
	for {
		due, err := s.client.PlusTerm.Query().Where(plusterm.EndRecordedAtIsNil(), plusterm.EndAtLTE(now)).
			Order(plusterm.ByID()).Limit(500).All(sys)
		if err != nil || len(due) == 0 {
			return done, err
		}
		for _, t := range due {
			var n int
			err := store.WithTx(sys, s.client, func(tx *ent.Tx) error {
				var err error
				n, err = tx.PlusTerm.Update().Where(plusterm.ID(t.ID), plusterm.EndRecordedAtIsNil()).SetEndRecordedAt(now).Save(sys)
				if err != nil || n == 0 {
					return err
				}
				return outbox.Write(sys, tx, []outbox.Message{termMessage(outbox.PlusEnded, t, string(EndExpired), t.EndAt)})
			})
			if err != nil {
				return done, err
			}
			if n == 0 {
				continue // another server recorded it
			}
			done++
			if s.obs != nil {
				s.obs.TermEnded(EndExpired)
			}
			for _, l := range s.listeners {
				l.TermEnded(ctx, t, EndExpired)
			}
		}
	}
}

// RunEnds runs RecordEnds now and then every interval until ctx ends, logging what it did.
func (s *Service) RunEnds(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.RecordEnds(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("recording PLUS term ends failed", "err", err)
		case n > 0:
			logger.Info("PLUS terms ended", "terms", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// TermChange is the change of a plus.started or plus.ended outbox message: the term, and
// for an end why it ended.
type TermChange struct {
	Term   int       `json:"term"`
	Plan   string    `json:"plan"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Reason string    `json:"reason,omitempty"`
}

func termMessage(typ string, t *ent.PlusTerm, reason string, at time.Time) outbox.Message {
	return outbox.Message{ProgramID: t.ProgramID, MemberID: t.MemberID, Type: typ,
		Data: TermChange{t.ID, t.Plan, t.StartAt.UTC(), t.EndAt.UTC(), reason}, At: at}
}

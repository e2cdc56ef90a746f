package pluscode

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/pluscode"
	"github.com/membergraph/membergraph/ent/pluscodebatch"
	"github.com/membergraph/membergraph/ent/pluscodefailure"
	"github.com/membergraph/membergraph/internal/audit"
	"github.com/membergraph/membergraph/internal/auth"
	memberpkg "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/plus"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Limits of issuing.
const (
	// MaxIssue is the most codes one issuePlusCodes returns in its payload; bigger batches
	// go through `membergraph plus codes`, which streams them to a file.
	MaxIssue = 10_000
	// MaxStream is the most codes one streamed batch holds.
	MaxStream = 10_000_000
	// ChunkSize is how many codes one multi-row insert writes.
	ChunkSize = 1000
)

// Purposes are the batch purposes of docs/domain.md §5 "Codes".
var Purposes = []string{pluscodebatch.PurposeENTERPRISE.String(), pluscodebatch.PurposePROMOTION.String()}

// Granter makes PLUS terms; plus.Service is the one.
type Granter interface {
	Grant(ctx context.Context, req plus.GrantRequest) (*plus.GrantResult, error)
}

// Service issues batches of codes and redeems codes into PLUS terms.
type Service struct {
	client *ent.Client
	ledger *points.Ledger // its account lock serialises one member's redemptions
	plus   Granter
	hasher *Hasher
	limit  Limit
	gen    func() (string, error)
}

// NewService returns a service hashing with h under DefaultLimit.
func NewService(client *ent.Client, ledger *points.Ledger, granter Granter, h *Hasher) *Service {
	return &Service{client: client, ledger: ledger, plus: granter, hasher: h, limit: DefaultLimit, gen: NewGenerator()}
}

// IssueRequest asks for a batch of codes.
type IssueRequest struct {
	Purpose   string
	Plan      string
	Count     int
	ExpiresAt time.Time
	Label     string
	// IdempotencyKey makes a retried issue return the batch it made instead of another; the
	// codes are not shown again. Optional on the command line.
	IdempotencyKey string
}

// Issued is a batch and, the first time only, its codes.
type Issued struct {
	Batch *ent.PlusCodeBatch
	// Codes as printed (XXXXX-XXXXX-XXXXX-XXXXX), in the order made; nil on a replay.
	Codes []string
	// Replayed: the key made this batch before; its codes were shown then and cannot be again.
	Replayed bool
}

func (s *Service) validate(ctx context.Context, r IssueRequest, max int) (*ent.Program, error) {
	var errs usererr.List
	if r.Purpose != Purposes[0] && r.Purpose != Purposes[1] {
		errs.Add(usererr.InvalidArgument, "input.purpose", "purpose must be ENTERPRISE or PROMOTION")
	}
	if r.Count < 1 || r.Count > max {
		errs.Add(usererr.InvalidArgument, "input.count", "count must be 1–%d", max)
	}
	if utf8.RuneCountInString(r.Label) > 128 || !utf8.ValidString(r.Label) || strings.IndexFunc(r.Label, unicode.IsControl) >= 0 {
		errs.Add(usererr.InvalidArgument, "input.label", "label must be at most 128 printable characters")
	}
	if r.IdempotencyKey != "" || max == MaxIssue {
		points.CheckKey(&errs, r.IdempotencyKey)
	}
	v, _ := auth.FromContext(ctx)
	prog, err := s.client.Program.Get(auth.SystemContext(ctx, v.ProgramID), v.ProgramID)
	if err != nil {
		return nil, err
	}
	if !r.ExpiresAt.After(s.ledger.Clock().Now()) {
		errs.Add(usererr.InvalidArgument, "input.expiresAt", "expiresAt must be in the future")
	}
	if pl, ok := prog.Rules.PlusPlans().Plan(r.Plan); !ok {
		errs.Add(usererr.InvalidArgument, "input.plan", "no PLUS plan %q", r.Plan)
	} else if pl.Trial {
		errs.Add(usererr.InvalidArgument, "input.plan", "%s is the trial, which is started, not redeemed; a code grants a paid plan", r.Plan)
	}
	return prog, errs.Err()
}

// Issue makes a batch of up to MaxIssue codes in one transaction and returns them; only
// their hashes are stored. The audit entry records the batch, never the codes.
func (s *Service) Issue(ctx context.Context, r IssueRequest) (Issued, error) {
	prog, err := s.validate(ctx, r, MaxIssue)
	if err != nil {
		return Issued{}, err
	}
	hash := points.Hash(r)
	var out Issued
	err = store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
		out = Issued{}
		prev, err := tx.PlusCodeBatch.Query().Where(pluscodebatch.ProgramID(prog.ID), pluscodebatch.IdempotencyKey(r.IdempotencyKey)).Only(ctx)
		if err == nil {
			if prev.BodyHash != hash {
				return usererr.New(usererr.Conflict, "input.idempotencyKey", "idempotencyKey %q was used for a different batch", r.IdempotencyKey)
			}
			out.Batch, out.Replayed = prev, true
			return nil
		}
		if !ent.IsNotFound(err) {
			return err
		}
		b, err := s.createBatch(ctx, tx, prog, r, hash)
		if err != nil {
			return err
		}
		out.Batch = b
		out.Codes = make([]string, 0, r.Count)
		for left := r.Count; left > 0; left -= ChunkSize {
			codes, err := s.insertChunk(ctx, tx, b, min(left, ChunkSize))
			if err != nil {
				return err
			}
			out.Codes = append(out.Codes, codes...)
		}
		return nil
	})
	if ent.IsConstraintError(err) {
		// A racing issue under the same key won: answer as its replay (or CONFLICT).
		prev, perr := s.client.PlusCodeBatch.Query().Where(pluscodebatch.ProgramID(prog.ID), pluscodebatch.IdempotencyKey(r.IdempotencyKey)).Only(ctx)
		switch {
		case perr != nil:
			return Issued{}, err
		case prev.BodyHash != hash:
			return Issued{}, usererr.New(usererr.Conflict, "input.idempotencyKey", "idempotencyKey %q was used for a different batch", r.IdempotencyKey)
		}
		return Issued{Batch: prev, Replayed: true}, nil
	}
	return out, err
}

// Stream makes a batch of up to MaxStream codes and hands them to write ChunkSize at a time,
// each chunk after it is committed, so that memory stays flat and what write gets is always
// in the database. If write or a chunk fails, the batch keeps the chunks before it; the
// error says how many.
func (s *Service) Stream(ctx context.Context, r IssueRequest, write func(b *ent.PlusCodeBatch, codes []string) error) (*ent.PlusCodeBatch, error) {
	prog, err := s.validate(ctx, r, MaxStream)
	if err != nil {
		return nil, err
	}
	var b *ent.PlusCodeBatch
	if err := store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
		b, err = s.createBatch(ctx, tx, prog, r, points.Hash(r))
		return err
	}); err != nil {
		return nil, err
	}
	done := 0
	for done < r.Count {
		var codes []string
		n := min(r.Count-done, ChunkSize)
		err := store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
			codes, err = s.insertChunk(ctx, tx, b, n)
			return err
		})
		if err == nil {
			err = write(b, codes)
		}
		if err != nil {
			return b, fmt.Errorf("batch %d: %d of %d codes written: %w", b.ID, done, r.Count, err)
		}
		done += n
	}
	return b, nil
}

func (s *Service) createBatch(ctx context.Context, tx *ent.Tx, prog *ent.Program, r IssueRequest, hash string) (*ent.PlusCodeBatch, error) {
	v, _ := auth.FromContext(ctx)
	now := s.ledger.Clock().Now()
	c := tx.PlusCodeBatch.Create().SetProgramID(prog.ID).SetPurpose(pluscodebatch.Purpose(r.Purpose)).SetPlan(r.Plan).
		SetCount(r.Count).SetLabel(r.Label).SetExpiresAt(r.ExpiresAt.UTC()).SetCreatedBy(actor(v)).SetCreatedAt(now).SetBodyHash(hash)
	if r.IdempotencyKey != "" {
		c.SetIdempotencyKey(r.IdempotencyKey)
	}
	b, err := c.Save(ctx)
	if err != nil {
		return nil, err
	}
	summary := map[string]any{"batch": b.ID, "purpose": r.Purpose, "plan": r.Plan, "count": r.Count,
		"expiresAt": b.ExpiresAt, "label": r.Label}
	return b, audit.Record(ctx, tx, now, "plus.codes.issue", nil, summary)
}

func actor(v auth.Viewer) string {
	if v.Subject == "" {
		return string(v.Role)
	}
	return string(v.Role) + ":" + v.Subject
}

// insertChunk makes n codes of b and writes their hashes in one statement.
func (s *Service) insertChunk(ctx context.Context, tx *ent.Tx, b *ent.PlusCodeBatch, n int) ([]string, error) {
	codes := make([]string, n)
	rows := make([]*ent.PlusCodeCreate, n)
	for i := range codes {
		c, err := s.gen()
		if err != nil {
			return nil, err
		}
		codes[i] = Format(c)
		rows[i] = tx.PlusCode.Create().SetProgramID(b.ProgramID).SetBatchID(b.ID).SetHash(s.hasher.Hash(c))
	}
	// A hash collision of two fresh codes (≈ 2⁻⁹⁴ per pair) fails the chunk: an error, not
	// a silent duplicate.
	return codes, tx.PlusCode.CreateBulk(rows...).Exec(ctx)
}

// RedeemRequest is a member typing a code.
type RedeemRequest struct {
	ExternalID string
	Code       string
}

// Redeemed is the term a code granted.
type Redeemed struct {
	Term  *ent.PlusTerm
	Batch *ent.PlusCodeBatch
	// Replayed: the member had redeemed this code before; the same term is returned.
	Replayed bool
}

// Why a redemption failed, as the member is told.
var (
	errMalformed = usererr.New(usererr.InvalidArgument, "input.code",
		"a PLUS code is 20 characters of 2–9 and A–Z without I, L and O, e.g. XXXXX-XXXXX-XXXXX-XXXXX")
	errTypo    = usererr.New(usererr.InvalidArgument, "input.code", "the code has a typo: its last character does not match the others; check each character")
	errUnknown = usererr.New(usererr.NotFound, "input.code", "no PLUS code like this was issued")
	errUsed    = usererr.New(usererr.AlreadyUsed, "input.code", "this PLUS code was redeemed already")
)

// Redeem grants the member the term its code's batch promises, once per code: the code is
// claimed by a conditional update (of racing redemptions only one changes the row), then the
// term is granted through plus.Service.Grant under a key of the code and the member, so a
// member who redeems its code again, or retries after a fault between the two steps, gets
// the same term. Failed redemptions count towards the rate limit, checked and recorded
// under the member's account lock; a failure is committed even though the call fails.
func (s *Service) Redeem(ctx context.Context, r RedeemRequest) (Redeemed, error) {
	m, err := memberpkg.Named(ctx, s.client, r.ExternalID)
	if err != nil {
		return Redeemed{}, err
	}
	v, _ := auth.FromContext(ctx)
	sys := auth.SystemContext(ctx, v.ProgramID)
	prog, err := s.client.Program.Get(sys, v.ProgramID)
	if err != nil {
		return Redeemed{}, err
	}
	canonical, perr := Parse(r.Code)
	var (
		code    *ent.PlusCode
		refusal error
		out     Redeemed
	)
	err = s.ledger.WithTx(sys, func(tx *ent.Tx) error {
		code, refusal, out = nil, nil, Redeemed{}
		book, err := s.ledger.Open(sys, tx, prog, m.ID)
		if err != nil {
			return err
		}
		now := book.Now
		if until, err := s.lockedUntil(sys, tx, m.ID, now); err != nil {
			return err
		} else if !until.IsZero() {
			refusal = usererr.New(usererr.RateLimited, "input.code", "%d failed redemptions within %s: redemptions are locked until %s",
				s.limit.Failures, s.limit.Window, until.In(book.Loc).Format(time.RFC3339))
			return nil // nothing to write: a refusal while locked is not a failure
		}
		fail := func(e *usererr.Error) error {
			refusal = e
			return s.recordFailure(sys, tx, prog.ID, m.ID, string(e.Code), now)
		}
		switch {
		case errors.Is(perr, ErrCheck):
			return fail(errTypo)
		case perr != nil:
			return fail(errMalformed)
		}
		code, err = tx.PlusCode.Query().Where(pluscode.Hash(s.hasher.Hash(canonical)), pluscode.ProgramID(prog.ID)).WithBatch().Only(sys)
		if ent.IsNotFound(err) {
			return fail(errUnknown)
		}
		if err != nil {
			return err
		}
		out.Batch = code.Edges.Batch
		switch {
		case code.MemberID != nil && *code.MemberID == m.ID:
			out.Replayed = true
			return nil
		case code.MemberID != nil:
			return fail(errUsed)
		case !now.Before(out.Batch.ExpiresAt):
			return fail(usererr.New(usererr.Expired, "input.code", "this PLUS code expired at %s",
				out.Batch.ExpiresAt.In(book.Loc).Format(time.RFC3339)))
		}
		// Microseconds: what DATETIME(6) keeps, so the instant read back later is this one.
		claimed := now.Truncate(time.Microsecond)
		n, err := tx.PlusCode.Update().Where(pluscode.ID(code.ID), pluscode.MemberIDIsNil()).
			SetMemberID(m.ID).SetRedeemedAt(claimed).Save(sys)
		if err != nil {
			return err
		}
		if n == 0 { // another member's redemption claimed it since the read
			return fail(errUsed)
		}
		code.MemberID, code.RedeemedAt = &m.ID, &claimed
		return nil
	})
	if err != nil {
		return Redeemed{}, err
	}
	if refusal != nil {
		return Redeemed{}, refusal
	}
	res, err := s.plus.Grant(ctx, plus.GrantRequest{MemberID: m.ID, Plan: out.Batch.Plan, Source: plus.SourceCode,
		IdempotencyKey: grantKey(code)})
	if list, isUser := usererr.From(err); isUser {
		// Refused (e.g. the batch's plan was removed since): give the code back so that it
		// is not spent on nothing. The refusal stays recorded under the key, for this
		// member only. The member typed only a code, so the refusal names that field.
		if rerr := s.client.PlusCode.Update().Where(pluscode.ID(code.ID), pluscode.MemberID(m.ID), pluscode.TermIDIsNil()).
			ClearMemberID().ClearRedeemedAt().Exec(sys); rerr != nil {
			return Redeemed{}, errors.Join(err, rerr)
		}
		var out usererr.List
		for _, e := range list {
			out.Add(e.Code, "input.code", "the code's %s plan cannot be granted: %s", code.Edges.Batch.Plan, e.Message)
		}
		return Redeemed{}, out
	}
	if err != nil {
		return Redeemed{}, err // the code stays claimed by the member; a retry resumes here
	}
	out.Term = res.Term
	if err := s.client.PlusCode.Update().Where(pluscode.ID(code.ID), pluscode.MemberID(m.ID)).
		SetTermID(res.Term.ID).Exec(sys); err != nil {
		return Redeemed{}, err
	}
	return out, nil
}

// grantKey is the Grant key of one claim of a code: the code, its member and the claim's
// instant. A member's retry after a fault between claim and grant reads the same claim and
// so the same key; a claim given back after a refusal and made again is a new key, so the
// first refusal does not stick to the code once its cause is gone.
func grantKey(c *ent.PlusCode) string {
	return fmt.Sprintf("plus-code:%d:member:%d:%d", c.ID, *c.MemberID, c.RedeemedAt.UnixMicro())
}

// lockedUntil applies the rate limit to the member's recent failures.
func (s *Service) lockedUntil(ctx context.Context, tx *ent.Tx, memberID int, now time.Time) (time.Time, error) {
	fs, err := tx.PlusCodeFailure.Query().
		Where(pluscodefailure.MemberID(memberID), pluscodefailure.FailedAtGT(now.Add(-s.limit.Lookback()))).
		Order(ent.Desc(pluscodefailure.FieldFailedAt), ent.Desc(pluscodefailure.FieldID)).
		Limit(s.limit.Failures).All(ctx)
	if err != nil {
		return time.Time{}, err
	}
	ts := make([]time.Time, len(fs))
	for i, f := range fs {
		ts[i] = f.FailedAt
	}
	return s.limit.LockedUntil(ts, now), nil
}

// recordFailure counts a failed redemption and forgets the member's failures too old to
// matter, so the table holds at most a look-back's worth per member.
func (s *Service) recordFailure(ctx context.Context, tx *ent.Tx, programID, memberID int, reason string, now time.Time) error {
	if _, err := tx.PlusCodeFailure.Delete().
		Where(pluscodefailure.MemberID(memberID), pluscodefailure.FailedAtLTE(now.Add(-s.limit.Lookback()))).Exec(ctx); err != nil {
		return err
	}
	return tx.PlusCodeFailure.Create().SetProgramID(programID).SetMemberID(memberID).SetReason(reason).SetFailedAt(now).Exec(ctx)
}

package points

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/pointaccount"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/ent/pointlot"
	"github.com/membergraph/membergraph/ent/pointrequest"
	"github.com/membergraph/membergraph/internal/amount"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/ident"
	"github.com/membergraph/membergraph/internal/rules"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Purpose is why points are spent.
type Purpose string

// The purposes of a spend (docs/domain.md §3 "Spending").
const (
	OrderDeduction Purpose = "ORDER_DEDUCTION" // at checkout: ×step, ≥ minimum balance, ≤ share of the order
	Exchange       Purpose = "EXCHANGE"        // for a catalogue item priced in points
)

// MaxKeyLen is the longest idempotency key accepted.
var MaxKeyLen = ident.Key.MaxLen()

// Balance is a member's points as of now. Available may be negative: a debt.
type Balance struct {
	Available int64 // spendable now, less debt
	Pending   int64 // earned, not yet spendable
	Debt      int64
	Total     int64 // the sum of the ledger's entries
}

// Result is the outcome of a spend, reversal or adjustment.
type Result struct {
	Entry    *ent.PointEntry
	Replayed bool  // the key had been used with the same request: nothing changed
	Balance  int64 // spendable balance after the request
}

// WithTx runs fn in a ledger transaction, run again on a lock conflict within ctx's deadline
// (store.WithRetry), so fn must start from scratch each time.
func (l *Ledger) WithTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	// MySQL sessions run READ COMMITTED (store.Open sets it), so a transaction that waited for
	// an account lock sees what the previous holder committed; SQLite's are serializable.
	return store.WithRetry(ctx, l.client, fn)
}

// memberID resolves an externalId in the viewer's programme.
func (l *Ledger) memberID(ctx context.Context, externalID, field string) (int, error) {
	if err := ident.Err(field, ident.ExternalID, externalID); err != nil {
		return 0, err
	}
	id, err := l.client.Member.Query().Where(member.ExternalID(externalID)).OnlyID(ctx)
	if ent.IsNotFound(err) {
		return 0, usererr.New(usererr.NotFound, field, "no member with externalId %q", externalID)
	}
	return id, err
}

// ValidKey reports whether key can be an idempotency key (internal/ident's rule): 1–MaxKeyLen
// printable ASCII characters, no spaces.
func ValidKey(key string) bool { return ident.Valid(ident.Key, key) }

// CheckKey adds the mistake of a malformed input.idempotencyKey to errs.
func CheckKey(errs *usererr.List, key string) {
	ident.Check(errs, "input.idempotencyKey", ident.Key, key)
}

// Hash is the fingerprint of a request body that a replay must match.
func Hash(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// once runs write under the member's lock unless key was used before: the first outcome of
// a key is its outcome. A replay of the same body returns the entry written or, when write
// refused the request (Decided), the same refusal; another body is a CONFLICT. A fault is
// never recorded, so a retry after it decides afresh.
func (l *Ledger) once(ctx context.Context, memberID int, key, hash string, write func(b *Book) (*ent.PointEntry, error)) (Result, error) {
	var errs usererr.List
	if CheckKey(&errs, key); errs.Err() != nil {
		return Result{}, errs.Err()
	}
	v, _ := auth.FromContext(ctx)
	prog, err := l.client.Program.Get(ctx, v.ProgramID)
	if err != nil {
		return Result{}, err
	}
	// Twice at most: when another request takes the key between our look and our write, the
	// second round reads its outcome.
	for round := 1; ; round++ {
		res, refused, err := l.onceTx(ctx, prog, memberID, key, hash, write)
		if refused != nil {
			refused.Message = clipTo(refused.Message, 1024) // as the replays will read it
			if l.beforeRefusal != nil {
				l.beforeRefusal()
			}
			// Recorded in a transaction of its own, after the decision's rolled back: the
			// unique key decides between this refusal and a request that succeeded meanwhile.
			err = l.WithTx(ctx, func(tx *ent.Tx) error {
				return tx.PointRequest.Create().SetProgramID(v.ProgramID).SetMemberID(memberID).SetKey(key).SetBodyHash(hash).
					SetRefusalCode(string(refused.Code)).SetRefusalField(strings.Join(refused.Field, ".")).
					SetRefusalMessage(refused.Message).SetCreatedAt(l.clock.Now()).Exec(ctx)
			})
			if err == nil {
				return Result{}, refused
			}
			if !ent.IsConstraintError(err) {
				return Result{}, err
			}
			err = errKeyTaken
		}
		if errors.Is(err, errKeyTaken) && round == 1 {
			continue
		}
		if errors.Is(err, errKeyTaken) {
			return Result{}, usererr.New(usererr.Conflict, "input.idempotencyKey", "idempotencyKey %q was used for a different request", key)
		}
		return res, err
	}
}

// errKeyTaken: another request wrote the key after this one looked it up.
var errKeyTaken = errors.New("points: idempotency key taken meanwhile")

// onceTx is one round of once: under the member's lock, the key's recorded outcome, or
// write's. refused is write's refusal, to be recorded; the transaction wrote nothing then.
func (l *Ledger) onceTx(ctx context.Context, prog *ent.Program, memberID int, key, hash string, write func(b *Book) (*ent.PointEntry, error)) (res Result, refused *usererr.Error, err error) {
	err = l.WithTx(ctx, func(tx *ent.Tx) error {
		res, refused = Result{}, nil
		b, err := l.Open(ctx, tx, prog, memberID)
		if err != nil {
			return err
		}
		prev, err := tx.PointRequest.Query().Where(pointrequest.ProgramID(prog.ID), pointrequest.Key(key)).Only(ctx)
		switch {
		case err == nil && prev.BodyHash != hash:
			return usererr.New(usererr.Conflict, "input.idempotencyKey", "idempotencyKey %q was used for a different request", key)
		case err == nil && prev.RefusalCode != "":
			return usererr.New(usererr.Code(prev.RefusalCode), prev.RefusalField, "%s", prev.RefusalMessage)
		case err == nil:
			res.Replayed = true
			res.Entry, err = tx.PointEntry.Get(ctx, prev.EntryID)
			if err != nil {
				return err
			}
		case ent.IsNotFound(err):
			if res.Entry, err = write(b); err != nil {
				if r, ok := Decided(err); ok {
					refused = r
				}
				return err
			}
			err = tx.PointRequest.Create().SetProgramID(prog.ID).SetMemberID(memberID).SetKey(key).
				SetBodyHash(hash).SetEntryID(res.Entry.ID).SetCreatedAt(b.Now).Exec(ctx)
			if ent.IsConstraintError(err) {
				return errKeyTaken
			}
			if err != nil {
				return err
			}
		default:
			return err
		}
		res.Balance, err = b.Spendable(ctx)
		return err
	})
	return res, refused, err
}

// Decided reports whether err is a refusal decided from the state a request met (too few
// points, an exhausted budget or quota, a rule of the programme), which is kept under the
// request's idempotency key, and returns it. Conflicts of keys, partners out of reach and
// rate limits are not decisions about the request, nor is any fault: a retry meets them
// afresh. A decision refuses for one reason.
func Decided(err error) (*usererr.Error, bool) {
	list, ok := usererr.From(err)
	if !ok || len(list) != 1 {
		return nil, false
	}
	switch list[0].Code {
	case usererr.InvalidArgument, usererr.NotFound, usererr.PermissionDenied, usererr.FailedPrecondition,
		usererr.AlreadyExists, usererr.Expired, usererr.AlreadyUsed:
		return list[0], true
	}
	return nil, false
}

// clipTo keeps s within n bytes without splitting a character.
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// change is the common path of a request on one member's points: refuse it when errs holds
// mistakes, resolve the member, and write once per idempotency key.
func (l *Ledger) change(ctx context.Context, errs usererr.List, externalID, key string, body any, write func(b *Book) (*ent.PointEntry, error)) (Result, error) {
	id, err := l.requestMember(ctx, errs, externalID)
	if err != nil {
		return Result{}, err
	}
	return l.once(ctx, id, key, Hash(body), write)
}

// requestMember refuses a request when errs holds mistakes, else resolves its member.
func (l *Ledger) requestMember(ctx context.Context, errs usererr.List, externalID string) (int, error) {
	if err := errs.Err(); err != nil {
		return 0, err
	}
	return l.memberID(ctx, externalID, "input.externalId")
}

// SpendRequest takes points from a member.
type SpendRequest struct {
	ExternalID       string
	Points           int64
	OrderAmountCents int64 // the order's settlement amount (ORDER_DEDUCTION)
	Purpose          Purpose
	OrderID          string
	IdempotencyKey   string
}

// Spend takes points, from the lots that expire first. It never takes the balance below
// zero and happens once per idempotency key, however many requests race. The spends of one
// member that wait in this process at once are carried out together in one transaction
// (spendgroup.go), each with its own key and answer.
func (l *Ledger) Spend(ctx context.Context, r SpendRequest) (Result, error) {
	var errs usererr.List
	amount.CheckPoints(&errs, "input.points", r.Points, 1)
	if r.Purpose != OrderDeduction && r.Purpose != Exchange {
		errs.Add(usererr.InvalidArgument, "input.purpose", "unknown purpose %q", r.Purpose)
	}
	if r.Purpose == OrderDeduction && r.OrderAmountCents <= 0 {
		errs.Add(usererr.InvalidArgument, "input.orderAmountCents", "an order deduction needs the order's amount")
	} else if r.OrderAmountCents != 0 {
		amount.CheckCents(&errs, "input.orderAmountCents", r.OrderAmountCents, 1)
	}
	if r.OrderID != "" {
		ident.Check(&errs, "input.orderId", ident.Ref, r.OrderID)
	}
	CheckKey(&errs, r.IdempotencyKey)
	id, err := l.requestMember(ctx, errs, r.ExternalID)
	if err != nil {
		return Result{}, err
	}
	return l.spendGrouped(ctx, id, r, Hash(r))
}

// spendOne is a spend on its own, through once: the path a group falls back to.
func (l *Ledger) spendOne(ctx context.Context, memberID int, r SpendRequest, hash string) (Result, error) {
	return l.once(ctx, memberID, r.IdempotencyKey, hash, func(b *Book) (*ent.PointEntry, error) {
		spendable, err := b.Spendable(ctx)
		if err != nil {
			return nil, err
		}
		kind, desc, err := decideSpend(r, b.Rules().Spending, b.Program.PointsPerYuan, spendable)
		if err != nil {
			return nil, err
		}
		e, _, err := b.Take(ctx, Debit{Kind: kind, Amount: r.Points, Funding: FundPlatform, Description: desc,
			RequestKey: r.IdempotencyKey, OrderID: r.OrderID, SpendableOnly: true})
		return e, err
	})
}

// decideSpend is the rule of a spend, from the member's spendable points: refused (a
// decided refusal, kept under the key) or its entry's kind and description.
func decideSpend(r SpendRequest, s rules.Spending, pointsPerYuan int64, spendable int64) (pointentry.Kind, string, error) {
	kind, desc := pointentry.KindEXCHANGE, "Exchanged for a catalogue item"
	if r.Purpose == OrderDeduction {
		q := QuoteFor(s, pointsPerYuan, spendable, r.OrderAmountCents)
		switch {
		case r.Points%s.DeductionStep != 0:
			return "", "", usererr.New(usererr.InvalidArgument, "input.points", "order deductions are in multiples of %d points", s.DeductionStep)
		case spendable < s.DeductionMinBalance:
			return "", "", usererr.New(usererr.FailedPrecondition, "input.points", "order deduction needs a balance of at least %d points; the member has %d", s.DeductionMinBalance, spendable)
		case r.Points > q.MaxPoints:
			return "", "", usererr.New(usererr.FailedPrecondition, "input.points", "at most %d points may be used on this order", q.MaxPoints)
		}
		kind, desc = pointentry.KindORDER_DEDUCTION, "Used at checkout"
		if r.OrderID != "" {
			desc = "Used at checkout on order " + r.OrderID
		}
	}
	if r.Points > spendable {
		return "", "", usererr.New(usererr.FailedPrecondition, "input.points", "insufficient points: %d spendable", max(spendable, 0))
	}
	return kind, desc, nil
}

// ReverseRequest undoes a spend, e.g. when its order is cancelled.
type ReverseRequest struct {
	SpendIdempotencyKey string
	IdempotencyKey      string
}

// ReverseSpend gives a spend's points back to the lots they came from, with their original
// expiry. A spend is reversed at most once.
func (l *Ledger) ReverseSpend(ctx context.Context, r ReverseRequest) (Result, error) {
	v, _ := auth.FromContext(ctx)
	spendReq, err := l.client.PointRequest.Query().Where(pointrequest.ProgramID(v.ProgramID), pointrequest.Key(r.SpendIdempotencyKey)).Only(ctx)
	if ent.IsNotFound(err) {
		return Result{}, usererr.New(usererr.NotFound, "input.spendIdempotencyKey", "no spend with idempotencyKey %q", r.SpendIdempotencyKey)
	}
	if err != nil {
		return Result{}, err
	}
	if spendReq.RefusalCode != "" {
		// A refused spend took nothing: there is nothing to give back.
		return Result{}, usererr.New(usererr.NotFound, "input.spendIdempotencyKey", "no spend with idempotencyKey %q: that request was refused", r.SpendIdempotencyKey)
	}
	return l.once(ctx, spendReq.MemberID, r.IdempotencyKey, Hash(r), func(b *Book) (*ent.PointEntry, error) {
		spend, err := b.Tx.PointEntry.Get(ctx, spendReq.EntryID)
		if err != nil {
			return nil, err
		}
		if spend.Kind != pointentry.KindORDER_DEDUCTION && spend.Kind != pointentry.KindEXCHANGE {
			return nil, usererr.New(usererr.FailedPrecondition, "input.spendIdempotencyKey", "%q is not a spend", r.SpendIdempotencyKey)
		}
		done, err := b.Tx.PointEntry.Query().Where(pointentry.ReversedEntryID(spend.ID)).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if done {
			return nil, usererr.New(usererr.FailedPrecondition, "input.spendIdempotencyKey", "that spend was reversed already")
		}
		e, err := b.Restore(ctx, spend, "Returned: "+spend.Description, r.IdempotencyKey)
		if ent.IsConstraintError(err) {
			return nil, usererr.New(usererr.FailedPrecondition, "input.spendIdempotencyKey", "that spend was reversed already")
		}
		return e, err
	})
}

// AdjustRequest is an operator's correction of a member's points.
type AdjustRequest struct {
	ExternalID     string
	Points         int64 // positive to add, negative to take
	Reason         string
	IdempotencyKey string
}

// Adjust adds or takes points with a mandatory reason; the entry names who and why.
func (l *Ledger) Adjust(ctx context.Context, r AdjustRequest) (Result, error) {
	var errs usererr.List
	if r.Points == 0 {
		errs.Add(usererr.InvalidArgument, "input.points", "points must not be zero")
	} else {
		amount.CheckPoints(&errs, "input.points", r.Points, -amount.MaxPoints)
	}
	if len(r.Reason) < 3 || len(r.Reason) > 200 {
		errs.Add(usererr.InvalidArgument, "input.reason", "a reason of 3–200 characters is required")
	}
	v, _ := auth.FromContext(ctx)
	desc := fmt.Sprintf("Adjustment by %s: %s", orDefault(v.Subject, string(v.Role)), r.Reason)
	return l.change(ctx, errs, r.ExternalID, r.IdempotencyKey, r, func(b *Book) (*ent.PointEntry, error) {
		if r.Points > 0 {
			return b.Credit(ctx, Grant{Kind: pointentry.KindADJUSTMENT, Amount: r.Points, Funding: FundPlatform,
				Description: desc, requestKey: r.IdempotencyKey}, b.Now, nil)
		}
		spendable, err := b.Spendable(ctx)
		if err != nil {
			return nil, err
		}
		if -r.Points > spendable {
			return nil, usererr.New(usererr.FailedPrecondition, "input.points", "cannot take %d points: %d spendable", -r.Points, max(spendable, 0))
		}
		e, _, err := b.Take(ctx, Debit{Kind: pointentry.KindADJUSTMENT, Amount: -r.Points, Funding: FundPlatform,
			Description: desc, RequestKey: r.IdempotencyKey, SpendableOnly: true})
		return e, err
	})
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Quote tells the front end the most points usable on an order before anything is spent.
func (l *Ledger) Quote(ctx context.Context, externalID string, orderAmountCents int64) (Quote, error) {
	var errs usererr.List
	if amount.CheckCents(&errs, "orderAmountCents", orderAmountCents, 1); errs.Err() != nil {
		return Quote{}, errs.Err()
	}
	id, err := l.memberID(ctx, externalID, "externalId")
	if err != nil {
		return Quote{}, err
	}
	bal, err := l.Balance(ctx, id)
	if err != nil {
		return Quote{}, err
	}
	v, _ := auth.FromContext(ctx)
	prog, err := l.client.Program.Get(ctx, v.ProgramID)
	if err != nil {
		return Quote{}, err
	}
	return QuoteFor(prog.Rules.Spending, prog.PointsPerYuan, bal.Available, orderAmountCents), nil
}

// Balance reads a member's points as of now, without waiting for the expiry job: lots past
// their expiry count for nothing.
func (l *Ledger) Balance(ctx context.Context, memberID int) (Balance, error) {
	now := l.clock.Now()
	// One statement, the account and its live lots joined: a profile read pays a round trip
	// per statement, and this is one of the few it is allowed (graph's profile test).
	var rows []struct {
		Debt      int64 `json:"debt"`
		Total     int64 `json:"total"`
		Pending   int64 `json:"pending"`
		Available int64 `json:"available"`
	}
	err := l.client.PointAccount.Query().Where(pointaccount.MemberID(memberID)).Modify(func(s *sql.Selector) {
		t := sql.Table(pointlot.Table).As("live")
		s.LeftJoin(t).OnP(sql.And(sql.ColumnsEQ(s.C(pointaccount.FieldMemberID), t.C(pointlot.FieldMemberID)),
			sql.GT(t.C(pointlot.FieldRemaining), 0), sql.GT(t.C(pointlot.FieldExpiresAt), now)))
		held := func(cmp string) sql.Querier {
			return sql.ExprP("COALESCE(SUM(CASE WHEN "+t.C(pointlot.FieldAvailableAt)+" "+cmp+" ? THEN "+t.C(pointlot.FieldRemaining)+" ELSE 0 END), 0)", now)
		}
		s.Select(s.C(pointaccount.FieldDebt), s.C(pointaccount.FieldTotal)).
			AppendSelectExprAs(held(">"), "pending").AppendSelectExprAs(held("<="), "available").
			GroupBy(s.C(pointaccount.FieldDebt), s.C(pointaccount.FieldTotal))
	}).Scan(ctx, &rows)
	if err != nil || len(rows) == 0 {
		return Balance{}, err
	}
	r := rows[0]
	return Balance{Debt: r.Debt, Total: r.Total, Pending: r.Pending, Available: r.Available - r.Debt}, nil
}

// Expiring is how many of the member's points lapse within the next d.
func (l *Ledger) Expiring(ctx context.Context, memberID int, d time.Duration) (int64, error) {
	now := l.clock.Now()
	lots, err := l.client.PointLot.Query().
		Where(pointlot.MemberID(memberID), pointlot.RemainingGT(0), pointlot.ExpiresAtGT(now), pointlot.ExpiresAtLTE(now.Add(d))).
		Select(pointlot.FieldRemaining).All(ctx)
	var n int64
	for _, lot := range lots {
		n += lot.Remaining
	}
	return n, err
}

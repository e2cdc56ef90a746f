// Package storeprog is the stores' side of the programme (docs/domain.md §8): store
// programmes (SINGLE, UNION), their stores, members' consents, what a store sees of its
// consenting members and its grants from its (or its union's shared) budget. What a STORE
// sees is decided here, below the resolvers: it reads members only through Members, which
// answers its own programme's consenting members and only the fields a store may see.
package storeprog

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/categorymonth"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/memberscore"
	"github.com/membergraph/membergraph/ent/plusterm"
	"github.com/membergraph/membergraph/ent/pointaccount"
	"github.com/membergraph/membergraph/ent/predicate"
	entstore "github.com/membergraph/membergraph/ent/store"
	"github.com/membergraph/membergraph/ent/storebudget"
	"github.com/membergraph/membergraph/ent/storeconsent"
	"github.com/membergraph/membergraph/ent/storeprogram"
	"github.com/membergraph/membergraph/ent/tier"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/ident"
	"github.com/membergraph/membergraph/internal/medal"
	internalmember "github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/score/formula"
	"github.com/membergraph/membergraph/internal/usererr"
)

// UnionPrefix names a union programme's shared budget: UNION:<programme key>. Store ids may
// not start with it (nor with PARTNER:), so no store's own budget can take that name.
const UnionPrefix = "UNION:"

// MaxPage is the largest page of Members; DefaultPage the page when none is asked.
const (
	MaxPage     = 100
	DefaultPage = 20
	// TopCategories is how many category preferences a store sees.
	TopCategories = 3
)

// Sentinel errors.
var (
	// ErrNoStore: the STORE token's subject is no store, or one in no programme: it has no
	// members to see.
	ErrNoStore = errors.New("storeprog: the token's store is in no store programme")
	// errNotConsenting: a grant's member does not consent to the store's programme. Not a
	// decided refusal (points.Decided), so it is not kept under the grant's key: an unknown
	// member's grant keeps none either, and a store must not tell the two apart by
	// reusing the key.
	errNotConsenting = errors.New("storeprog: the member does not consent to the programme")
)

// Service serves stores, programmes and consents.
type Service struct {
	client *ent.Client
	ledger *points.Ledger
}

// NewService returns the service over client, granting through ledger.
func NewService(client *ent.Client, ledger *points.Ledger) *Service {
	return &Service{client: client, ledger: ledger}
}

func (s *Service) sys(ctx context.Context) context.Context {
	v, _ := auth.FromContext(ctx)
	return auth.SystemContext(ctx, v.ProgramID)
}

func checkName(errs *usererr.List, field, v string) {
	if n := len([]rune(v)); n < 1 || n > 100 || strings.TrimSpace(v) != v {
		errs.Add(usererr.InvalidArgument, field, "%s must be 1–100 characters without surrounding spaces", field[strings.LastIndex(field, ".")+1:])
	}
}

// CreateProgram creates a store programme (ADMIN, as the privacy rules allow).
func (s *Service) CreateProgram(ctx context.Context, key, name string, kind storeprogram.Kind) (*ent.StoreProgram, error) {
	var errs usererr.List
	if !ident.Valid(ident.Ref, key) || len(key) > 48 {
		errs.Add(usererr.InvalidArgument, "input.key", "key must be 1–48 letters, digits or - _ . : @ /")
	}
	checkName(&errs, "input.name", name)
	if storeprogram.KindValidator(kind) != nil {
		errs.Add(usererr.InvalidArgument, "input.kind", "kind must be SINGLE or UNION")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	v, _ := auth.FromContext(ctx)
	p, err := s.client.StoreProgram.Create().SetProgramID(v.ProgramID).SetKey(key).SetName(name).SetKind(kind).
		SetCreatedAt(s.ledger.Clock().Now()).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, usererr.New(usererr.AlreadyExists, "input.key", "a store programme %q exists", key)
	}
	return p, err
}

// CreateStore creates a store, in the programme of key programKey or none ("").
func (s *Service) CreateStore(ctx context.Context, key, name, brand, programKey string) (*ent.Store, error) {
	var errs usererr.List
	if !ident.Valid(ident.Ref, key) || strings.HasPrefix(key, UnionPrefix) || strings.HasPrefix(key, points.PartnerFunding("")) {
		errs.Add(usererr.InvalidArgument, "input.key", "key must be %s, not starting with %s or %s", ident.Ref.Rule(), UnionPrefix, points.PartnerFunding(""))
	}
	checkName(&errs, "input.name", name)
	checkName(&errs, "input.brand", brand)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	v, _ := auth.FromContext(ctx)
	var created *ent.Store
	err := s.ledger.WithTx(ctx, func(tx *ent.Tx) error {
		c := tx.Store.Create().SetProgramID(v.ProgramID).SetKey(key).SetName(name).SetBrand(brand).SetCreatedAt(s.ledger.Clock().Now())
		if programKey != "" {
			q := tx.StoreProgram.Query().Where(storeprogram.Key(programKey))
			if s.ledger.Dialect() == dialect.MySQL {
				q.ForUpdate() // two stores entering one SINGLE programme at once: one wins
			}
			p, err := q.Only(ctx)
			if ent.IsNotFound(err) {
				return usererr.New(usererr.NotFound, "input.program", "no store programme %q", programKey)
			} else if err != nil {
				return err
			}
			n, err := tx.Store.Query().Where(entstore.StoreProgramID(p.ID)).Count(ctx)
			if err != nil {
				return err
			}
			if p.Kind == storeprogram.KindSINGLE && n > 0 {
				return usererr.New(usererr.FailedPrecondition, "input.program", "the SINGLE programme %q has its store", programKey)
			}
			if p.Kind == storeprogram.KindUNION {
				had, err := tx.StoreBudget.Query().Where(storebudget.StoreID(key)).Exist(ctx)
				if err != nil {
					return err
				}
				if had {
					return usererr.New(usererr.FailedPrecondition, "input.program", "store %q has a budget of its own; a union store must start without one", key)
				}
			}
			c.SetStoreProgramID(p.ID)
		}
		var err error
		created, err = c.Save(ctx)
		if ent.IsConstraintError(err) {
			return usererr.New(usererr.AlreadyExists, "input.key", "a store %q exists", key)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return created.Unwrap(), nil
}

// Programs lists the store programmes by key.
func (s *Service) Programs(ctx context.Context) ([]*ent.StoreProgram, error) {
	return s.client.StoreProgram.Query().Order(ent.Asc(storeprogram.FieldKey)).All(ctx)
}

// StoresOf lists a programme's stores by key.
func (s *Service) StoresOf(ctx context.Context, programID int) ([]*ent.Store, error) {
	return s.client.Store.Query().Where(entstore.StoreProgramID(programID)).Order(ent.Asc(entstore.FieldKey)).All(ctx)
}

// Program returns a programme by id, as the viewer may read it.
func (s *Service) Program(ctx context.Context, id int) (*ent.StoreProgram, error) {
	return s.client.StoreProgram.Get(s.sys(ctx), id)
}

// subjectMember is the member a join or leave acts for: a MEMBER's own (externalID empty or
// its own), or the one SERVICE names. Another member's id is NOT_FOUND, like an unknown one.
func (s *Service) subjectMember(ctx context.Context, externalID *string) (int, string, error) {
	v, _ := auth.FromContext(ctx)
	id := ""
	if externalID != nil {
		id = *externalID
	}
	if v.Is(auth.RoleMember) && id == "" {
		id = v.Subject
	}
	// The viewer's own context: a MEMBER sees only itself, so another's id is NOT_FOUND.
	m, err := internalmember.Named(ctx, s.client, id)
	if err != nil {
		return 0, "", err
	}
	return m.ID, orDefault(v.Subject, string(v.Role)), nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// inMemberLock runs fn in a transaction holding the member's points account, the lock a
// grant holds: a grant and a leave of one member never interleave.
func (s *Service) inMemberLock(ctx context.Context, memberID int, fn func(tx *ent.Tx) error) error {
	return s.ledger.WithTx(ctx, func(tx *ent.Tx) error {
		q := tx.PointAccount.Query().Where(pointaccount.MemberID(memberID))
		if s.ledger.Dialect() == dialect.MySQL {
			q.ForUpdate()
		}
		if _, err := q.Only(ctx); err != nil {
			return err
		}
		return fn(tx)
	})
}

func (s *Service) programByKey(ctx context.Context, key string) (*ent.StoreProgram, error) {
	p, err := s.client.StoreProgram.Query().Where(storeprogram.Key(key)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, usererr.New(usererr.NotFound, "input.program", "no store programme %q", key)
	}
	return p, err
}

// Join records the member's consent to a programme; joining again returns the consent that
// holds and changes nothing.
func (s *Service) Join(ctx context.Context, externalID *string, programKey string, channel storeconsent.Channel, textVersion string) (*ent.StoreConsent, error) {
	var errs usererr.List
	ident.Check(&errs, "input.textVersion", ident.Ref, textVersion)
	if storeconsent.ChannelValidator(channel) != nil {
		errs.Add(usererr.InvalidArgument, "input.channel", "unknown channel %q", channel)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	memberID, actor, err := s.subjectMember(ctx, externalID)
	if err != nil {
		return nil, err
	}
	sys := s.sys(ctx)
	p, err := s.programByKey(sys, programKey)
	if err != nil {
		return nil, err
	}
	v, _ := auth.FromContext(ctx)
	var out *ent.StoreConsent
	err = s.inMemberLock(sys, memberID, func(tx *ent.Tx) error {
		open, err := tx.StoreConsent.Query().Where(storeconsent.MemberID(memberID), storeconsent.StoreProgramID(p.ID), storeconsent.LeftAtIsNil()).First(sys)
		if err == nil {
			out = open
			return nil
		} else if !ent.IsNotFound(err) {
			return err
		}
		out, err = tx.StoreConsent.Create().SetProgramID(v.ProgramID).SetMemberID(memberID).SetStoreProgramID(p.ID).
			SetJoinedAt(s.ledger.Clock().Now()).SetChannel(channel).SetTextVersion(textVersion).SetActor(actor).Save(sys)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// Leave withdraws the member's consent at once; leaving again returns the last consent.
func (s *Service) Leave(ctx context.Context, externalID *string, programKey string) (*ent.StoreConsent, error) {
	memberID, actor, err := s.subjectMember(ctx, externalID)
	if err != nil {
		return nil, err
	}
	sys := s.sys(ctx)
	p, err := s.programByKey(sys, programKey)
	if err != nil {
		return nil, err
	}
	var out *ent.StoreConsent
	err = s.inMemberLock(sys, memberID, func(tx *ent.Tx) error {
		last, err := tx.StoreConsent.Query().Where(storeconsent.MemberID(memberID), storeconsent.StoreProgramID(p.ID)).
			Order(ent.Desc(storeconsent.FieldID)).First(sys)
		if ent.IsNotFound(err) {
			return usererr.New(usererr.NotFound, "input.program", "the member has not joined %q", programKey)
		} else if err != nil {
			return err
		}
		if last.LeftAt != nil {
			out = last
			return nil
		}
		out, err = tx.StoreConsent.UpdateOne(last).SetLeftAt(s.ledger.Clock().Now()).SetLeftBy(actor).Save(sys)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// Consents lists a member's consents, oldest first, as the viewer may read them.
func (s *Service) Consents(ctx context.Context, externalID string) ([]*ent.StoreConsent, error) {
	return s.client.StoreConsent.Query().Where(storeconsent.HasMemberWith(member.ExternalID(externalID))).
		Order(ent.Asc(storeconsent.FieldID)).All(ctx)
}

// viewerStore is the STORE viewer's store and its programme.
func (s *Service) viewerStore(ctx context.Context) (*ent.Store, error) {
	v, _ := auth.FromContext(ctx)
	if !v.Is(auth.RoleStore) {
		return nil, ErrNoStore
	}
	st, err := s.client.Store.Query().Where(entstore.Key(v.Subject)).Only(s.sys(ctx))
	if ent.IsNotFound(err) || err == nil && st.StoreProgramID == nil {
		return nil, ErrNoStore
	}
	return st, err
}

// Preference is a category's share of a member's 12-month spend, in tenths of a percent.
type Preference struct {
	Category     string
	SharePermill int64
}

// Seen is what a store sees of a consenting member.
type Seen struct {
	MemberID     int
	ExternalID   string
	Tier         *ent.Tier
	SettledScore int64
	Plus         bool
	Preferences  []Preference
}

// Where narrows Members: a tier key, a category among the top ones; "" for any.
type Where struct {
	Tier, Preference string
}

// Members is a page of the STORE viewer's programme's consenting members after the member
// id after (0 from the start), by member id. Consent is read afresh for every page, so a
// member who left is on no later page, whatever cursor is given.
func (s *Service) Members(ctx context.Context, first int, after int, where Where) ([]Seen, bool, error) {
	st, err := s.viewerStore(ctx)
	if errors.Is(err, ErrNoStore) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	sys := s.sys(ctx)
	tiers, err := s.client.Tier.Query().All(sys)
	if err != nil {
		return nil, false, err
	}
	prog, err := s.client.Program.Query().Only(sys)
	if err != nil {
		return nil, false, err
	}
	loc, err := points.Location(prog.TimeZone)
	if err != nil {
		return nil, false, err
	}
	// One instant and one 12-month window for the whole page, however many chunks it takes.
	l := lens{tiers: map[int]*ent.Tier{}, now: s.ledger.Clock().Now()}
	l.from, l.to = medal.Window(l.now, loc)
	for _, t := range tiers {
		l.tiers[t.ID] = t
	}
	var out []Seen
	// Read in chunks until the page and one more are found: the filters on preferences
	// are computed, not stored, so with one the chunks are as large as a page can be, lest
	// a rare preference cost a round trip per few members.
	chunk := first + 1
	if where.Preference != "" {
		chunk = max(chunk, MaxPage+1)
	}
	for len(out) <= first {
		q := s.client.StoreConsent.Query().Where(storeconsent.StoreProgramID(*st.StoreProgramID), storeconsent.LeftAtIsNil(),
			predicate.StoreConsent(func(q *sql.Selector) { q.Where(sql.GT(q.C(storeconsent.FieldMemberID), after)) })).Order(ent.Asc(storeconsent.FieldMemberID)).Limit(chunk)
		if where.Tier != "" {
			q.Where(storeconsent.HasMemberWith(member.HasTierWith(tier.Key(where.Tier))))
		}
		ids, err := q.Select(storeconsent.FieldMemberID).Ints(sys)
		if err != nil {
			return nil, false, err
		}
		if len(ids) == 0 {
			break
		}
		ms, err := s.client.Member.Query().Where(member.IDIn(ids...)).Order(ent.Asc(member.FieldID)).All(sys)
		if err != nil {
			return nil, false, err
		}
		seen, err := s.look(sys, ms, l)
		if err != nil {
			return nil, false, err
		}
		for _, x := range seen {
			if where.Preference == "" || hasCategory(x.Preferences, where.Preference) {
				out = append(out, x)
			}
		}
		after = ids[len(ids)-1]
	}
	more := len(out) > first
	if more {
		out = out[:first]
	}
	return out, more, nil
}

func hasCategory(ps []Preference, c string) bool {
	for _, p := range ps {
		if p.Category == c {
			return true
		}
	}
	return false
}

// lens is what look reads members against: the programme's tiers by id, and the instant and
// the 12-month window (medal.Window's months) of the page being read.
type lens struct {
	tiers    map[int]*ent.Tier
	now      time.Time
	from, to formula.Month
}

// look reads the store's view of members ms.
func (s *Service) look(sys context.Context, ms []*ent.Member, l lens) ([]Seen, error) {
	ids := make([]int, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	scores, err := s.client.MemberScore.Query().Where(memberscore.MemberIDIn(ids...)).All(sys)
	if err != nil {
		return nil, err
	}
	settled := map[int]int64{}
	for _, sc := range scores {
		settled[sc.MemberID] = sc.Settled
	}
	var rows []struct {
		MemberID int    `json:"member_id"`
		Category string `json:"category"`
		Sum      int64  `json:"sum"`
	}
	err = s.client.CategoryMonth.Query().Where(categorymonth.MemberIDIn(ids...),
		categorymonth.MonthGTE(int(l.from)), categorymonth.MonthLTE(int(l.to))).
		GroupBy(categorymonth.FieldMemberID, categorymonth.FieldCategory).
		Aggregate(ent.As(ent.Sum(categorymonth.FieldSpendCents), "sum")).Scan(sys, &rows)
	if err != nil {
		return nil, err
	}
	spend := map[int][]Preference{}
	total := map[int]int64{}
	for _, r := range rows {
		if r.Sum > 0 {
			spend[r.MemberID] = append(spend[r.MemberID], Preference{Category: r.Category, SharePermill: r.Sum})
			total[r.MemberID] += r.Sum
		}
	}
	// PLUS is a function of the clock (docs/domain.md §5): a member is PLUS while now lies in
	// one of its terms; one statement for the chunk.
	plusIDs, err := s.client.PlusTerm.Query().Where(plusterm.MemberIDIn(ids...), plusterm.StartAtLTE(l.now.UTC()), plusterm.EndAtGT(l.now.UTC())).
		Unique(true).Select(plusterm.FieldMemberID).Ints(sys)
	if err != nil {
		return nil, err
	}
	plus := map[int]bool{}
	for _, id := range plusIDs {
		plus[id] = true
	}
	out := make([]Seen, len(ms))
	for i, m := range ms {
		out[i] = Seen{MemberID: m.ID, ExternalID: m.ExternalID, Tier: l.tiers[m.TierID], SettledScore: settled[m.ID], Plus: plus[m.ID],
			Preferences: top(spend[m.ID], total[m.ID])}
	}
	return out, nil
}

// top is the largest TopCategories of ps (spend in cents) as shares of total in tenths of a
// percent, rounded down; ties by category key.
func top(ps []Preference, total int64) []Preference {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].SharePermill != ps[j].SharePermill {
			return ps[i].SharePermill > ps[j].SharePermill
		}
		return ps[i].Category < ps[j].Category
	})
	if len(ps) > TopCategories {
		ps = ps[:TopCategories]
	}
	out := make([]Preference, len(ps))
	for i, p := range ps {
		out[i] = Preference{Category: p.Category, SharePermill: p.SharePermill * 1000 / total}
	}
	return out
}

// Grant grants points from a store's budget. A store of a programme grants only to the
// programme's consenting members, from its own budget (SINGLE) or its union's shared one,
// the entry naming the store; a STORE token grants as itself only. A store id that names
// no store keeps the grant as it was before stores existed (ADMIN, SERVICE).
//
// Consent is checked under the member's lock, after the grant's key was looked up: a retry
// of a grant made before the member left replays it, whatever happened since.
func (s *Service) Grant(ctx context.Context, r points.StoreGrantRequest) (points.Result, error) {
	v, _ := auth.FromContext(ctx)
	sys := s.sys(ctx)
	if strings.HasPrefix(r.StoreID, UnionPrefix) {
		return points.Result{}, usererr.New(usererr.InvalidArgument, "input.storeId", "storeId may not start with %s", UnionPrefix)
	}
	if v.Is(auth.RoleStore) && r.StoreID != v.Subject {
		return points.Result{}, usererr.New(usererr.PermissionDenied, "input.storeId", "a STORE token grants as its own store only")
	}
	st, err := s.client.Store.Query().Where(entstore.Key(r.StoreID)).WithStoreProgram().Only(sys)
	if ent.IsNotFound(err) && !v.Is(auth.RoleStore) {
		return s.ledger.GrantFromStore(ctx, r)
	}
	notMember := usererr.New(usererr.NotFound, "input.externalId", "no consenting member %q", r.ExternalID)
	if ent.IsNotFound(err) || err == nil && st.Edges.StoreProgram == nil {
		return points.Result{}, notMember
	} else if err != nil {
		return points.Result{}, err
	}
	p := st.Edges.StoreProgram
	owner := st.Key
	if p.Kind == storeprogram.KindUNION {
		owner = UnionPrefix + p.Key
	}
	res, err := s.ledger.GrantFromBudget(sys, r, owner, func(b *points.Book) error {
		ok, err := b.Tx.StoreConsent.Query().Where(storeconsent.MemberID(b.Account.MemberID), storeconsent.StoreProgramID(p.ID),
			storeconsent.LeftAtIsNil()).Exist(sys)
		if err == nil && !ok {
			return errNotConsenting
		}
		return err
	})
	if errors.Is(err, errNotConsenting) || isUnknownMember(err) {
		// An unknown member and one who does not consent answer alike.
		return points.Result{}, notMember
	}
	return res, err
}

// isUnknownMember reports whether err is the ledger's answer for an unknown externalId.
func isUnknownMember(err error) bool {
	list, ok := usererr.From(err)
	return ok && len(list) == 1 && list[0].Code == usererr.NotFound && strings.Join(list[0].Field, ".") == "input.externalId"
}

// Fund adds a purchase to a budget, once per idempotency key (points.Ledger.FundStore). A
// union's shared budget is funded as UNION:<programme key>; a union store's own id is
// refused, since its grants never draw on a budget of its own.
func (s *Service) Fund(ctx context.Context, r points.FundRequest) (*ent.StoreBudget, bool, error) {
	sys := s.sys(ctx)
	if key, ok := strings.CutPrefix(r.StoreID, UnionPrefix); ok {
		n, err := s.client.StoreProgram.Query().Where(storeprogram.Key(key), storeprogram.KindEQ(storeprogram.KindUNION)).Count(sys)
		if err != nil {
			return nil, false, err
		} else if n == 0 {
			return nil, false, usererr.New(usererr.NotFound, "input.storeId", "no UNION store programme %q", key)
		}
		return s.ledger.FundStore(ctx, r)
	}
	st, err := s.client.Store.Query().Where(entstore.Key(r.StoreID), entstore.HasStoreProgramWith(storeprogram.KindEQ(storeprogram.KindUNION))).
		WithStoreProgram().Only(sys)
	if err == nil {
		return nil, false, usererr.New(usererr.FailedPrecondition, "input.storeId", "store %q shares its union's budget: fund %s%s", r.StoreID, UnionPrefix, st.Edges.StoreProgram.Key)
	} else if !ent.IsNotFound(err) {
		return nil, false, err
	}
	return s.ledger.FundStore(ctx, r)
}

// Budget is the budget storeID's grants draw on, as the viewer may see it; nil when there
// is none. A union store's (or UNION:<key>) is its union's shared budget, which ADMIN,
// SERVICE and the union's own stores see.
func (s *Service) Budget(ctx context.Context, storeID string) (*ent.StoreBudget, error) {
	v, _ := auth.FromContext(ctx)
	sys := s.sys(ctx)
	union := ""
	if key, ok := strings.CutPrefix(storeID, UnionPrefix); ok {
		union = key
	} else if st, err := s.client.Store.Query().Where(entstore.Key(storeID)).WithStoreProgram().Only(sys); err == nil &&
		st.Edges.StoreProgram != nil && st.Edges.StoreProgram.Kind == storeprogram.KindUNION {
		union = st.Edges.StoreProgram.Key
	} else if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	if union == "" {
		return s.ledger.StoreBudget(ctx, storeID)
	}
	if v.Is(auth.RoleStore) {
		// A STORE sees the budget of its own union only.
		ok, err := s.client.Store.Query().Where(entstore.Key(v.Subject), entstore.HasStoreProgramWith(storeprogram.Key(union))).Exist(sys)
		if err != nil || !ok {
			return nil, err
		}
		ctx = sys
	}
	return s.ledger.StoreBudget(ctx, UnionPrefix+union)
}

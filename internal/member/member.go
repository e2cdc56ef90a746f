// Package member registers members and keeps their profiles: validation of what the
// commerce side and members send, the rules of who may change which field, and how a
// phone number is shown.
package member

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/tier"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/ident"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Limits of profile fields.
const (
	MaxNickname      = 64 // characters
	MaxBoundAccounts = 10
	// ClockSkew is how far in the future a registeredAt may lie: the commerce side's clock
	// is not ours.
	ClockSkew = 5 * time.Minute
)

// EarliestRegisteredAt is the floor of a registeredAt: no account of an online shop is
// older, so an earlier one is a caller's mistake (0001-01-01 from an unset date), refused
// rather than stored (docs/domain.md §2 "Bounds").
var EarliestRegisteredAt = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

var (
	phonePattern     = regexp.MustCompile(`^\+?[0-9]{5,20}$`)
	providerPattern  = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)
	earliestBirthday = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Service registers and updates members of the viewer's programme.
type Service struct {
	client *ent.Client
	clock  clock.Clock
}

// NewService returns a Service.
func NewService(client *ent.Client, c clock.Clock) *Service {
	return &Service{client: client, clock: c}
}

// Profile holds the fields a registration or an update may set; nil means "not given".
type Profile struct {
	Nickname         *string
	Gender           *member.Gender
	Birthday         *time.Time
	Phone            *string
	RealNameVerified *bool
	BoundAccounts    []string // nil: not given; empty: none
}

// Registration is a new member.
type Registration struct {
	ExternalID   string
	Channel      member.RegistrationChannel
	RegisteredAt *time.Time // nil: now
	Profile
}

// Update changes a member's profile. Status is for ADMIN only.
type Update struct {
	ExternalID string
	Status     *member.Status
	Profile
}

// Register creates a member in the viewer's programme at the entry tier.
func (s *Service) Register(ctx context.Context, r Registration) (*ent.Member, error) {
	now := s.clock.Now()
	var errs usererr.List
	ident.Check(&errs, "input.externalId", ident.ExternalID, r.ExternalID)
	if err := member.RegistrationChannelValidator(r.Channel); err != nil {
		errs.Add(usererr.InvalidArgument, "input.registrationChannel", "unknown channel %q", r.Channel)
	}
	registeredAt := now
	if r.RegisteredAt != nil {
		registeredAt = r.RegisteredAt.UTC()
		switch {
		case registeredAt.After(now.Add(ClockSkew)):
			errs.Add(usererr.InvalidArgument, "input.registeredAt", "registeredAt lies in the future")
		case registeredAt.Before(EarliestRegisteredAt):
			errs.Add(usererr.InvalidArgument, "input.registeredAt", "registeredAt lies before %s", EarliestRegisteredAt.Format(time.RFC3339))
		}
	}
	validateProfile(&errs, r.Profile, now)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	v, _ := auth.FromContext(ctx)
	entry, err := s.client.Tier.Query().Where(tier.Level(0)).Only(ctx)
	if err != nil {
		return nil, err
	}
	var m *ent.Member
	err = store.WithTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Member.Create().SetProgramID(v.ProgramID).SetExternalID(r.ExternalID).
			SetRegistrationChannel(r.Channel).SetRegisteredAt(registeredAt).SetUpdatedAt(now).SetTier(entry).
			SetNillableNickname(r.Nickname).SetNillableGender(r.Gender).SetNillableBirthday(r.Birthday).
			SetNillablePhone(r.Phone).SetNillableRealNameVerified(r.RealNameVerified)
		if r.BoundAccounts != nil {
			c.SetBoundAccounts(normalizeProviders(r.BoundAccounts))
		}
		var err error
		if m, err = c.Save(ctx); err != nil {
			return err
		}
		// The points account is made with the member, so that the first points change
		// only has to lock it.
		return tx.PointAccount.Create().SetProgramID(v.ProgramID).SetMemberID(m.ID).Exec(ctx)
	})
	if ent.IsConstraintError(err) {
		return nil, usererr.New(usererr.AlreadyExists, "input.externalId", "a member with externalId %q exists already", r.ExternalID)
	}
	if err != nil {
		return nil, err
	}
	return m.Unwrap(), nil // detach from the committed transaction, so its edges load
}

// Update changes the given fields of a member. A MEMBER may change only its own nickname,
// gender, birthday and phone; SERVICE may not change the status.
func (s *Service) Update(ctx context.Context, u Update) (*ent.Member, error) {
	now := s.clock.Now()
	v, _ := auth.FromContext(ctx)
	var errs usererr.List
	deny := func(field string) {
		errs.Add(usererr.PermissionDenied, "input."+field, "a %s token may not change %s", v.Role, field)
	}
	if u.Status != nil {
		if !v.Is(auth.RoleAdmin) && !v.System() {
			deny("status")
		} else if err := member.StatusValidator(*u.Status); err != nil {
			errs.Add(usererr.InvalidArgument, "input.status", "unknown status %q", *u.Status)
		}
	}
	if v.Is(auth.RoleMember) {
		if u.RealNameVerified != nil {
			deny("realNameVerified")
		}
		if u.BoundAccounts != nil {
			deny("boundAccounts")
		}
	}
	validateProfile(&errs, u.Profile, now)
	ident.Check(&errs, "input.externalId", ident.ExternalID, u.ExternalID)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	m, err := s.client.Member.Query().Where(member.ExternalID(u.ExternalID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, usererr.New(usererr.NotFound, "input.externalId", "no member with externalId %q", u.ExternalID)
	}
	if err != nil {
		return nil, err
	}
	up := m.Update().SetUpdatedAt(now).
		SetNillableNickname(u.Nickname).SetNillableGender(u.Gender).SetNillableBirthday(u.Birthday).
		SetNillablePhone(u.Phone).SetNillableRealNameVerified(u.RealNameVerified).SetNillableStatus(u.Status)
	if u.BoundAccounts != nil {
		up.SetBoundAccounts(normalizeProviders(u.BoundAccounts))
	}
	return up.Save(ctx)
}

// ByExternalID returns the member of the viewer's programme with that id, or nil when it
// is unknown or not visible to the viewer. A malformed id is refused at externalId.
func (s *Service) ByExternalID(ctx context.Context, externalID string) (*ent.Member, error) {
	if err := ident.Err("externalId", ident.ExternalID, externalID); err != nil {
		return nil, err
	}
	m, err := s.client.Member.Query().Where(member.ExternalID(externalID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return m, err
}

// Named resolves the member a request names, as the caller's viewer may see it: a MEMBER
// only itself, so naming another member answers as naming no one, NOT_FOUND at
// input.externalId.
func Named(ctx context.Context, client *ent.Client, externalID string) (*ent.Member, error) {
	if err := ident.Err("input.externalId", ident.ExternalID, externalID); err != nil {
		return nil, err
	}
	m, err := client.Member.Query().Where(member.ExternalID(externalID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, usererr.New(usererr.NotFound, "input.externalId", "no member with externalId %q", externalID)
	}
	return m, err
}

// Viewer returns the member behind a MEMBER token, or nil for other viewers.
func (s *Service) Viewer(ctx context.Context) (*ent.Member, error) {
	v, _ := auth.FromContext(ctx)
	if !v.Is(auth.RoleMember) {
		return nil, nil
	}
	return s.ByExternalID(ctx, v.Subject)
}

func validateProfile(errs *usererr.List, p Profile, now time.Time) {
	if p.Nickname != nil {
		n := *p.Nickname
		if !utf8.ValidString(n) || utf8.RuneCountInString(n) > MaxNickname || strings.IndexFunc(n, unicode.IsControl) >= 0 {
			errs.Add(usererr.InvalidArgument, "input.nickname", "nickname must be at most %d printable characters", MaxNickname)
		}
	}
	if p.Gender != nil {
		if err := member.GenderValidator(*p.Gender); err != nil {
			errs.Add(usererr.InvalidArgument, "input.gender", "unknown gender %q", *p.Gender)
		}
	}
	if p.Birthday != nil && (p.Birthday.Before(earliestBirthday) || p.Birthday.After(now)) {
		errs.Add(usererr.InvalidArgument, "input.birthday", "birthday must lie between 1900-01-01 and today")
	}
	if p.Phone != nil && !phonePattern.MatchString(*p.Phone) {
		errs.Add(usererr.InvalidArgument, "input.phone", "phone must be 5–20 digits with an optional leading +")
	}
	if p.BoundAccounts != nil {
		if len(p.BoundAccounts) > MaxBoundAccounts {
			errs.Add(usererr.InvalidArgument, "input.boundAccounts", "at most %d bound accounts", MaxBoundAccounts)
		}
		for _, a := range p.BoundAccounts {
			if !providerPattern.MatchString(a) {
				errs.Add(usererr.InvalidArgument, "input.boundAccounts", "provider %q must be UPPER_SNAKE_CASE, e.g. WECHAT", a)
			}
		}
	}
}

// normalizeProviders drops repeats, keeping the first order.
func normalizeProviders(in []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(in))
	for _, a := range in {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// VisiblePhone is m's phone as the viewer in ctx may see it: whole for ADMIN, masked for
// everyone else, nil when there is none.
func VisiblePhone(ctx context.Context, m *ent.Member) *string {
	if m.Phone == "" {
		return nil
	}
	p := m.Phone
	if v, _ := auth.FromContext(ctx); !v.Is(auth.RoleAdmin) {
		p = MaskPhone(p)
	}
	return &p
}

// MaskPhone hides the middle of a phone number, keeping enough to recognise it:
// 13812345678 → 138****5678. Numbers too short to keep anything are hidden whole.
func MaskPhone(p string) string {
	if len(p) < 8 {
		return strings.Repeat("*", len(p))
	}
	keepHead, keepTail := 3, 4
	if strings.HasPrefix(p, "+") {
		keepHead = 4
	}
	return p[:keepHead] + strings.Repeat("*", len(p)-keepHead-keepTail) + p[len(p)-keepTail:]
}

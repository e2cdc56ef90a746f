// Package auth knows who is asking: the roles, the viewer carried in a request's context, and
// the JWT bearer tokens that prove it. It knows nothing of storage; the data layer's privacy
// rules (ent/schema/rule) read the viewer from the context to decide what a request may see.
package auth

import (
	"context"
	"fmt"
	"strings"
)

// Role is what a token holder is to the platform.
type Role string

// The roles of docs/architecture.md "Auth".
const (
	RoleAdmin   Role = "ADMIN"   // operators: everything in their programme
	RoleService Role = "SERVICE" // the commerce back end: reports events, reads members
	RoleMember  Role = "MEMBER"  // one member; Subject is the member's externalId
	RoleStore   Role = "STORE"   // a store on the platform; Subject is the store id
	RolePartner Role = "PARTNER" // a partner brand; Subject is the partner key
)

// Roles lists every role, in a stable order for help texts and tests.
var Roles = []Role{RoleAdmin, RoleService, RoleMember, RoleStore, RolePartner}

// ParseRole accepts a role name as people type it, in any case ("member", "Admin").
// Tokens are stricter: Verify accepts only the names as Roles spells them.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if strings.EqualFold(string(r), strings.TrimSpace(s)) {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (want one of ADMIN, SERVICE, MEMBER, STORE, PARTNER)", s)
}

// validRole reports whether r is a role exactly as Roles spells it.
func validRole(r Role) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Viewer is the authenticated principal of a request.
type Viewer struct {
	Role Role
	// Subject identifies the principal within its role: a member's externalId, a store id,
	// a partner key, or an operator's name.
	Subject string
	// ProgramID is the programme the token is scoped to; every read and write of a request
	// stays inside it.
	ProgramID int
	// system marks the platform itself (start-up seeding, jobs, migrations): it passes every
	// privacy rule. It cannot come from a token.
	system bool
}

// Is reports whether the viewer holds one of roles.
func (v Viewer) Is(roles ...Role) bool {
	for _, r := range roles {
		if v.Role == r {
			return true
		}
	}
	return false
}

// System reports whether the viewer is the platform itself.
func (v Viewer) System() bool { return v.system }

type viewerKey struct{}

// NewContext returns ctx carrying v.
func NewContext(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// FromContext returns the viewer of ctx, if any.
func FromContext(ctx context.Context) (Viewer, bool) {
	v, ok := ctx.Value(viewerKey{}).(Viewer)
	return v, ok
}

// SystemContext returns ctx acting as the platform itself, for work no token asked for.
// programID scopes it like a token would; 0 means every programme.
func SystemContext(ctx context.Context, programID int) context.Context {
	return NewContext(ctx, Viewer{system: true, ProgramID: programID, Subject: "system"})
}

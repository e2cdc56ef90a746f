// Package rule holds the privacy rules of the data model. They run below every resolver, so
// a new query path cannot forget them: without a viewer nothing is read or written, every
// row is confined to the viewer's programme, and a MEMBER sees only itself. Rows a viewer may
// not see are filtered out rather than refused, so a forbidden id and an unknown one look
// the same.
package rule

import (
	"context"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/entql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/predicate"
	"github.com/membergraph/membergraph/ent/privacy"
	"github.com/membergraph/membergraph/internal/auth"
)

// ProgramPolicy guards the programme rows: readable by any viewer of that programme,
// writable by its ADMINs.
func ProgramPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			denyWithoutViewer(),
			allowSystem(),
			privacy.ProgramQueryRuleFunc(func(ctx context.Context, q *ent.ProgramQuery) error {
				q.Where(sql.FieldEQ("id", viewer(ctx).ProgramID))
				return privacy.Allow
			}),
		},
		Mutation: privacy.MutationPolicy{
			denyWithoutViewer(),
			allowSystem(),
			privacy.ProgramMutationRuleFunc(func(ctx context.Context, m *ent.ProgramMutation) error {
				if m.Op().Is(ent.OpCreate) || !viewer(ctx).Is(auth.RoleAdmin) {
					return privacy.Denyf("only the platform creates programmes")
				}
				m.Where(sql.FieldEQ("id", viewer(ctx).ProgramID))
				return privacy.Allow
			}),
		},
	}
}

// ProgramDataPolicy guards the programme's configuration (tiers, benefits): readable by any
// viewer of the programme, writable by its ADMINs.
func ProgramDataPolicy() ent.Policy {
	return inProgramPolicy(
		[]privacy.QueryRule{privacy.AlwaysAllowRule()},
		[]privacy.MutationRule{allowRoles(auth.RoleAdmin)},
	)
}

// MemberPolicy guards member rows: ADMIN and SERVICE see the programme's members, a MEMBER
// only itself, every other role none (stores and partners gain consented or granted members
// in their own issues).
func MemberPolicy() ent.Policy {
	return inProgramPolicy(
		[]privacy.QueryRule{
			allowRoles(auth.RoleAdmin, auth.RoleService),
			ownRows(auth.RoleMember, func(f privacy.Filter, subject string) bool {
				mf, ok := f.(*ent.MemberFilter)
				if ok {
					mf.WhereExternalID(entql.StringEQ(subject))
				}
				return ok
			}),
			seeNothing(),
		},
		[]privacy.MutationRule{
			allowRoles(auth.RoleAdmin, auth.RoleService),
			privacy.MemberMutationRuleFunc(func(ctx context.Context, m *ent.MemberMutation) error {
				if !viewer(ctx).Is(auth.RoleMember) || !m.Op().Is(ent.OpUpdateOne) {
					return privacy.Denyf("a member may only update itself")
				}
				m.Filter().WhereExternalID(entql.StringEQ(viewer(ctx).Subject))
				return privacy.Allow
			}),
		},
	)
}

// MemberDataPolicy guards rows a member owns (events, points): ADMIN and SERVICE see and
// write the programme's, a MEMBER reads only its own, other roles see none. Writes come
// through the services, acting for ADMIN, SERVICE or the platform.
func MemberDataPolicy() ent.Policy {
	return inProgramPolicy(
		[]privacy.QueryRule{
			allowRoles(auth.RoleAdmin, auth.RoleService),
			ownRows(auth.RoleMember, func(f privacy.Filter, subject string) bool {
				mf, ok := f.(interface{ WhereHasMemberWith(...predicate.Member) })
				if ok {
					mf.WhereHasMemberWith(member.ExternalID(subject))
				}
				return ok
			}),
			seeNothing(),
		},
		[]privacy.MutationRule{allowRoles(auth.RoleAdmin, auth.RoleService)},
	)
}

// AuditTrailPolicy guards the stored events: the programme's ADMIN and SERVICE read and
// write them; a member reads what its events did, not the reports themselves, and other
// roles see none.
func AuditTrailPolicy() ent.Policy {
	return inProgramPolicy(
		[]privacy.QueryRule{allowRoles(auth.RoleAdmin, auth.RoleService), seeNothing()},
		[]privacy.MutationRule{allowRoles(auth.RoleAdmin, auth.RoleService)},
	)
}

// AdminDataPolicy guards the programme's operational records (settlements, the audit
// log): only its ADMINs read them; the services write them as the platform or for an ADMIN.
func AdminDataPolicy() ent.Policy {
	return inProgramPolicy(
		[]privacy.QueryRule{allowRoles(auth.RoleAdmin), seeNothing()},
		[]privacy.MutationRule{allowRoles(auth.RoleAdmin)},
	)
}

// StorePolicy guards a store's budget: ADMIN and SERVICE see and change the programme's
// stores, a STORE reads only its own, other roles see none.
func StorePolicy() ent.Policy {
	return inProgramPolicy(
		[]privacy.QueryRule{
			allowRoles(auth.RoleAdmin, auth.RoleService),
			ownRows(auth.RoleStore, func(f privacy.Filter, subject string) bool {
				sf, ok := f.(interface{ WhereStoreID(entql.StringP) })
				if ok {
					sf.WhereStoreID(entql.StringEQ(subject))
				}
				return ok
			}),
			seeNothing(),
		},
		[]privacy.MutationRule{allowRoles(auth.RoleAdmin, auth.RoleService)},
	)
}

// inProgramPolicy is the shape of every programme-owned type's policy: without a viewer
// nothing; the platform passes; every other read and write stays inside the viewer's
// programme and then meets the type's own rules. A write they do not allow is denied.
func inProgramPolicy(query []privacy.QueryRule, mutation []privacy.MutationRule) ent.Policy {
	q := privacy.QueryPolicy{denyWithoutViewer(), allowSystem(), inProgram()}
	m := privacy.MutationPolicy{denyWithoutViewer(), allowSystem(), createInProgram(), inProgram()}
	m = append(append(m, mutation...), privacy.AlwaysDenyRule())
	return privacy.Policy{Query: append(q, query...), Mutation: m}
}

// ownRows lets viewers of role read only the rows owned by their token's subject; where
// applies that filter and reports whether the type has such an owner.
func ownRows(role auth.Role, where func(f privacy.Filter, subject string) bool) privacy.QueryRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer(ctx)
		if !v.Is(role) || !where(f, v.Subject) {
			return privacy.Skip
		}
		return privacy.Allow
	})
}

func viewer(ctx context.Context) auth.Viewer {
	v, _ := auth.FromContext(ctx)
	return v
}

func denyWithoutViewer() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if _, ok := auth.FromContext(ctx); !ok {
			return privacy.Denyf("no viewer in context")
		}
		return privacy.Skip
	})
}

func allowSystem() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer(ctx).System() {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

func allowRoles(roles ...auth.Role) privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer(ctx).Is(roles...) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// programScoped is implemented by the filters of every programme-owned type.
type programScoped interface {
	WhereProgramID(entql.IntP)
}

// inProgram confines reads, updates and deletes to the viewer's programme.
func inProgram() privacy.QueryMutationRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		pf, ok := f.(programScoped)
		if !ok {
			return privacy.Denyf("%T is not programme-scoped", f)
		}
		pf.WhereProgramID(entql.IntEQ(viewer(ctx).ProgramID))
		return privacy.Skip
	})
}

// createInProgram refuses to create a row in another programme than the viewer's: filters
// do not apply to creates, so the new row's program_id is checked instead.
func createInProgram() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if !m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		pm, ok := m.(interface{ ProgramID() (int, bool) })
		if !ok {
			return privacy.Denyf("%T is not programme-scoped", m)
		}
		if id, set := pm.ProgramID(); !set || id != viewer(ctx).ProgramID {
			return privacy.Denyf("create outside the viewer's programme")
		}
		return privacy.Skip
	})
}

// seeNothing answers an empty result instead of an error, so that a viewer cannot tell a
// row it may not see from one that does not exist.
func seeNothing() privacy.QueryRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		// "id IS NULL" holds for no row.
		f.Where(entql.FieldNil("id"))
		return privacy.Allow
	})
}

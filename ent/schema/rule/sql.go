package rule

import (
	"context"

	"github.com/membergraph/membergraph/ent/privacy"
	"github.com/membergraph/membergraph/internal/auth"
)

// The read rules of MemberPolicy and MemberDataPolicy written as SQL, for the few hot reads
// that scan with database/sql through the client's driver instead of ent's builder and
// scanner (the profile read, issue 14: the builder, the rules' filters and the reflective
// scan cost more CPU than the statements they make) and so meet no privacy rule of ent.
// They give the condition the policy's filters add, on the same columns, so the statement is
// the one ent would send. TestRulesSQLMatchPolicies holds them to the policies, viewer by
// viewer: a change to one of those policies must change these too.

// MemberSQL is MemberPolicy's read filter on the members table under alias: nothing without
// a viewer (an error, as the policy denies), every row for the platform, the programme's for
// ADMIN and SERVICE, a MEMBER's own row, and no row for the other roles.
func MemberSQL(ctx context.Context, alias string) (string, []any, error) {
	v, ok := auth.FromContext(ctx)
	switch {
	case !ok:
		return "", nil, privacy.Denyf("no viewer in context")
	case v.System():
		return "1 = 1", nil, nil
	case v.Is(auth.RoleAdmin, auth.RoleService):
		return q(alias, "program_id") + " = ?", []any{v.ProgramID}, nil
	case v.Is(auth.RoleMember):
		return q(alias, "program_id") + " = ? AND " + q(alias, "external_id") + " = ?", []any{v.ProgramID, v.Subject}, nil
	}
	return q(alias, "program_id") + " = ? AND " + q(alias, "id") + " IS NULL", []any{v.ProgramID}, nil
}

// MemberDataSQL is MemberDataPolicy's read filter on a member-owned table (program_id,
// member_id) under alias: as MemberSQL, a MEMBER's rows being those of the member whose
// externalId is its token's subject.
func MemberDataSQL(ctx context.Context, alias string) (string, []any, error) {
	v, ok := auth.FromContext(ctx)
	switch {
	case !ok:
		return "", nil, privacy.Denyf("no viewer in context")
	case v.System():
		return "1 = 1", nil, nil
	case v.Is(auth.RoleAdmin, auth.RoleService):
		return q(alias, "program_id") + " = ?", []any{v.ProgramID}, nil
	case v.Is(auth.RoleMember):
		return q(alias, "program_id") + " = ? AND EXISTS (SELECT `members`.`id` FROM `members` WHERE " +
			q(alias, "member_id") + " = `members`.`id` AND `members`.`external_id` = ?)", []any{v.ProgramID, v.Subject}, nil
	}
	return q(alias, "program_id") + " = ? AND " + q(alias, "id") + " IS NULL", []any{v.ProgramID}, nil
}

func q(alias, column string) string { return "`" + alias + "`.`" + column + "`" }

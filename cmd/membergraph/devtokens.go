package main

import (
	"fmt"
	"io"
	"time"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/demo"
)

// devMember is the member whose MEMBER token a development server prints: the demo data's
// showcase member, whom the README's member examples use.
const devMember = demo.ShowcaseMember

// devTokenTTL is how long the printed development tokens last; the secret outlives restarts,
// so they do too.
const devTokenTTL = 7 * 24 * time.Hour

type devToken struct {
	role  auth.Role
	label string
	token string
}

// issueDevTokens signs the tokens a development server prints at start, ADMIN first (the
// one the playground is pre-filled with).
func issueDevTokens(signer *auth.Signer) ([]devToken, error) {
	want := []struct {
		role    auth.Role
		subject string
		label   string
	}{
		{auth.RoleAdmin, "dev", "ADMIN"},
		{auth.RoleService, "dev", "SERVICE"},
		{auth.RoleMember, devMember, "MEMBER " + devMember},
	}
	out := make([]devToken, len(want))
	for i, w := range want {
		tok, err := signer.Issue(auth.TokenRequest{Role: w.role, Subject: w.subject, TTL: devTokenTTLFor(signer)})
		if err != nil {
			return nil, err
		}
		out[i] = devToken{role: w.role, label: w.label, token: tok}
	}
	return out, nil
}

// printDevTokens tells a developer which tokens to use and where their secret lives; the
// secret itself is never printed.
func printDevTokens(w io.Writer, secretFile string, toks []devToken, ttl time.Duration) {
	fmt.Fprintf(w, "\nDEVELOPMENT MODE: no MEMBERGRAPH_AUTH_SECRET, so tokens are signed with the secret kept in\n"+
		"  %s\n"+
		"(mode 0600). Tokens survive restarts, and 'membergraph token --role ROLE [--member ID]' signs\n"+
		"for this server with the same file. Never use this mode in production (--production refuses it).\n"+
		"Tokens valid for %s:\n\n", secretFile, ttl)
	for _, t := range toks {
		note := ""
		if t.role == auth.RoleAdmin {
			note = "  (pre-filled in the playground for visitors on this machine)"
		}
		fmt.Fprintf(w, "  %s%s\n    Authorization: Bearer %s\n", t.label, note, t.token)
	}
	fmt.Fprintln(w)
}

// devTokenTTLFor is the development tokens' lifetime under signer's maximum.
func devTokenTTLFor(signer *auth.Signer) time.Duration { return min(devTokenTTL, signer.MaxTTL()) }

package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/membergraph/membergraph/internal/auth"
)

func token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	role := fs.String("role", "", "ADMIN, SERVICE, MEMBER, STORE or PARTNER (required)")
	memberID := fs.String("member", "", "the member's externalId (MEMBER tokens)")
	store := fs.String("store", "", "the store id (STORE tokens)")
	partner := fs.String("partner", "", "the partner key (PARTNER tokens)")
	subject := fs.String("subject", "", "who an ADMIN or SERVICE token is for, for the audit trail")
	prog := fs.String("program", env("MEMBERGRAPH_PROGRAM", ""), "programme key; empty: the server's default [MEMBERGRAPH_PROGRAM]")
	ttl := fs.Duration("ttl", 24*time.Hour, "lifetime of the token")
	secret := fs.String("auth-secret", env("MEMBERGRAPH_AUTH_SECRET", ""), "the server's secret [MEMBERGRAPH_AUTH_SECRET]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *secret == "" {
		return errors.New("set MEMBERGRAPH_AUTH_SECRET (or --auth-secret) to the secret the server uses")
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("--role: %w", err)
	}
	sub := map[auth.Role]string{
		auth.RoleMember: *memberID, auth.RoleStore: *store, auth.RolePartner: *partner,
		auth.RoleAdmin: *subject, auth.RoleService: *subject,
	}[r]
	signer, err := auth.NewSigner([]byte(*secret), nil)
	if err != nil {
		return err
	}
	tok, err := signer.Issue(auth.TokenRequest{Role: r, Subject: sub, Program: *prog, TTL: *ttl})
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

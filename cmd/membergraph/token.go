package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
)

func token(args []string) error {
	fs := newFlagSet("token --role ROLE [--member ID] [flags]", `Print a bearer token for a server. It is signed with MEMBERGRAPH_AUTH_SECRET (or
--auth-secret) when set; otherwise with the development secret that a serve without a
secret keeps in its state directory, so it works against that server.`)
	var cfg config
	role := fs.String("role", "", "ADMIN, SERVICE, MEMBER, STORE or PARTNER, in any case (required)")
	memberID := fs.String("member", "", "the member's externalId (MEMBER tokens)")
	store_ := fs.String("store", "", "the store id (STORE tokens)")
	partner := fs.String("partner", "", "the partner key (PARTNER tokens)")
	subject := fs.String("subject", "", "who an ADMIN or SERVICE token is for, for the audit trail")
	prog := fs.String("program", env("MEMBERGRAPH_PROGRAM", ""), "key of the programme the token is for; empty: the server's default [MEMBERGRAPH_PROGRAM]")
	ttl := fs.Duration("ttl", 24*time.Hour, "lifetime of the token, at most --token-max-ttl")
	cfg.bindSecret(fs, "the server signs with; empty: the development secret of the state directory")
	cfg.bindTokenMaxTTL(fs)
	cfg.bindStateDir(fs, "the state directory of the development server whose secret signs the token when none is set; default as serve's: beside the SQLite file of MEMBERGRAPH_DATABASE_URL, else data")
	cfg.DatabaseURL = env("MEMBERGRAPH_DATABASE_URL", store.DefaultURL)
	if err := fs.Parse(args); err != nil {
		return err
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("--role: %w", err)
	}
	secret := []byte(cfg.AuthSecret)
	if len(secret) == 0 {
		dir, err := cfg.stateDir()
		if err != nil {
			return err
		}
		if secret, err = auth.ReadDevSecret(dir); errors.Is(err, auth.ErrNoDevSecret) {
			return fmt.Errorf("set MEMBERGRAPH_AUTH_SECRET (or --auth-secret) to the secret the server uses; "+
				"a development server keeps its own in %s, which has none yet (start serve first, or pass --state-dir)", dir)
		} else if err != nil {
			return err
		}
	}
	sub := map[auth.Role]string{
		auth.RoleMember: *memberID, auth.RoleStore: *store_, auth.RolePartner: *partner,
		auth.RoleAdmin: *subject, auth.RoleService: *subject,
	}[r]
	signer, err := auth.NewSigner(secret, nil)
	if err != nil {
		return err
	}
	signer.SetMaxTTL(cfg.TokenMaxTTL)
	tok, err := signer.Issue(auth.TokenRequest{Role: r, Subject: sub, Program: *prog, TTL: *ttl})
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

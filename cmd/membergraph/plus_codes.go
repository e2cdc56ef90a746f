package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/pluscode"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/usererr"
)

// envCodeKey names the key PLUS codes are hashed with.
const envCodeKey = "MEMBERGRAPH_CODE_KEY"

// bindCodeKey registers --code-key; help shows only whether one is set.
func (c *config) bindCodeKey(fs *flag.FlagSet) {
	c.CodeKey = env(envCodeKey, "")
	fs.Var(&hidden{p: &c.CodeKey, show: func(string) string { return "(set)" }}, "code-key",
		"the `KEY` (≥ 32 bytes) PLUS redemption codes are stored hashed with; empty: derived from the auth secret, so rotating that secret voids unredeemed codes; help shows only whether it is set ["+envCodeKey+"]")
}

// codeHasher is the hasher of PLUS codes: under the configured code key, else under a key
// derived from authSecret. Every server and `plus codes` run against one database must
// agree on it, or codes issued by one do not redeem on another.
func (c *config) codeHasher(authSecret []byte) (*pluscode.Hasher, error) {
	key := pluscode.DeriveKey(authSecret)
	if c.CodeKey != "" {
		key = []byte(c.CodeKey)
	}
	h, err := pluscode.NewHasher(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envCodeKey, err)
	}
	return h, nil
}

// authSecretOrDev is the configured auth secret, else the development secret of the state
// directory, as `token` finds it.
func (c *config) authSecretOrDev() ([]byte, error) {
	if c.AuthSecret != "" {
		return []byte(c.AuthSecret), nil
	}
	dir, err := c.stateDir()
	if err != nil {
		return nil, err
	}
	secret, err := auth.ReadDevSecret(dir)
	if errors.Is(err, auth.ErrNoDevSecret) {
		return nil, fmt.Errorf("set %s or MEMBERGRAPH_AUTH_SECRET to what the server uses; "+
			"a development server keeps its secret in %s, which has none yet (start serve first, or pass --state-dir)", envCodeKey, dir)
	}
	return secret, err
}

// plusCodes issues a batch of PLUS codes into a CSV file, streaming: the codes are made,
// stored (hashes only) and written ChunkSize at a time, so memory stays flat however many.
func plusCodes(ctx context.Context, args []string) error {
	var cfg config
	fs := newFlagSet("plus codes --plan PLAN --count N --expires WHEN --out FILE [flags]", `Issue a batch of PLUS redemption codes into a new CSV file (code,batch,plan,expires_at),
for enterprise group purchases and promotions too big for issuePlusCodes. The codes are shown
only in that file: the database keeps a keyed hash of each. The file is made readable by its
owner only; it is never overwritten. The issue is audited as the operating-system user.`)
	cfg.bindDatabase(fs)
	cfg.bindProgram(fs, "key of the programme whose codes to issue")
	cfg.bindSecret(fs, "the server signs with, from which the code key is derived when none is set; empty: the development secret of the state directory")
	cfg.bindStateDir(fs, "the state directory of the development server whose secret applies when none is set; default as serve's")
	cfg.bindCodeKey(fs)
	plan := fs.String("plan", "", "the PLUS plan each code grants, e.g. ANNUAL (required)")
	count := fs.Int("count", 0, "how many codes, 1–"+strconv.Itoa(pluscode.MaxStream)+" (required)")
	expires := fs.String("expires", "", "when the codes stop redeeming: YYYY-MM-DD (valid through that day in the programme's time zone) or an RFC 3339 instant (required)")
	purpose := fs.String("purpose", "ENTERPRISE", "ENTERPRISE or PROMOTION")
	label := fs.String("label", "", "who or what the batch is for, e.g. the company")
	out := fs.String("out", "", "the CSV file to create; - for standard output (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *plan == "" || *count == 0 || *expires == "" || *out == "" {
		fs.Usage()
		return errors.New("--plan, --count, --expires and --out are required")
	}
	secret, err := cfg.authSecretOrDev()
	if cfg.CodeKey == "" && err != nil {
		return err
	}
	hasher, err := cfg.codeHasher(secret)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	pid, err := program.NewService(db.Client).IDByKey(ctx, cfg.Program)
	if err != nil {
		return err
	}
	prog, err := db.Client.Program.Get(auth.SystemContext(ctx, pid), pid)
	if err != nil {
		return err
	}
	at, err := parseExpiry(*expires, prog.TimeZone)
	if err != nil {
		return fmt.Errorf("--expires: %w", err)
	}

	var w io.Writer = os.Stdout
	var f *os.File
	if *out != "-" {
		// O_EXCL: a file of earlier codes is never overwritten, as they are shown only once.
		if f, err = os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("code,batch,plan,expires_at\n"); err != nil {
		return err
	}
	svc := pluscode.NewService(db.Client, points.NewLedger(db.Client, db.Dialect, clock.System{}, nil), nil, hasher)
	actx := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleAdmin, Subject: "cli:" + osUser(), ProgramID: pid})
	var line []byte
	b, err := svc.Stream(actx, pluscode.IssueRequest{Purpose: *purpose, Plan: *plan, Count: *count, ExpiresAt: at, Label: *label},
		func(b *ent.PlusCodeBatch, codes []string) error {
			for _, c := range codes {
				line = append(line[:0], c...)
				line = append(line, ',')
				line = strconv.AppendInt(line, int64(b.ID), 10)
				line = append(line, ',')
				line = append(line, b.Plan...)
				line = append(line, ',')
				line = b.ExpiresAt.UTC().AppendFormat(line, time.RFC3339)
				line = append(line, '\n')
				if _, err := bw.Write(line); err != nil {
					return err
				}
			}
			return bw.Flush() // what is committed is on disk before the next chunk
		})
	if ue, ok := usererr.From(err); ok {
		if f != nil {
			f.Close()
			os.Remove(*out) // nothing was issued
		}
		return fmt.Errorf("refused: %v", ue)
	}
	if err != nil {
		if b != nil {
			return fmt.Errorf("%w; %s holds every code the database has of this batch", err, *out)
		}
		return err
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "%s: batch %d: %d %s codes (%s), redeemable until %s, written to %s\n",
		db.Redacted, b.ID, b.Count, b.Plan, b.Purpose, b.ExpiresAt.UTC().Format(time.RFC3339), *out)
	return nil
}

// parseExpiry reads a day (the codes redeem through its end in zone) or an RFC 3339 instant.
func parseExpiry(s, zone string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	loc, err := points.Location(zone)
	if err != nil {
		return time.Time{}, err
	}
	d, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("want YYYY-MM-DD or an RFC 3339 instant, got %q", s)
	}
	return d.AddDate(0, 0, 1).UTC(), nil
}

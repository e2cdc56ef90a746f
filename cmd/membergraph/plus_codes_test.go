package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/pluscode"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

const testCodeKey = "a-code-key-for-tests-only-0123456789"

// readCodes reads a `plus codes` file: its header and rows.
func readCodes(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "code,batch,plan,expires_at" {
		t.Fatalf("header %v", rows)
	}
	return rows[1:]
}

// TestPlusCodesCommandWritesValidCodes: `plus codes` writes N distinct codes that parse with
// their check character, owner-readable only, and the database holds exactly their keyed
// hashes under the configured key, nothing in clear; an existing file is never
// overwritten, a refused batch leaves no file and no batch; the issue is audited as the
// operating-system user, without the codes.
func TestPlusCodesCommandWritesValidCodes(t *testing.T) {
	bin := buildBinary(t)
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			url := b.URL(t)
			env := []string{"MEMBERGRAPH_DATABASE_URL=" + url, "MEMBERGRAPH_CODE_KEY=" + testCodeKey}
			if code, out := runBin(t, bin, env, "migrate"); code != 0 {
				t.Fatalf("migrate: exit %d\n%s", code, out)
			}
			ctx := context.Background()
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := program.NewService(db.Client).EnsurePreset(ctx, program.JDPreset()); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "codes.csv")
			const n = 2345 // three chunks, the last one partial
			args := []string{"plus", "codes", "--plan", "ANNUAL", "--count", "2345", "--expires", "2030-06-30", "--label", "Acme Ltd", "--out", out}
			code, msg := runBin(t, bin, env, args...)
			if code != 0 || !strings.Contains(msg, "2345 ANNUAL codes (ENTERPRISE)") {
				t.Fatalf("plus codes: exit %d\n%s", code, msg)
			}
			if info, err := os.Stat(out); err != nil || info.Mode().Perm() != 0o600 {
				t.Fatalf("%s: %v %v, want mode 0600", out, info, err)
			}
			rows := readCodes(t, out)
			h, _ := pluscode.NewHasher([]byte(testCodeKey))
			want := map[string]bool{}
			for _, r := range rows {
				canon, err := pluscode.Parse(r[0])
				// The last day in Asia/Shanghai ends at 1 July 00:00 +08:00 = 30 June 16:00 UTC.
				if err != nil || len(r[0]) != pluscode.FormattedLength || r[2] != "ANNUAL" || r[3] != "2030-06-30T16:00:00Z" || r[1] != rows[0][1] {
					t.Fatalf("row %v: %v", r, err)
				}
				if want[h.Hash(canon)] {
					t.Fatalf("duplicate code %s", r[0])
				}
				want[h.Hash(canon)] = true
			}
			if len(want) != n {
				t.Fatalf("%d distinct codes, want %d", len(want), n)
			}
			stored, err := db.SQL.Query("SELECT hash FROM plus_codes")
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for stored.Next() {
				var hash string
				if err := stored.Scan(&hash); err != nil {
					t.Fatal(err)
				}
				if !want[hash] {
					t.Fatalf("stored %q is no code's hash under the key", hash)
				}
				got++
			}
			stored.Close()
			if got != n {
				t.Fatalf("%d stored, want %d", got, n)
			}

			// Never over an existing file; a refusal leaves neither file nor batch.
			if code, msg := runBin(t, bin, env, args...); code == 0 || !strings.Contains(msg, "file exists") {
				t.Fatalf("second run onto the same file: exit %d\n%s", code, msg)
			}
			if again := readCodes(t, out); len(again) != n || again[0][0] != rows[0][0] {
				t.Fatal("the file of the first batch changed")
			}
			trial := filepath.Join(t.TempDir(), "trial.csv")
			if code, msg := runBin(t, bin, env, "plus", "codes", "--plan", "TRIAL", "--count", "3", "--expires", "2030-06-30", "--out", trial); code == 0 || !strings.Contains(msg, "refused") {
				t.Fatalf("a trial batch: exit %d\n%s", code, msg)
			}
			if _, err := os.Stat(trial); !os.IsNotExist(err) {
				t.Fatalf("a refused batch left %s: %v", trial, err)
			}
			var batches int
			var actor, after string
			_ = db.SQL.QueryRow("SELECT COUNT(*) FROM plus_code_batches").Scan(&batches)
			if err := db.SQL.QueryRow("SELECT actor, after FROM audit_entries WHERE action = 'plus.codes.issue'").Scan(&actor, &after); err != nil {
				t.Fatal(err)
			}
			if batches != 1 || !strings.HasPrefix(actor, "ADMIN:cli:") || !strings.Contains(after, `"count":2345`) || strings.Contains(after, rows[0][0]) {
				t.Fatalf("%d batches; audit %s %s", batches, actor, after)
			}
		})
	}
}

// TestPlusCodesCommandCodesRedeemOnServe: with no code key configured, `plus codes` and a
// development serve derive the same key from the development secret, so a code from the
// file redeems through the API, once; a code issued under another key is unknown there.
func TestPlusCodesCommandCodesRedeemOnServe(t *testing.T) {
	bin := buildBinary(t)
	work := t.TempDir()
	env := []string{"MEMBERGRAPH_DATABASE_URL=sqlite://" + filepath.Join(work, "data", "mg.db"),
		"MEMBERGRAPH_PLUGIN_DIR=" + filepath.Join(work, "no-plugins"), "MEMBERGRAPH_DEMO=false"}
	s := startServe(t, bin, work, env)
	admin := s.token("ADMIN")
	for _, m := range []string{"staff-1", "staff-2"} {
		if code, body := s.query(admin, `mutation { registerMember(input: {externalId: "`+m+`", registrationChannel: APP}) { userErrors { code } } }`); code != 200 || !strings.Contains(body, `"userErrors":[]`) {
			t.Fatalf("register %s: %d %s", m, code, body)
		}
	}
	out := filepath.Join(work, "codes.csv")
	if code, msg := runBin(t, bin, env, "plus", "codes", "--plan", "ANNUAL", "--count", "3", "--expires", "2030-01-01T00:00:00Z", "--purpose", "PROMOTION", "--out", out); code != 0 {
		t.Fatalf("plus codes: exit %d\n%s", code, msg)
	}
	other := filepath.Join(work, "other.csv")
	if code, msg := runBin(t, bin, append(env, "MEMBERGRAPH_CODE_KEY="+testCodeKey), "plus", "codes", "--plan", "ANNUAL", "--count", "1", "--expires", "2030-01-01", "--out", other); code != 0 {
		t.Fatalf("plus codes under another key: exit %d\n%s", code, msg)
	}
	secret, err := auth.ReadDevSecret(filepath.Join(work, "data"))
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := auth.NewSigner(secret, nil)
	redeem := func(member, code string) string {
		tok, err := signer.Issue(auth.TokenRequest{Role: auth.RoleMember, Subject: member, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		_, body := s.query(tok, `mutation { redeemPlusCode(input: {externalId: "`+member+`", code: "`+code+`"}) { term { source plan } userErrors { code } } }`)
		return body
	}
	codes, foreign := readCodes(t, out), readCodes(t, other)
	if body := redeem("staff-1", strings.ToLower(codes[0][0])); !strings.Contains(body, `"term":{"source":"CODE","plan":"ANNUAL"}`) {
		t.Fatalf("redeem a code of the file: %s", body)
	}
	if body := redeem("staff-2", codes[0][0]); !strings.Contains(body, `"code":"ALREADY_USED"`) {
		t.Fatalf("redeem it again: %s", body)
	}
	if body := redeem("staff-2", foreign[0][0]); !strings.Contains(body, `"code":"NOT_FOUND"`) {
		t.Fatalf("redeem a code hashed under another key: %s", body)
	}
}

// TestPlusCodesHelpHidesTheKey: `plus codes -h` exits 0, names its flags, and shows of the
// code key and the auth secret only that they are set.
func TestPlusCodesHelpHidesTheKey(t *testing.T) {
	bin := buildBinary(t)
	code, out := runBin(t, bin, []string{"MEMBERGRAPH_CODE_KEY=" + testCodeKey, "MEMBERGRAPH_AUTH_SECRET=" + testSecret}, "plus", "codes", "-h")
	if code != 0 || strings.Contains(out, testCodeKey) || strings.Contains(out, testSecret) {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, f := range []string{"-plan", "-count", "-expires", "-out", "-purpose", "-label", "-code-key", "MEMBERGRAPH_CODE_KEY", "(set)"} {
		if !strings.Contains(out, f) {
			t.Errorf("help lacks %q:\n%s", f, out)
		}
	}
}

// TestShortCodeKeyFailsServeAtOnce: a configured code key under 32 bytes stops serve before
// it listens or creates anything, with one line naming the variable.
func TestShortCodeKeyFailsServeAtOnce(t *testing.T) {
	bin := buildBinary(t)
	work := t.TempDir()
	code, out := runBin(t, bin, []string{"MEMBERGRAPH_CODE_KEY=short", "MEMBERGRAPH_DATABASE_URL=sqlite://" + filepath.Join(work, "x.db"),
		"MEMBERGRAPH_STATE_DIR=" + filepath.Join(work, "state")}, "serve", "--addr", "127.0.0.1:0")
	if code == 0 || strings.TrimSpace(out) != "membergraph: MEMBERGRAPH_CODE_KEY: "+pluscode.ErrWeakKey.Error() {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if left, _ := os.ReadDir(work); len(left) > 0 {
		t.Fatalf("a refused start left %s", left[0].Name())
	}
}

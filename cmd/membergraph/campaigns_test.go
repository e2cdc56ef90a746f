package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/membergraph/membergraph/ent"
	entcampaign "github.com/membergraph/membergraph/ent/campaign"
	"github.com/membergraph/membergraph/ent/campaignresult"
	"github.com/membergraph/membergraph/ent/campaignrun"
	entmember "github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/ent/outboxmessage"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/ent/privacy"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/campaign"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/member"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/segment"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
	"github.com/membergraph/membergraph/internal/tag/cond"
)

// TestCampaignRunKill9: `membergraph campaigns run` is SIGKILLed in the middle of a run
// (some chunks committed, the run unfinished) and started again twice at once: every member of the
// segment is hit exactly once — one DONE result, one ledger credit, the campaign's and the
// run's counts equal to the members — on SQLite and MariaDB.
func TestCampaignRunKill9(t *testing.T) {
	bin := buildBinary(t)
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			url := b.URL(t)
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := program.NewService(db.Client).EnsurePreset(ctx, program.JDPreset()); err != nil {
				t.Fatal(err)
			}
			pid, err := program.NewService(db.Client).IDByKey(ctx, program.PresetKey)
			if err != nil {
				t.Fatal(err)
			}
			// 16:00 in Shanghai: the daily 09:00 run of that date is due.
			start := "2026-11-22T16:00:00+08:00"
			at, _ := time.Parse(time.RFC3339, start)
			clk := clock.NewManual(at)
			admin := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleAdmin, Subject: "ops", ProgramID: pid})
			const n, pointsEach = 400, 7
			members := member.NewService(db.Client, clk)
			for i := range n {
				if _, err := members.Register(admin, member.Registration{ExternalID: fmt.Sprintf("c-%03d", i), Channel: entmember.RegistrationChannelAPP}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := segment.NewService(db.Client, clk).Create(admin, segment.Input{Key: "app", Name: "App members",
				Filter: cond.Node{Field: cond.RegistrationChannel, Values: []string{"APP"}}}); err != nil {
				t.Fatal(err)
			}
			ledger := points.NewLedger(db.Client, db.Dialect, clk, nil)
			svc := campaign.NewService(db.Client, ledger, segment.NewService(db.Client, clk), campaign.SegmentsByKey(db.Client), campaign.Config{})
			c, err := svc.Create(admin, campaign.Spec{Key: "crash", Name: "Crash", Segment: "app",
				Trigger: campaign.Trigger{Kind: entcampaign.TriggerKindDAILY, TimeOfDay: "09:00"},
				Action:  campaign.Action{Kind: entcampaign.ActionGRANT_POINTS, Points: pointsEach, Budget: campaign.Platform}, BudgetPoints: 1_000_000})
			if err != nil {
				t.Fatal(err)
			}
			sys := auth.SystemContext(ctx, pid)
			run := func() *exec.Cmd {
				return exec.Command(bin, "campaigns", "run", "--database-url", url, "--clock-start", start, "--chunk", "10")
			}

			// Kill it once some chunks committed, before the run finished.
			cmd := run()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var done int
			for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
				done, _ = db.Client.CampaignResult.Query().Where(campaignresult.CampaignID(c.ID)).Count(sys)
				if done >= 30 {
					break
				}
			}
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			r, err := db.Client.CampaignRun.Query().Where(campaignrun.CampaignID(c.ID)).Only(sys)
			if err != nil {
				t.Fatal(err)
			}
			if r.FinishedAt != nil || r.Done >= n {
				t.Fatalf("the kill came after the run finished (%d done): nothing was tested", r.Done)
			}
			t.Logf("killed with %d of %d members done", r.Done, n)

			// Two reruns at once, as two replicas would: they share the rest of the run.
			var wg sync.WaitGroup
			outs, errs := make([][]byte, 2), make([]error, 2)
			for i := range 2 {
				wg.Add(1)
				go func() { defer wg.Done(); outs[i], errs[i] = run().CombinedOutput() }()
			}
			wg.Wait()
			for i := range 2 {
				if errs[i] != nil {
					t.Fatalf("rerun %d: %v\n%s", i, errs[i], outs[i])
				}
			}
			// A third run the same day finds the run finished and does nothing.
			if out, err := run().CombinedOutput(); err != nil {
				t.Fatalf("third run: %v\n%s", err, out)
			}
			r, err = db.Client.CampaignRun.Query().Where(campaignrun.CampaignID(c.ID)).Only(sys)
			if err != nil {
				t.Fatal(err)
			}
			if r.FinishedAt == nil || r.Done != n || r.Points != n*pointsEach {
				t.Fatalf("run after the rerun = %+v, want finished with %d done, %d points", r, n, n*pointsEach)
			}
			results, err := db.Client.CampaignResult.Query().Where(campaignresult.CampaignID(c.ID), campaignresult.StatusEQ(campaignresult.StatusDONE)).Count(sys)
			if err != nil || results != n {
				t.Fatalf("%d DONE results (%v), want %d", results, err, n)
			}
			var perMember []struct {
				MemberID int   `json:"member_id"`
				Count    int   `json:"count"`
				Sum      int64 `json:"sum"`
			}
			err = db.Client.PointEntry.Query().Where(pointentry.DescriptionEQ("Campaign: Crash")).
				GroupBy(pointentry.FieldMemberID).Aggregate(ent.Count(), ent.Sum(pointentry.FieldAmount)).Scan(sys, &perMember)
			if err != nil {
				t.Fatal(err)
			}
			if len(perMember) != n {
				t.Fatalf("%d members credited, want %d", len(perMember), n)
			}
			for _, m := range perMember {
				if m.Count != 1 || m.Sum != pointsEach {
					t.Fatalf("member %d: %d credits summing %d, want one of %d", m.MemberID, m.Count, m.Sum, pointsEach)
				}
			}
			// The outbox heard each credit and each result once (webhooks): n of each.
			for _, typ := range []string{outbox.PointsChanged, outbox.CampaignResult} {
				if k, err := db.Client.OutboxMessage.Query().Where(outboxmessage.EventType(typ)).Count(privacy.DecisionContext(sys, privacy.Allow)); err != nil || k != n {
					t.Fatalf("%d %s outbox messages (%v), want %d", k, typ, err, n)
				}
			}
			got, err := db.Client.Campaign.Get(sys, c.ID)
			if err != nil || got.SpentPoints != n*pointsEach {
				t.Fatalf("campaign spent %d (%v), want %d", got.SpentPoints, err, n*pointsEach)
			}
		})
	}
}

// TestCampaignTriggerKill9: serve commits a member's orders and is SIGKILLed before its
// event-trigger consumer read them (its poll is an hour, after the read at start); nothing
// ran inside the orders' transactions. Two `membergraph campaigns run` started at once — two
// consumers on one database — then a third read the committed events: every accepted order
// hits its member exactly once (one run, one DONE result, one credit), the rejected order
// and the replayed one nobody, on SQLite and MariaDB.
func TestCampaignTriggerKill9(t *testing.T) {
	bin := buildBinary(t)
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			url := b.URL(t)
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := program.NewService(db.Client).EnsurePreset(ctx, program.JDPreset()); err != nil {
				t.Fatal(err)
			}
			pid, err := program.NewService(db.Client).IDByKey(ctx, program.PresetKey)
			if err != nil {
				t.Fatal(err)
			}
			clk := clock.NewManual(time.Now())
			admin := auth.NewContext(ctx, auth.Viewer{Role: auth.RoleAdmin, Subject: "ops", ProgramID: pid})
			const n, pointsEach = 40, 7
			members := member.NewService(db.Client, clk)
			for i := range n {
				if _, err := members.Register(admin, member.Registration{ExternalID: fmt.Sprintf("t-%02d", i), Channel: entmember.RegistrationChannelAPP}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := segment.NewService(db.Client, clk).Create(admin, segment.Input{Key: "app", Name: "App members",
				Filter: cond.Node{Field: cond.RegistrationChannel, Values: []string{"APP"}}}); err != nil {
				t.Fatal(err)
			}
			ledger := points.NewLedger(db.Client, db.Dialect, clk, nil)
			svc := campaign.NewService(db.Client, ledger, segment.NewService(db.Client, clk), campaign.SegmentsByKey(db.Client), campaign.Config{})
			c, err := svc.Create(admin, campaign.Spec{Key: "thanks", Name: "Thanks", Segment: "app",
				Trigger: campaign.Trigger{Kind: entcampaign.TriggerKindEVENT, Event: "ORDER_COMPLETED"},
				Action:  campaign.Action{Kind: entcampaign.ActionGRANT_POINTS, Points: pointsEach, Budget: campaign.Platform}, BudgetPoints: 1_000_000})
			if err != nil {
				t.Fatal(err)
			}
			sys := auth.SystemContext(ctx, pid)

			srv := startServe(t, bin, t.TempDir(), chaosEnv(t, url), "--campaign-trigger-poll", "1h", "--campaign-trigger-lease", "1s")
			time.Sleep(300 * time.Millisecond) // its consumer's read at start is behind it
			client := newChaosClient(t, srv.base, auth.RoleService)
			// Two orders a member (t-00's second names an unknown category: rejected), then
			// the first batch again (replays).
			now := time.Now()
			var first, second []map[string]any
			for i := range n {
				first = append(first, chaosOrder(fmt.Sprintf("a-%02d", i), fmt.Sprintf("t-%02d", i), 5000, now))
				o := chaosOrder(fmt.Sprintf("b-%02d", i), fmt.Sprintf("t-%02d", i), 6000, now)
				if i == 0 {
					o["lines"].([]map[string]any)[0]["category"] = "NO_SUCH_CATEGORY"
				}
				second = append(second, o)
			}
			want := map[string]int{}
			for _, batch := range [][]map[string]any{first, second, first} {
				res, a, err := client.record(batch)
				if err != nil || a.code() != "" {
					t.Fatalf("record: %v %+v", err, a.Errors)
				}
				for i, r := range res {
					if r.Status == "ACCEPTED" {
						want[batch[i]["externalId"].(string)]++
					}
				}
			}
			if len(want) != n || want["t-00"] != 1 || want["t-01"] != 2 {
				t.Fatalf("accepted per member = %v, want 2 each but t-00's 1", want)
			}
			srv.kill9()
			if k, err := db.Client.CampaignRun.Query().Where(campaignrun.CampaignID(c.ID)).Count(sys); err != nil || k != 0 {
				t.Fatalf("%d runs (%v) before any consumer read the orders: nothing was tested", k, err)
			}

			run := func() *exec.Cmd {
				return exec.Command(bin, "campaigns", "run", "--database-url", url, "--trigger-wait", "5s")
			}
			var wg sync.WaitGroup
			outs, errs := make([][]byte, 2), make([]error, 2)
			for i := range 2 {
				wg.Add(1)
				go func() { defer wg.Done(); outs[i], errs[i] = run().CombinedOutput() }()
			}
			wg.Wait()
			for i := range 2 {
				if errs[i] != nil {
					t.Fatalf("campaigns run %d: %v\n%s", i, errs[i], outs[i])
				}
				t.Logf("campaigns run %d: %s", i, strings.ReplaceAll(string(outs[i]), "\n", " / "))
			}
			if out, err := run().CombinedOutput(); err != nil {
				t.Fatalf("third run: %v\n%s", err, out)
			}

			total := 2*n - 1
			runs, err := db.Client.CampaignRun.Query().Where(campaignrun.CampaignID(c.ID), campaignrun.FinishedAtNotNil()).Count(sys)
			if err != nil || runs != total {
				t.Fatalf("%d finished runs (%v), want %d", runs, err, total)
			}
			var perMember []struct {
				MemberID int   `json:"member_id"`
				Count    int   `json:"count"`
				Sum      int64 `json:"sum"`
			}
			err = db.Client.PointEntry.Query().Where(pointentry.DescriptionEQ("Campaign: Thanks")).
				GroupBy(pointentry.FieldMemberID).Aggregate(ent.Count(), ent.Sum(pointentry.FieldAmount)).Scan(sys, &perMember)
			if err != nil {
				t.Fatal(err)
			}
			ext := map[int]string{}
			ms, err := db.Client.Member.Query().All(sys)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				ext[m.ID] = m.ExternalID
			}
			got := map[string]int{}
			for _, m := range perMember {
				if m.Sum != int64(m.Count)*pointsEach {
					t.Errorf("%s: %d credits summing %d", ext[m.MemberID], m.Count, m.Sum)
				}
				got[ext[m.MemberID]] = m.Count
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("credits per member = %v, want %v", got, want)
			}
			done, err := db.Client.CampaignResult.Query().Where(campaignresult.CampaignID(c.ID), campaignresult.StatusEQ(campaignresult.StatusDONE)).Count(sys)
			if err != nil || done != total {
				t.Fatalf("%d DONE results (%v), want %d", done, err, total)
			}
			if got, err := db.Client.Campaign.Get(sys, c.ID); err != nil || got.SpentPoints != int64(total*pointsEach) {
				t.Fatalf("campaign spent %d (%v), want %d", got.SpentPoints, err, total*pointsEach)
			}
		})
	}
}

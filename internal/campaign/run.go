package campaign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"entgo.io/ent/dialect"

	"github.com/membergraph/membergraph/ent"
	entcampaign "github.com/membergraph/membergraph/ent/campaign"
	"github.com/membergraph/membergraph/ent/campaignresult"
	"github.com/membergraph/membergraph/ent/campaignrun"
	"github.com/membergraph/membergraph/ent/pointaccount"
	"github.com/membergraph/membergraph/ent/pointentry"
	"github.com/membergraph/membergraph/ent/storebudget"
	"github.com/membergraph/membergraph/ent/storeconsent"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/points"
)

// Stats counts what RunDue did.
type Stats struct {
	Runs, Done, Skipped, Failed int
	Points                      int64
	// Deferred counts NOTIFY runs left unfinished for a process with the partner plugins.
	Deferred int
}

// RunDue runs, in every programme, each ACTIVE scheduled campaign whose run is due now
// and not finished: a new run, or one a crash or a pause left unfinished. Any number of
// servers may call it at once: they share the chunks of a run, never a member.
func (s *Service) RunDue(ctx context.Context) (Stats, error) {
	var total Stats
	progs, err := s.client.Program.Query().All(auth.SystemContext(ctx, 0))
	if err != nil {
		return total, err
	}
	now := s.ledger.Clock().Now()
	for _, p := range progs {
		sys := auth.SystemContext(ctx, p.ID)
		loc, err := points.Location(p.TimeZone)
		if err != nil {
			return total, err
		}
		cs, err := s.client.Campaign.Query().Where(entcampaign.StatusEQ(entcampaign.StatusACTIVE),
			entcampaign.TriggerKindNEQ(entcampaign.TriggerKindEVENT)).Order(ent.Asc(entcampaign.FieldID)).All(sys)
		if err != nil {
			return total, err
		}
		for _, c := range cs {
			key, ok := Due(c, now, loc)
			if !ok {
				continue
			}
			finished, err := s.client.CampaignRun.Query().Where(campaignrun.CampaignID(c.ID), campaignrun.RunKey(key),
				campaignrun.FinishedAtNotNil()).Exist(sys)
			if err != nil {
				return total, err
			}
			if finished {
				continue
			}
			run, err := s.Run(sys, c, key)
			if errors.Is(err, ErrPaused) {
				continue
			}
			if errors.Is(err, ErrNoNotifier) {
				// Its members are PENDING for serve, which sends; only this campaign waits,
				// the others due run now.
				total.Deferred++
				continue
			}
			if err != nil {
				return total, fmt.Errorf("campaign %s run %s: %w", c.Key, key, err)
			}
			total.Runs++
			total.Done, total.Skipped, total.Failed, total.Points = total.Done+run.Done, total.Skipped+run.Skipped, total.Failed+run.Failed, total.Points+run.Points
		}
	}
	return total, nil
}

// RunSchedules runs RunDue now and then every ScheduleInterval until ctx ends. Every server
// runs it; concurrent runs are safe.
func (s *Service) RunSchedules(ctx context.Context, logger *slog.Logger) {
	t := time.NewTicker(s.cfg.ScheduleInterval)
	defer t.Stop()
	for {
		st, err := s.RunDue(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("campaign run failed", "err", err)
		case st.Runs > 0:
			logger.Info("campaigns ran", "runs", st.Runs, "done", st.Done, "skipped", st.Skipped, "failed", st.Failed, "points", st.Points)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Run takes c's run of runKey to its end: claims the run (created once per key), pages the
// segment from where the run's committed chunks end, and commits each chunk's results with
// their grants. A run already finished is returned as it is. A pause stops it between
// chunks (ErrPaused); running it again continues. ctx must be a system context of c's
// programme.
func (s *Service) Run(ctx context.Context, c *ent.Campaign, runKey string) (*ent.CampaignRun, error) {
	return s.runFor(ctx, c, runKey, nil)
}

// runFor is Run over the segment's pages, or over only (an event's member) when not nil.
func (s *Service) runFor(ctx context.Context, c *ent.Campaign, runKey string, only []int) (*ent.CampaignRun, error) {
	prog, err := s.client.Program.Get(ctx, c.ProgramID)
	if err != nil {
		return nil, err
	}
	run, err := s.claim(ctx, c, runKey)
	if err != nil || run.FinishedAt != nil {
		return run, err
	}
	after := run.AfterMemberID
	for {
		var ids []int
		if only != nil {
			if after < only[len(only)-1] {
				ids = only
			}
		} else if ids, err = s.audience.MemberIDs(ctx, c.SegmentID, after, s.cfg.Chunk); err != nil {
			return nil, fmt.Errorf("segment %d: %w", c.SegmentID, err)
		}
		if len(ids) == 0 {
			break
		}
		if err := s.chunk(ctx, prog, c, run.ID, run.RunKey, ids); err != nil {
			return nil, err
		}
		if err := s.notifyPending(ctx, c, run); err != nil {
			return nil, err
		}
		after = ids[len(ids)-1]
	}
	// A crash after a chunk's commit left its members PENDING: they are sent now, with the
	// same keys, before the run is finished.
	if err := s.notifyPending(ctx, c, run); err != nil {
		return nil, err
	}
	if err := s.client.CampaignRun.Update().Where(campaignrun.ID(run.ID), campaignrun.FinishedAtIsNil()).
		SetFinishedAt(s.ledger.Clock().Now()).Exec(ctx); err != nil {
		return nil, err
	}
	return s.client.CampaignRun.Get(ctx, run.ID)
}

// claim creates the run of key, or returns the one a replica or an earlier process made.
func (s *Service) claim(ctx context.Context, c *ent.Campaign, key string) (*ent.CampaignRun, error) {
	run, err := s.client.CampaignRun.Create().SetProgramID(c.ProgramID).SetCampaignID(c.ID).SetRunKey(key).
		SetStartedAt(s.ledger.Clock().Now()).Save(ctx)
	if ent.IsConstraintError(err) {
		return s.client.CampaignRun.Query().Where(campaignrun.CampaignID(c.ID), campaignrun.RunKey(key)).Only(ctx)
	}
	return run, err
}

// chunk commits what the run does for ids (ascending) in one transaction: the members the
// run has no result for yet are decided from the state loaded under the campaign's lock,
// their accounts' locks and the store budget's lock, and their results, grants and the
// budgets' counts are written together. A replica that wrote some of the results first
// makes the insert fail; the chunk is then done again without them.
func (s *Service) chunk(ctx context.Context, prog *ent.Program, c *ent.Campaign, runID int, runKey string, ids []int) error {
	for attempt := 1; ; attempt++ {
		paused := false
		err := s.ledger.WithTx(ctx, func(tx *ent.Tx) error {
			var err error
			paused, err = s.chunkTx(ctx, tx, prog, c.ID, runID, runKey, ids)
			return err
		})
		if ent.IsConstraintError(err) && attempt < 5 {
			continue
		}
		if err == nil && paused {
			return ErrPaused
		}
		return err
	}
}

// ResultMessage is the data of a campaign.result outbox message (webhooks): what a run did
// for the member, written in the transaction that did it.
type ResultMessage struct {
	Campaign string                `json:"campaign"`
	Run      string                `json:"run"`
	Status   campaignresult.Status `json:"status"`
	Reason   string                `json:"reason,omitempty"`
	Points   int64                 `json:"points"`
}

func (s *Service) chunkTx(ctx context.Context, tx *ent.Tx, prog *ent.Program, campaignID, runID int, runKey string, ids []int) (paused bool, err error) {
	q := tx.Campaign.Query().Where(entcampaign.ID(campaignID))
	if s.ledger.Dialect() == dialect.MySQL {
		q.ForUpdate()
	}
	c, err := q.Only(ctx)
	if err != nil {
		return false, err
	}
	if c.Status == entcampaign.StatusPAUSED {
		return true, nil
	}
	had, err := tx.CampaignResult.Query().Where(campaignresult.RunID(runID), campaignresult.MemberIDIn(ids...)).
		Select(campaignresult.FieldMemberID).Ints(ctx)
	if err != nil {
		return false, err
	}
	todo := without(ids, had)
	now := s.ledger.Clock().Now()
	st, err := s.load(ctx, tx.Client(), c, todo, now)
	if err != nil {
		return false, err
	}
	// Lock the accounts of the members who would be hit, ascending, in one statement, before
	// the budget; read their balances under the lock.
	var hit []int
	for _, o := range Decide(c, todo, State{Hits: st.Hits, Consenting: st.Consenting, CampaignLeft: -1, StoreLeft: -1}) {
		if o.Status == campaignresult.StatusDONE {
			hit = append(hit, o.MemberID)
		}
	}
	accts := map[int]*ent.PointAccount{}
	if c.Action == entcampaign.ActionISSUE_COUPON || c.Action == entcampaign.ActionNOTIFY { // they credit nothing: no account to lock
		hit = nil
	}
	if len(hit) > 0 {
		if accts, err = s.ledger.Accounts(ctx, tx, hit); err != nil {
			return false, err
		}
	}
	st.Full = full(accts, hit, c.Points)
	var budget *ent.StoreBudget
	if c.BudgetOwner != "" && len(hit) > 0 {
		if budget, err = s.ledger.LockBudget(ctx, tx, c.ProgramID, c.BudgetOwner); err != nil {
			return false, err
		}
		st.StoreLeft = budget.Funded - budget.Granted
	}
	outs := Decide(c, todo, st)
	kind, desc := pointentry.KindADJUSTMENT, "Campaign: "+c.Name
	if c.BudgetOwner != "" {
		kind = pointentry.KindSTORE_GRANT
	}
	var granted int64
	var done, skipped, failed int
	var credited []*ent.PointAccount
	rows := make([]*ent.CampaignResultCreate, len(outs))
	told := make([]outbox.Message, len(outs))
	for i, o := range outs {
		if c.Action == entcampaign.ActionNOTIFY && o.Status == campaignresult.StatusDONE {
			// Recorded before the partner is called (notifyPending, after the commit).
			o.Status = campaignresult.StatusPENDING
		}
		told[i] = outbox.Message{ProgramID: c.ProgramID, MemberID: o.MemberID, Type: outbox.CampaignResult, At: now,
			Data: ResultMessage{Campaign: c.Key, Run: runKey, Status: o.Status, Reason: o.Reason, Points: o.Points}}
		if o.Status == campaignresult.StatusDONE && c.Action == entcampaign.ActionGRANT_POINTS {
			credited = append(credited, accts[o.MemberID])
		}
		switch o.Status {
		case campaignresult.StatusDONE:
			done++
			granted += o.Points
		case campaignresult.StatusSKIPPED:
			skipped++
		case campaignresult.StatusPENDING: // counted once the partner answered
		default:
			failed++
		}
		rows[i] = tx.CampaignResult.Create().SetProgramID(c.ProgramID).SetCampaignID(c.ID).SetRunID(runID).
			SetMemberID(o.MemberID).SetStatus(o.Status).SetReason(o.Reason).SetPoints(o.Points).SetCreatedAt(now)
	}
	if err := s.ledger.CreditMembers(ctx, tx, prog, credited, points.Grant{Kind: kind, Amount: c.Points, Funding: c.Funding, Description: desc}); err != nil {
		return false, err
	}
	if len(rows) > 0 {
		if err := tx.CampaignResult.CreateBulk(rows...).Exec(ctx); err != nil {
			return false, err
		}
	}
	if c.Action == entcampaign.ActionISSUE_COUPON {
		if err := s.writeCoupons(ctx, tx, c, runID, outs, now); err != nil {
			return false, err
		}
	}
	if c.Action == entcampaign.ActionNOTIFY {
		// A PENDING member is told once the partner has answered (notifyPending), as DONE or
		// FAILED.
		told = slices.DeleteFunc(told, func(m outbox.Message) bool {
			return m.Data.(ResultMessage).Status == campaignresult.StatusPENDING
		})
	}
	if err := outbox.Write(ctx, tx, told); err != nil {
		return false, err
	}
	if granted > 0 {
		if err := tx.Campaign.UpdateOne(c).AddSpentPoints(granted).Exec(ctx); err != nil {
			return false, err
		}
		if budget != nil {
			if err := tx.StoreBudget.UpdateOne(budget).AddGranted(granted).Exec(ctx); err != nil {
				return false, err
			}
		}
	}
	if err := tx.CampaignRun.UpdateOneID(runID).AddDone(done).AddSkipped(skipped).AddFailed(failed).AddPoints(granted).Exec(ctx); err != nil {
		return false, err
	}
	// Only forward: a replica that did this chunk's members over again, behind another,
	// must not send the resume point back.
	last := ids[len(ids)-1]
	return false, tx.CampaignRun.Update().Where(campaignrun.ID(runID), campaignrun.AfterMemberIDLT(last)).SetAfterMemberID(last).Exec(ctx)
}

// load reads the state Decide needs for members: their hits within the cap's window and,
// for a store budget, their consent, set-based; the campaign's own budget left. The store
// budget is left unlimited (-1) for the caller to fill.
func (s *Service) load(ctx context.Context, client *ent.Client, c *ent.Campaign, members []int, now time.Time) (State, error) {
	st := State{CampaignLeft: -1, StoreLeft: -1, Hits: map[int]int{}}
	if c.BudgetPoints > 0 {
		st.CampaignLeft = c.BudgetPoints - c.SpentPoints
	}
	if len(members) == 0 {
		return st, nil
	}
	if c.CapHits > 0 {
		var rows []struct {
			MemberID int `json:"member_id"`
			Count    int `json:"count"`
		}
		err := client.CampaignResult.Query().Where(campaignresult.CampaignID(c.ID), campaignresult.MemberIDIn(members...),
			campaignresult.StatusIn(campaignresult.StatusDONE, campaignresult.StatusPENDING), campaignresult.CreatedAtGT(now.Add(-time.Duration(c.CapDays)*24*time.Hour))).
			GroupBy(campaignresult.FieldMemberID).Aggregate(ent.Count()).Scan(ctx, &rows)
		if err != nil {
			return st, err
		}
		for _, r := range rows {
			st.Hits[r.MemberID] = r.Count
		}
	}
	if c.StoreProgramID != nil {
		ids, err := client.StoreConsent.Query().Where(storeconsent.StoreProgramID(*c.StoreProgramID),
			storeconsent.MemberIDIn(members...), storeconsent.LeftAtIsNil()).Select(storeconsent.FieldMemberID).Ints(ctx)
		if err != nil {
			return st, err
		}
		st.Consenting = make(map[int]bool, len(ids))
		for _, id := range ids {
			st.Consenting[id] = true
		}
	}
	return st, nil
}

// DryRun is what a run of c started now would do: the members it would hit and skip and
// the points it would grant, worth so many ¥ cents, decided by the rules a run applies,
// over the same pages, without writing anything. ctx must be a system context of c's
// programme.
func (s *Service) DryRun(ctx context.Context, c *ent.Campaign) (Cost, error) {
	var cost Cost
	prog, err := s.client.Program.Get(ctx, c.ProgramID)
	if err != nil {
		return cost, err
	}
	storeLeft := int64(-1)
	if c.BudgetOwner != "" {
		b, err := s.client.StoreBudget.Query().Where(storebudget.ProgramID(c.ProgramID), storebudget.StoreID(c.BudgetOwner)).Only(ctx)
		switch {
		case ent.IsNotFound(err):
			storeLeft = 0
		case err != nil:
			return cost, err
		default:
			storeLeft = b.Funded - b.Granted
		}
	}
	now := s.ledger.Clock().Now()
	spent := int64(0)
	for after := 0; ; {
		ids, err := s.audience.MemberIDs(ctx, c.SegmentID, after, s.cfg.Chunk)
		if err != nil {
			return cost, fmt.Errorf("segment %d: %w", c.SegmentID, err)
		}
		if len(ids) == 0 {
			break
		}
		// The budgets as the run would find them after the chunks before.
		cc := *c
		cc.SpentPoints += spent
		st, err := s.load(ctx, s.client, &cc, ids, now)
		if err != nil {
			return cost, err
		}
		st.StoreLeft = storeLeft
		accts, err := s.client.PointAccount.Query().Where(pointaccount.MemberIDIn(ids...)).All(ctx)
		if err != nil {
			return cost, err
		}
		byMember := make(map[int]*ent.PointAccount, len(accts))
		for _, a := range accts {
			byMember[a.MemberID] = a
		}
		st.Full = full(byMember, ids, c.Points)
		for _, o := range Decide(&cc, ids, st) {
			if o.Status == campaignresult.StatusDONE {
				cost.Members++
				cost.Points += o.Points
				spent += o.Points
				if storeLeft >= 0 {
					storeLeft -= o.Points
				}
			} else {
				cost.Skipped++
			}
		}
		after = ids[len(ids)-1]
	}
	cost.Cents = CostCents(cost.Points, prog.PointsPerYuan)
	if err := s.couponCost(ctx, c, &cost); err != nil {
		return cost, err
	}
	return cost, nil
}

// full is the members of hit whose balance cannot take points more; a member without an
// account (every member gets one at registration) counts as full, so it fails rather
// than stopping the run.
func full(accts map[int]*ent.PointAccount, hit []int, pts int64) map[int]bool {
	out := map[int]bool{}
	for _, m := range hit {
		if a, ok := accts[m]; !ok || points.CheckBalance("points", a.Total, pts) != nil {
			out[m] = true
		}
	}
	return out
}

// without is ids less those in had.
func without(ids, had []int) []int {
	if len(had) == 0 {
		return ids
	}
	skip := make(map[int]bool, len(had))
	for _, id := range had {
		skip[id] = true
	}
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		if !skip[id] {
			out = append(out, id)
		}
	}
	return out
}

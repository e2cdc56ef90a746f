package campaign

import (
	"context"
	"errors"
	"fmt"

	"github.com/membergraph/membergraph/ent"
	entcampaign "github.com/membergraph/membergraph/ent/campaign"
	"github.com/membergraph/membergraph/ent/campaignresult"
	"github.com/membergraph/membergraph/ent/campaignrun"
	"github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/outbox"
	"github.com/membergraph/membergraph/internal/usererr"
	"github.com/membergraph/membergraph/plugins/host"
	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
)

// Notifier sends NOTIFY campaigns' notifications through the partner plugins; *host.Manager
// is one (its Notify runs under the partner's deadline, concurrency limit and breaker).
type Notifier interface {
	// OffersNotify says whether the partner of key serves Notify (host.ErrUnknown: no such
	// partner).
	OffersNotify(key string) (bool, error)
	Notify(ctx context.Context, key string, req *partnerv1.NotifyRequest) (*partnerv1.NotifyResponse, error)
}

// SetNotifier attaches the partner plugins that send NOTIFY campaigns; without it NOTIFY
// is refused at creation and a NOTIFY run's members fail.
func (s *Service) SetNotifier(n Notifier) { s.notifier = n }

// ErrNoNotifier ends a NOTIFY run in a process without the partner plugins (`membergraph
// campaigns run`): its members stay PENDING, the run unfinished, for serve to send.
var ErrNoNotifier = errors.New("NOTIFY needs the partner plugins, which this process does not run")

// ReasonNotifyFailed prefixes the reason of a member whose partner call failed.
const ReasonNotifyFailed = "NOTIFY_FAILED: "

// checkNotifier refuses a NOTIFY campaign whose partner is unknown or sends nothing.
func (s *Service) checkNotifier(key string) error {
	if s.notifier == nil {
		return usererr.New(usererr.FailedPrecondition, "input.action.partner", "no partner plugins run here, so none can notify")
	}
	ok, err := s.notifier.OffersNotify(key)
	switch {
	case errors.Is(err, host.ErrUnknown):
		return usererr.New(usererr.FailedPrecondition, "input.action.partner", "no partner %q", key)
	case err != nil:
		return err
	case !ok:
		return usererr.New(usererr.FailedPrecondition, "input.action.partner", "partner %q does not offer notifications", key)
	}
	return nil
}

// answer is a partner's answer for one member, to record.
type answer struct {
	member int
	status campaignresult.Status
	reason string
}

// NotifyKey is the idempotency key of the notification of (campaign, run, member), the
// same on every attempt.
func NotifyKey(campaignKey, runKey string, memberID int) string {
	return fmt.Sprintf("campaign:%s:%s:%d", campaignKey, runKey, memberID)
}

// notifyPending sends the notifications of run's PENDING results, ascending by member,
// and turns each DONE or FAILED (counted on the run then).
//
// Delivery: a chunk commits its members' results as PENDING before any partner is called,
// so a member is never notified without its record, and a member with a DONE or FAILED
// result is never called again. A crash between a call and the update that records its
// answer leaves the member PENDING; the run's resume (or a replica running it at the same
// time) calls it again with the same NotifyKey. So the platform calls at least once per
// (campaign, run, member) that reached PENDING, and the partner, keeping the keys it has
// sent (sdk.Notifier), sends at most once: exactly once together.
func (s *Service) notifyPending(ctx context.Context, c *ent.Campaign, run *ent.CampaignRun) error {
	if c.Action != entcampaign.ActionNOTIFY {
		return nil
	}
	if s.notifier == nil {
		// membergraph campaigns run has no plugins: the run stays unfinished, its members
		// PENDING, for serve (which has them) to send.
		return fmt.Errorf("campaign %s: %w", c.Key, ErrNoNotifier)
	}
	ids, err := s.client.CampaignResult.Query().Where(campaignresult.RunID(run.ID), campaignresult.StatusEQ(campaignresult.StatusPENDING)).
		Order(ent.Asc(campaignresult.FieldMemberID)).Select(campaignresult.FieldMemberID).Ints(ctx)
	if err != nil || len(ids) == 0 {
		return err
	}
	ms, err := s.client.Member.Query().Where(member.IDIn(ids...)).Select(member.FieldID, member.FieldExternalID).All(ctx)
	if err != nil {
		return err
	}
	ext := make(map[int]string, len(ms))
	for _, m := range ms {
		ext[m.ID] = m.ExternalID
	}
	var done []int
	failed := map[string][]int{} // by reason
	for _, id := range ids {
		_, err := s.notifier.Notify(ctx, c.PartnerKey, &partnerv1.NotifyRequest{IdempotencyKey: NotifyKey(c.Key, run.RunKey, id),
			Member: &partnerv1.Member{ExternalId: ext[id]}, Template: c.Message, CampaignKey: c.Key,
			Params: map[string]string{"campaign_name": c.Name, "run": run.RunKey}})
		if err == nil {
			done = append(done, id)
			continue
		}
		if ctx.Err() != nil { // shutting down: the rest stay PENDING for the resume
			break
		}
		reason := ReasonNotifyFailed + err.Error()
		if r := []rune(reason); len(r) > 200 {
			reason = string(r[:200])
		}
		failed[reason] = append(failed[reason], id)
	}
	// The answers are recorded even when ctx ends now: they were sent.
	ctx = context.WithoutCancel(ctx)
	answers := make([]answer, 0, len(ids))
	for _, id := range done {
		answers = append(answers, answer{id, campaignresult.StatusDONE, ""})
	}
	for reason, ids := range failed {
		for _, id := range ids {
			answers = append(answers, answer{id, campaignresult.StatusFAILED, reason})
		}
	}
	now := s.ledger.Clock().Now()
	return s.ledger.WithTx(ctx, func(tx *ent.Tx) error {
		// One UPDATE a member (there was one call a member): only the rows this process
		// turns are counted and told, so a replica that recorded a member first is not
		// counted twice.
		var nDone, nFailed int
		var told []outbox.Message
		for _, a := range answers {
			n, err := tx.CampaignResult.Update().Where(campaignresult.RunID(run.ID), campaignresult.MemberID(a.member),
				campaignresult.StatusEQ(campaignresult.StatusPENDING)).SetStatus(a.status).SetReason(a.reason).Save(ctx)
			if err != nil {
				return err
			}
			if n == 0 {
				continue
			}
			if a.status == campaignresult.StatusDONE {
				nDone++
			} else {
				nFailed++
			}
			told = append(told, outbox.Message{ProgramID: c.ProgramID, MemberID: a.member, Type: outbox.CampaignResult, At: now,
				Data: ResultMessage{Campaign: c.Key, Run: run.RunKey, Status: a.status, Reason: a.reason}})
		}
		if err := outbox.Write(ctx, tx, told); err != nil {
			return err
		}
		return tx.CampaignRun.Update().Where(campaignrun.ID(run.ID)).AddDone(nDone).AddFailed(nFailed).Exec(ctx)
	})
}

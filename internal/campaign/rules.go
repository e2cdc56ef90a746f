package campaign

import (
	"time"

	"github.com/membergraph/membergraph/ent"
	entcampaign "github.com/membergraph/membergraph/ent/campaign"
	"github.com/membergraph/membergraph/ent/campaignresult"
)

// The pure half of campaigns: when a schedule is due, and what one chunk of a run does for
// each of its members, decided from state the caller loaded. No SQL here.

// Reasons a member is skipped, as CampaignResult.reason records them.
const (
	ReasonFrequencyCap = "FREQUENCY_CAP: the member was hit the cap's number of times within its days"
	ReasonCampaignCap  = "BUDGET_CAP: the campaign's budget cap has too few points left"
	ReasonStoreBudget  = "STORE_BUDGET: the store's budget has too few points left"
	ReasonNoConsent    = "NO_CONSENT: the member does not consent to the store's programme"
	ReasonBalanceBound = "BALANCE_BOUND: the points would take the member's balance beyond 2,000,000,000"
)

// Due is the run key of the schedule's run that is due at now in loc, and whether one is:
// ONCE once its instant has passed ("ONCE"), DAILY from its time of day on each local date,
// WEEKLY on its weekday and MONTHLY on its day of the month from their time of day (the
// local date, 2006-01-02). A day whose time passed while no server ran is caught up later
// that day, not the next. EVENT campaigns are never due on a schedule.
func Due(c *ent.Campaign, now time.Time, loc *time.Location) (string, bool) {
	l := now.In(loc)
	minute := l.Hour()*60 + l.Minute()
	date := l.Format(time.DateOnly)
	switch c.TriggerKind {
	case entcampaign.TriggerKindONCE:
		return "ONCE", c.OnceAt != nil && !now.Before(*c.OnceAt)
	case entcampaign.TriggerKindDAILY:
		return date, minute >= c.MinuteOfDay
	case entcampaign.TriggerKindWEEKLY:
		wd := int(l.Weekday())
		if wd == 0 {
			wd = 7 // Sunday is day 7 of the ISO week
		}
		return date, wd == c.Weekday && minute >= c.MinuteOfDay
	case entcampaign.TriggerKindMONTHLY:
		return date, l.Day() == c.MonthDay && minute >= c.MinuteOfDay
	}
	return "", false
}

// State is what a chunk's decision reads: loaded by the store layer for the chunk's
// members, under the locks that keep it true until the chunk commits.
type State struct {
	// Hits is each member's DONE results of the campaign within the cap's window.
	Hits map[int]int
	// Consenting is, for a store budget, the members consenting to the store's programme;
	// nil when the campaign draws on the platform.
	Consenting map[int]bool
	// Full is the members whose balance cannot take the campaign's points (amount.MaxBalance).
	Full map[int]bool
	// CampaignLeft is what the campaign's budget cap leaves; -1 when it has none.
	CampaignLeft int64
	// StoreLeft is what the store budget leaves; -1 for the platform.
	StoreLeft int64
}

// Outcome is what a run does for one member.
type Outcome struct {
	MemberID int
	Status   campaignresult.Status
	Reason   string
	Points   int64
}

// Decide is what c does for each of members (ascending) given st: a member over the
// frequency cap or without consent is skipped, one whose balance is full fails; the others
// are hit in member order while the budgets last, and skipped once either has too few points
// left, so that no budget is ever exceeded and a rerun decides the same members the same way.
func Decide(c *ent.Campaign, members []int, st State) []Outcome {
	out := make([]Outcome, len(members))
	campaignLeft, storeLeft := st.CampaignLeft, st.StoreLeft
	for i, m := range members {
		o := Outcome{MemberID: m, Status: campaignresult.StatusSKIPPED}
		switch {
		case c.CapHits > 0 && st.Hits[m] >= c.CapHits:
			o.Reason = ReasonFrequencyCap
		case st.Consenting != nil && !st.Consenting[m]:
			o.Reason = ReasonNoConsent
		case st.Full[m]:
			o.Status, o.Reason = campaignresult.StatusFAILED, ReasonBalanceBound
		case campaignLeft >= 0 && c.Points > campaignLeft:
			o.Reason = ReasonCampaignCap
		case storeLeft >= 0 && c.Points > storeLeft:
			o.Reason = ReasonStoreBudget
		default:
			o.Status, o.Points = campaignresult.StatusDONE, c.Points
			if campaignLeft >= 0 {
				campaignLeft -= c.Points
			}
			if storeLeft >= 0 {
				storeLeft -= c.Points
			}
		}
		out[i] = o
	}
	return out
}

// CostCents is what points are worth in cents at pointsPerYuan points per ¥1 (DOMAIN §3,
// 100 by default), rounded down to the cent.
func CostCents(points, pointsPerYuan int64) int64 {
	if pointsPerYuan <= 0 {
		return 0
	}
	return points * 100 / pointsPerYuan
}

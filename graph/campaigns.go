package graph

import (
	"context"
	"errors"

	"entgo.io/contrib/entgql"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/graph/model"
	"github.com/membergraph/membergraph/internal/campaign"
	"github.com/membergraph/membergraph/internal/usererr"
)

// campaignSpec is createCampaign's input as the service takes it.
func campaignSpec(in model.CreateCampaignInput) campaign.Spec {
	s := campaign.Spec{Key: in.Key, Name: in.Name, Segment: in.Segment,
		Trigger: campaign.Trigger{Kind: in.Trigger.Kind, At: in.Trigger.At},
		Action:  campaign.Action{Kind: in.Action.Kind}}
	if in.Trigger.TimeOfDay != nil {
		s.Trigger.TimeOfDay = *in.Trigger.TimeOfDay
	}
	if in.Trigger.Weekday != nil {
		s.Trigger.Weekday = *in.Trigger.Weekday
	}
	if in.Trigger.MonthDay != nil {
		s.Trigger.MonthDay = *in.Trigger.MonthDay
	}
	if in.Trigger.Event != nil {
		s.Trigger.Event = *in.Trigger.Event
	}
	if in.Trigger.Tier != nil {
		s.Trigger.Tier = *in.Trigger.Tier
	}
	if in.Trigger.Medal != nil {
		s.Trigger.Medal = *in.Trigger.Medal
	}
	if in.Trigger.Level != nil {
		s.Trigger.Level = *in.Trigger.Level
	}
	if in.Action.Points != nil {
		s.Action.Points = int64(*in.Action.Points)
	}
	if in.Action.Budget != nil {
		s.Action.Budget = *in.Action.Budget
	}
	if in.Action.BenefitKey != nil {
		s.Action.BenefitKey = *in.Action.BenefitKey
	}
	if in.Action.ValidDays != nil {
		s.Action.ValidDays = *in.Action.ValidDays
	}
	if in.Action.Partner != nil {
		s.Action.Partner = *in.Action.Partner
	}
	if in.Action.Template != nil {
		s.Action.Template = *in.Action.Template
	}
	if in.FrequencyCap != nil {
		s.CapHits, s.CapDays = in.FrequencyCap.Hits, in.FrequencyCap.Days
	}
	if in.BudgetPoints != nil {
		s.BudgetPoints = int64(*in.BudgetPoints)
	}
	return s
}

// campaignPage reads a runs or results page's first and after (1–100, default 20).
func campaignPage(ctx context.Context, first *int, after *entgql.Cursor[int]) (int, int, error) {
	n := 20
	if first != nil {
		n = *first
	}
	if n < 1 || n > 100 {
		return 0, 0, badArgument(ctx, "first", errors.New("first must be 1–100"))
	}
	from := 0
	if after != nil {
		from = after.ID
	}
	return n, from, nil
}

// campaignPayload maps a pause's or resume's outcome.
func campaignPayload(c *ent.Campaign, err error) (*model.CampaignPayload, error) {
	ue, err := payloadErrors(err)
	if err != nil || ue != nil {
		return &model.CampaignPayload{UserErrors: ue}, err
	}
	return &model.CampaignPayload{Campaign: c, UserErrors: []*model.UserError{}}, nil
}

// usererrIsNotFound: the lookup named nothing, which a query answers with null.
func usererrIsNotFound(err error) bool {
	var ue *usererr.Error
	return errors.As(err, &ue) && ue.Code == usererr.NotFound
}

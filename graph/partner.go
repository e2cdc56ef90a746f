package graph

import (
	"context"
	"log/slog"
	"sort"

	"github.com/membergraph/membergraph/graph/model"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/plugins/host"
)

// partnerView is a partner as the API shows it; the reason and the settings for ADMIN only
// (the settings field's @auth also refuses others).
func (r *Resolver) partnerView(ctx context.Context, info host.Info) *model.Partner {
	p := &model.Partner{Key: info.Key, Name: info.Key, Status: model.PartnerStatus(info.Status), Restarts: info.Restarts,
		Benefits: []*model.PartnerBenefit{}}
	v, _ := auth.FromContext(ctx)
	// Reasons name files and errors of this server: operators' business, not members'.
	if info.Reason != "" && v.Is(auth.RoleAdmin) {
		p.Reason = &info.Reason
	}
	if d := info.Description; d != nil {
		p.Name, p.Version = d.Name, d.Version
		for _, b := range d.Benefits {
			p.Benefits = append(p.Benefits, &model.PartnerBenefit{Key: b.Key, Name: b.Name, Description: b.Description})
		}
	}
	if v.Is(auth.RoleAdmin) {
		enabled, config := r.partners.Settings(info.Key)
		allowed := r.partners.PlusAllowance(info.Key)
		granted, err := r.partners.PlusGrantedThisMonth(ctx, info.Key)
		if err != nil {
			slog.ErrorContext(ctx, "partner PLUS terms this month", "partner", info.Key, "err", err)
		}
		s := &model.PartnerConfiguration{Enabled: enabled, Config: entries(config), Schema: []*model.PartnerConfigField{},
			Plus: &model.PartnerPlusAllowance{Plans: append([]string{}, allowed.Plans...), MonthlyCap: allowed.MonthlyCap, GrantedThisMonth: granted}}
		if d := info.Description; d != nil {
			for _, f := range d.ConfigSchema {
				s.Schema = append(s.Schema, &model.PartnerConfigField{Key: f.Key, Description: f.Description, Required: f.Required, DefaultValue: f.DefaultValue})
			}
		}
		p.Settings = s
	}
	return p
}

func entries(m map[string]string) []*model.ConfigEntry {
	out := make([]*model.ConfigEntry, 0, len(m))
	for k, v := range m {
		out = append(out, &model.ConfigEntry{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func params(in []*model.ConfigEntryInput) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for _, e := range in {
		out[e.Key] = e.Value
	}
	return out
}

// partnerPayload answers a switch or configuration change.
func (r *Resolver) partnerPayload(ctx context.Context, info host.Info, err error) (*model.PartnerPayload, error) {
	ue, err := payloadErrors(err)
	if err != nil || ue != nil {
		return &model.PartnerPayload{UserErrors: ue}, err
	}
	return &model.PartnerPayload{Partner: r.partnerView(ctx, info), UserErrors: []*model.UserError{}}, nil
}

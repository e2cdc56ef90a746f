package graph

import (
	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/graph/model"
)

// consentPayload maps a join's or leave's outcome.
func consentPayload(c *ent.StoreConsent, err error) (*model.StoreConsentPayload, error) {
	ue, err := payloadErrors(err)
	if err != nil || ue != nil {
		return &model.StoreConsentPayload{UserErrors: ue}, err
	}
	return &model.StoreConsentPayload{Consent: c, UserErrors: []*model.UserError{}}, nil
}

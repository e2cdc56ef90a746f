package graph

import (
	"errors"

	"github.com/membergraph/membergraph/internal/usererr"
	"github.com/membergraph/membergraph/internal/webhook"
)

// webhookNotFound answers an unknown endpoint or delivery as NOT_FOUND at field.
func webhookNotFound(err error, field, what string) error {
	if errors.Is(err, webhook.ErrNotFound) {
		return usererr.New(usererr.NotFound, field, "no such webhook %s", what)
	}
	return err
}

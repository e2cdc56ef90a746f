package graph

import (
	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/graph/model"
	"github.com/membergraph/membergraph/internal/rules"
)

func plusStatus(active bool) model.PlusStatus {
	if active {
		return model.PlusStatusActive
	}
	return model.PlusStatusNone
}

// termCursor places a term in Member.plus.history: newest first by start, then id.
func termCursor(t *ent.PlusTerm) ent.Cursor { return keyCursor(t.StartAt, t.ID) }

func planRefs(plans []rules.PlusPlan) []*rules.PlusPlan {
	out := make([]*rules.PlusPlan, len(plans))
	for i := range plans {
		out[i] = &plans[i]
	}
	return out
}

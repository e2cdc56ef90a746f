package graph

import (
	entmedal "github.com/membergraph/membergraph/ent/medal"
	"github.com/membergraph/membergraph/graph/model"
	"github.com/membergraph/membergraph/internal/medal"
)

func medalStatus(s medal.Status) *model.MedalStatus {
	p := &model.MedalProgress{Current: int(s.Current), Unit: model.MedalUnitYuan}
	if s.Medal.Kind == entmedal.KindBEHAVIOR {
		p.Unit = model.MedalUnitCount
	}
	if s.NextLevelAt != nil {
		n := int(*s.NextLevelAt)
		p.NextLevelAt = &n
	}
	return &model.MedalStatus{Key: s.Medal.Key, Name: s.Medal.Name, Kind: s.Medal.Kind, Level: s.Level, Progress: p, Benefits: s.Benefits}
}

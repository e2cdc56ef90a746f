package sdk

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	partnerv1 "github.com/membergraph/membergraph/plugins/proto/partner/v1"
)

// plusHost answers GrantPlus with what it is given.
type plusHost struct {
	Host
	res *partnerv1.GrantPlusResponse
	err error
}

func (h plusHost) GrantPlus(context.Context, *partnerv1.GrantPlusRequest) (*partnerv1.GrantPlusResponse, error) {
	return h.res, h.err
}

// TestGrantPlus: a term comes back as times, a refusal as a *PlusRefused that is
// ErrNotEligible (so a Grant returning it is FAILED_PRECONDITION), an older platform as
// ErrInvalid, and a fault as itself.
func TestGrantPlus(t *testing.T) {
	ctx := context.Background()
	start, end := time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC), time.Date(2027, 12, 3, 1, 0, 0, 0, time.UTC)
	term, err := GrantPlus(ctx, plusHost{res: &partnerv1.GrantPlusResponse{Replayed: true,
		Term: &partnerv1.PlusTerm{Id: "7", Plan: "ANNUAL", StartsAtUnix: start.Unix(), EndsAtUnix: end.Unix()}}}, "alice", "ANNUAL", "k", "ref")
	if err != nil || term.ID != "7" || !term.Start.Equal(start) || !term.End.Equal(end) || !term.Replayed {
		t.Fatalf("granted: %+v %v", term, err)
	}

	_, err = GrantPlus(ctx, plusHost{res: &partnerv1.GrantPlusResponse{Refusal: "3 terms this month, the cap", RefusalCode: "MONTHLY_CAP"}}, "alice", "ANNUAL", "k", "")
	r, ok := IsPlusRefused(err)
	if !ok || r.Code != "MONTHLY_CAP" || !errors.Is(err, ErrNotEligible) {
		t.Fatalf("refused: %v", err)
	}
	if st := status.Convert(toStatus(err)); st.Code() != codes.FailedPrecondition || st.Message() != err.Error() {
		t.Errorf("a refusal returned by Grant travels as %v", st)
	}

	if _, err := GrantPlus(ctx, plusHost{err: status.Error(codes.Unimplemented, "no")}, "alice", "ANNUAL", "k", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("an older platform: %v", err)
	}
	if _, err := GrantPlus(ctx, nil, "alice", "ANNUAL", "k", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("no host: %v", err)
	}
	fault := status.Error(codes.Unavailable, "down")
	if _, err := GrantPlus(ctx, plusHost{err: fault}, "alice", "ANNUAL", "k", ""); !errors.Is(err, fault) {
		t.Errorf("a fault: %v", err)
	}
}

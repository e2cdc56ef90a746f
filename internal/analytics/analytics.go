// Package analytics computes the operators' figures about a programme (docs/domain.md §8
// "Analytics"): penetration, PLUS conversion and renewal, the tier pyramid, the score
// distribution, medal levels, the points liability and the points expiring next month.
//
// Every figure is a fixed number of aggregate statements over the programme, answered by
// the database (most of them from an index alone), never a walk over the members in Go:
// docs/benchmarks.md "Analytics" times each on a million members. Each figure carries the
// instant it was computed, from the service's clock, which also decides "now" in it.
package analytics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/clock"
	"github.com/membergraph/membergraph/internal/points"
	"github.com/membergraph/membergraph/internal/usererr"
)

// Bounds of the inputs.
const (
	// DefaultBucketWidth is the score histogram's bucket width when the caller names none.
	DefaultBucketWidth int64 = 500
	// MinBucketWidth and MaxBucketWidth bound the histogram's bucket width.
	MinBucketWidth, MaxBucketWidth int64 = 1, 1_000_000
	// MaxBuckets bounds the histogram's length: the last bucket is open-ended and holds
	// every score from its lower bound up.
	MaxBuckets = 100
	// MaxPeriod bounds a period's length (conversion and renewal): a little over a year.
	MaxPeriod = 366 * 24 * time.Hour
	// RenewalWindow is how soon after a term's end a paid term must start for the term to
	// count as renewed.
	RenewalWindow = 30 * 24 * time.Hour
)

// The pyramid's rule of thumb (docs/domain.md §4 "Tiers"): head : middle : tail ≈ 1 : 6 : 3.
const (
	ExpectedHeadShare   = 0.1
	ExpectedMiddleShare = 0.6
	ExpectedTailShare   = 0.3
)

var (
	// ErrNoProgramme: the context carries no viewer scoped to a programme.
	ErrNoProgramme = errors.New("analytics: no programme in the context")
)

// Service computes the figures of the viewer's programme.
type Service struct {
	client  *ent.Client
	dialect string
	clock   clock.Clock
}

// New returns a service reading through client (whose database is of dialectName).
func New(client *ent.Client, dialectName string, c clock.Clock) *Service {
	return &Service{client: client, dialect: dialectName, clock: c}
}

// Ratio is a share: Num of Den. Value is 0 when Den is 0.
type Ratio struct{ Num, Den int64 }

// Value is Num / Den, 0 when Den is 0.
func (r Ratio) Value() float64 {
	if r.Den == 0 {
		return 0
	}
	return float64(r.Num) / float64(r.Den)
}

// Period is the half-open interval [From, To).
type Period struct{ From, To time.Time }

// scope is what every figure starts from: the programme and the instant.
type scope struct {
	programID int
	prog      *ent.Program
	loc       *time.Location
	now       time.Time
}

func (s *Service) scope(ctx context.Context) (scope, error) {
	v, ok := auth.FromContext(ctx)
	if !ok || v.ProgramID == 0 {
		return scope{}, ErrNoProgramme
	}
	prog, err := s.client.Program.Get(ctx, v.ProgramID)
	if err != nil {
		return scope{}, err
	}
	loc, err := points.Location(prog.TimeZone)
	if err != nil {
		return scope{}, fmt.Errorf("programme %s: %w", prog.Key, err)
	}
	return scope{programID: v.ProgramID, prog: prog, loc: loc, now: s.clock.Now().UTC()}, nil
}

// query runs one statement and hands each row to scan.
func (s *Service) query(ctx context.Context, scan func(*sql.Rows) error, q string, args ...any) error {
	rows, err := s.client.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("analytics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("analytics: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("analytics: %w", err)
	}
	return nil
}

// one runs a statement of one row.
func (s *Service) one(ctx context.Context, q string, args []any, dest ...any) error {
	return s.query(ctx, func(r *sql.Rows) error { return r.Scan(dest...) }, q, args...)
}

// CheckPeriod validates a period given at field (e.g. "period"): from before to, at most
// MaxPeriod long, starting no later than now.
func CheckPeriod(field string, p Period, now time.Time) error {
	var errs usererr.List
	switch {
	case p.From.IsZero():
		errs.Add(usererr.InvalidArgument, field+".from", "give the period's first instant")
	case p.From.After(now):
		errs.Add(usererr.InvalidArgument, field+".from", "the period starts in the future (now is %s)", now.Format(time.RFC3339))
	}
	switch {
	case p.To.IsZero():
		errs.Add(usererr.InvalidArgument, field+".to", "give the instant after the period")
	case !p.To.After(p.From):
		errs.Add(usererr.InvalidArgument, field+".to", "the period ends after it starts")
	case p.To.Sub(p.From) > MaxPeriod:
		errs.Add(usererr.InvalidArgument, field+".to", "a period is at most 366 days")
	}
	return errs.Err()
}

// within is the SQL of "instant column later is in [earlier, earlier + days days]" in the
// dialect: MySQL compares datetimes, SQLite day numbers (its stored text and datetime()'s
// differ in form, so the texts do not compare).
func (s *Service) within(later, earlier string, days int) string {
	if s.dialect == dialect.MySQL {
		return fmt.Sprintf("%s >= %s AND %s <= %s + INTERVAL %d DAY", later, earlier, later, earlier, days)
	}
	return fmt.Sprintf("julianday(%s) >= julianday(%s) AND julianday(%s) <= julianday(%s) + %d", later, earlier, later, earlier, days)
}

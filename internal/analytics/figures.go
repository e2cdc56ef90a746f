package analytics

import (
	"context"
	"database/sql"
	"sort"
	"time"

	"github.com/membergraph/membergraph/ent"
	"github.com/membergraph/membergraph/ent/medal"
	"github.com/membergraph/membergraph/internal/tier"
	"github.com/membergraph/membergraph/internal/usererr"
)

// TierMembers is one tier's members: all of them, the ACTIVE ones (not FROZEN), and those
// at or above it.
type TierMembers struct {
	Tier            *ent.Tier
	Members, Active int64
	AtOrAbove       int64
	ActiveAtOrAbove int64
}

// tierCounts reads members per tier and status in one statement (an index-only GROUP BY)
// and adds them up the ladder.
func (s *Service) tierCounts(ctx context.Context, sc scope) (tier.Ladder, []TierMembers, error) {
	ladder, err := tier.Load(ctx, s.client)
	if err != nil {
		return nil, nil, err
	}
	byID := map[int]int{}
	out := make([]TierMembers, len(ladder))
	for i, t := range ladder {
		byID[t.ID] = i
		out[i].Tier = t
	}
	err = s.query(ctx, func(r *sql.Rows) error {
		var id int
		var status string
		var n int64
		if err := r.Scan(&id, &status, &n); err != nil {
			return err
		}
		i, ok := byID[id]
		if !ok {
			return nil // a tier of another programme cannot be a member's here
		}
		out[i].Members += n
		if status == "ACTIVE" {
			out[i].Active += n
		}
		return nil
	}, "SELECT tier_id, status, COUNT(*) FROM members WHERE program_id = ? GROUP BY tier_id, status", sc.programID)
	if err != nil {
		return nil, nil, err
	}
	var all, active int64
	for i := len(out) - 1; i >= 0; i-- {
		all += out[i].Members
		active += out[i].Active
		out[i].AtOrAbove, out[i].ActiveAtOrAbove = all, active
	}
	return ladder, out, nil
}

// Penetration is how far up the ladder, and into PLUS, the members reach.
type Penetration struct {
	At      time.Time
	Members int64
	// Tiers, lowest first: the share of all members at or above each tier.
	Tiers []TierShare
	// Plus is the share of all members with a PLUS term running at At.
	Plus Ratio
}

// TierShare is one tier's share of the members.
type TierShare struct {
	Tier  *ent.Tier
	Share Ratio
}

// Penetration computes the penetration: two statements.
func (s *Service) Penetration(ctx context.Context) (Penetration, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return Penetration{}, err
	}
	_, counts, err := s.tierCounts(ctx, sc)
	if err != nil {
		return Penetration{}, err
	}
	out := Penetration{At: sc.now}
	if len(counts) > 0 {
		out.Members = counts[0].AtOrAbove
	}
	for _, c := range counts {
		out.Tiers = append(out.Tiers, TierShare{Tier: c.Tier, Share: Ratio{c.AtOrAbove, out.Members}})
	}
	var plus int64
	if err := s.one(ctx, "SELECT COUNT(DISTINCT t.member_id) FROM plus_terms t WHERE t.program_id = ? AND t.end_at > ? AND t.start_at <= ?",
		[]any{sc.programID, sc.now, sc.now}, &plus); err != nil {
		return Penetration{}, err
	}
	out.Plus = Ratio{plus, out.Members}
	return out, nil
}

// Band is a part of the pyramid: head, middle or tail.
type Band struct {
	// Tiers are the band's tiers, lowest first.
	Tiers []*ent.Tier
	// Share is the band's ACTIVE members of all ACTIVE members.
	Share Ratio
	// Expected is the rule of thumb's share of the band.
	Expected float64
}

// Pyramid is the tier pyramid of the active base (members not FROZEN), beside the rule of
// thumb head : middle : tail ≈ 1 : 6 : 3. The bands split the ladder: the tail is the
// lowest tier, the head the upper half (rounded down) of the tiers above it, the middle
// the rest; on the preset's five tiers, REGISTERED | BRONZE, SILVER | GOLD, DIAMOND.
type Pyramid struct {
	At     time.Time
	Active int64
	// Tiers, lowest first: each tier's ACTIVE members and their share of the active base.
	Tiers              []TierShare
	Head, Middle, Tail Band
}

// Pyramid computes the pyramid: one statement.
func (s *Service) Pyramid(ctx context.Context) (Pyramid, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return Pyramid{}, err
	}
	_, counts, err := s.tierCounts(ctx, sc)
	if err != nil {
		return Pyramid{}, err
	}
	out := Pyramid{At: sc.now, Head: Band{Expected: ExpectedHeadShare}, Middle: Band{Expected: ExpectedMiddleShare},
		Tail: Band{Expected: ExpectedTailShare}}
	if len(counts) == 0 {
		return out, nil
	}
	out.Active = counts[0].ActiveAtOrAbove
	head := (len(counts) - 1) / 2
	for i, c := range counts {
		out.Tiers = append(out.Tiers, TierShare{Tier: c.Tier, Share: Ratio{c.Active, out.Active}})
		b := &out.Middle
		switch {
		case i == 0:
			b = &out.Tail
		case i >= len(counts)-head:
			b = &out.Head
		}
		b.Tiers = append(b.Tiers, c.Tier)
		b.Share.Num += c.Active
	}
	for _, b := range []*Band{&out.Head, &out.Middle, &out.Tail} {
		b.Share.Den = out.Active
	}
	return out, nil
}

// Bucket is one bar of the score histogram: the members whose settled score is in
// [Lo, Hi); Hi is 0 for the last bucket when it is open-ended.
type Bucket struct {
	Lo, Hi  int64
	Members int64
}

// Distribution is the histogram of the settled scores.
type Distribution struct {
	At      time.Time
	Width   int64
	Members int64
	// Buckets from score 0 up to the highest bucket holding a member, empty ones included,
	// at most MaxBuckets: the last then holds every score from its Lo up (Hi 0). Members
	// never settled count at score 0, as in the what-if.
	Buckets []Bucket
}

// ScoreDistribution computes the histogram with buckets of width points (MinBucketWidth …
// MaxBucketWidth; callers default it to DefaultBucketWidth): two statements.
func (s *Service) ScoreDistribution(ctx context.Context, width int64) (Distribution, error) {
	if width < MinBucketWidth || width > MaxBucketWidth {
		return Distribution{}, usererr.New(usererr.InvalidArgument, "bucketWidth", "the bucket width is %d … %d points", MinBucketWidth, MaxBucketWidth)
	}
	sc, err := s.scope(ctx)
	if err != nil {
		return Distribution{}, err
	}
	out := Distribution{At: sc.now, Width: width}
	if err := s.one(ctx, "SELECT COUNT(*) FROM members WHERE program_id = ?", []any{sc.programID}, &out.Members); err != nil {
		return Distribution{}, err
	}
	// Grouped by the score itself, which the index holds in order, so the database streams
	// the groups without a temporary table; the distinct scores (thousands, not members)
	// then fall into their buckets here.
	counts := map[int64]int64{}
	var settled, top int64
	err = s.query(ctx, func(r *sql.Rows) error {
		var score, n int64
		if err := r.Scan(&score, &n); err != nil {
			return err
		}
		b := min(max(score, 0)/width, MaxBuckets-1)
		counts[b] += n
		settled += n
		top = max(top, b)
		return nil
	}, "SELECT settled, COUNT(*) FROM member_scores WHERE program_id = ? GROUP BY settled", sc.programID)
	if err != nil {
		return Distribution{}, err
	}
	counts[0] += max(out.Members-settled, 0)
	for b := int64(0); b <= top; b++ {
		out.Buckets = append(out.Buckets, Bucket{Lo: b * width, Hi: (b + 1) * width, Members: counts[b]})
	}
	if top == MaxBuckets-1 {
		out.Buckets[top].Hi = 0
	}
	return out, nil
}

// MedalLevels is how many members hold each level of one medal.
type MedalLevels struct {
	Medal *ent.Medal
	// Levels[i] is the members at level i, 0 … the medal's top level; level 0 counts every
	// member without a level.
	Levels []int64
}

// MedalFigures are the levels of every medal of the programme.
type MedalFigures struct {
	At      time.Time
	Members int64
	// Medals in the programme's order (as defined).
	Medals []MedalLevels
}

// MedalLevelCounts computes the level counts of every medal: three statements.
func (s *Service) MedalLevelCounts(ctx context.Context) (MedalFigures, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return MedalFigures{}, err
	}
	medals, err := s.client.Medal.Query().Order(ent.Asc(medal.FieldID)).All(ctx)
	if err != nil {
		return MedalFigures{}, err
	}
	out := MedalFigures{At: sc.now}
	if err := s.one(ctx, "SELECT COUNT(*) FROM members WHERE program_id = ?", []any{sc.programID}, &out.Members); err != nil {
		return MedalFigures{}, err
	}
	byKey := map[string]int{}
	for i, m := range medals {
		byKey[m.Key] = i
		out.Medals = append(out.Medals, MedalLevels{Medal: m, Levels: make([]int64, len(m.Thresholds)+1)})
	}
	err = s.query(ctx, func(r *sql.Rows) error {
		var key string
		var level int
		var n int64
		if err := r.Scan(&key, &level, &n); err != nil {
			return err
		}
		i, ok := byKey[key]
		if !ok || level >= len(out.Medals[i].Levels) {
			return nil // a medal since removed, or a level beyond its thresholds now
		}
		out.Medals[i].Levels[level] += n
		return nil
	}, "SELECT medal_key, level, COUNT(*) FROM member_medals WHERE program_id = ? AND level > 0 GROUP BY medal_key, level", sc.programID)
	if err != nil {
		return MedalFigures{}, err
	}
	for i := range out.Medals {
		var held int64
		for _, n := range out.Medals[i].Levels[1:] {
			held += n
		}
		out.Medals[i].Levels[0] = max(out.Members-held, 0)
	}
	return out, nil
}

// Funded is points of one funder and their value.
type Funded struct {
	Funding    string
	Points     int64
	ValueCents int64
}

// Liability is what the programme owes in points: the points left in unexpired lots
// (spendable or still pending), by funder, and what members owe it back (debt).
type Liability struct {
	At         time.Time
	Points     int64
	ValueCents int64
	// ByFunder, the most points first, then by funder.
	ByFunder       []Funded
	DebtPoints     int64
	DebtValueCents int64
	MembersInDebt  int64
}

// value is points' worth in cents at the programme's rate (floored).
func value(prog *ent.Program, pts int64) int64 {
	ppy := max(prog.PointsPerYuan, 1)
	return pts * 100 / ppy
}

// byFunder reads remaining points per funder of the lots whose expiry is in (after, until].
func (s *Service) byFunder(ctx context.Context, sc scope, after, until time.Time) ([]Funded, int64, error) {
	var out []Funded
	var total int64
	q := "SELECT funding, COALESCE(SUM(remaining), 0) FROM point_lots WHERE program_id = ? AND expires_at > ? AND remaining > 0"
	args := []any{sc.programID, after}
	if !until.IsZero() {
		q += " AND expires_at <= ?"
		args = append(args, until)
	}
	err := s.query(ctx, func(r *sql.Rows) error {
		var f Funded
		if err := r.Scan(&f.Funding, &f.Points); err != nil {
			return err
		}
		f.ValueCents = value(sc.prog, f.Points)
		total += f.Points
		out = append(out, f)
		return nil
	}, q+" GROUP BY funding", args...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Points != out[j].Points {
			return out[i].Points > out[j].Points
		}
		return out[i].Funding < out[j].Funding
	})
	return out, total, err
}

// PointsLiability computes the liability: two statements.
func (s *Service) PointsLiability(ctx context.Context) (Liability, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return Liability{}, err
	}
	out := Liability{At: sc.now}
	if out.ByFunder, out.Points, err = s.byFunder(ctx, sc, sc.now, time.Time{}); err != nil {
		return Liability{}, err
	}
	out.ValueCents = value(sc.prog, out.Points)
	if err := s.one(ctx, "SELECT COALESCE(SUM(debt), 0), COUNT(*) FROM point_accounts WHERE program_id = ? AND debt > 0",
		[]any{sc.programID}, &out.DebtPoints, &out.MembersInDebt); err != nil {
		return Liability{}, err
	}
	out.DebtValueCents = value(sc.prog, out.DebtPoints)
	return out, nil
}

// Expiring is the points that lapse in the next calendar month of the programme's zone.
type Expiring struct {
	At time.Time
	// Month is the next calendar month: its first instant and the first instant after it.
	Month      Period
	Points     int64
	ValueCents int64
	ByFunder   []Funded
}

// ExpiringNextMonth computes the points that lapse next month: one statement. Points lapse
// at their lot's expires_at, the first instant they are gone (the preset's "end of 31
// December" is 1 January 00:00), so the month's points are the lots with expires_at in
// (the month's first instant, the next month's first instant].
func (s *Service) ExpiringNextMonth(ctx context.Context) (Expiring, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return Expiring{}, err
	}
	local := sc.now.In(sc.loc)
	from := time.Date(local.Year(), local.Month()+1, 1, 0, 0, 0, 0, sc.loc)
	to := from.AddDate(0, 1, 0)
	out := Expiring{At: sc.now, Month: Period{From: from.UTC(), To: to.UTC()}}
	if out.ByFunder, out.Points, err = s.byFunder(ctx, sc, out.Month.From, out.Month.To); err != nil {
		return Expiring{}, err
	}
	out.ValueCents = value(sc.prog, out.Points)
	return out, nil
}

// Conversion is the PLUS funnel of a period: the members who were not PLUS at its start
// (registered by then), and of them those who started a trial and those who started a paid
// term (price paid > 0) in it.
type Conversion struct {
	At           time.Time
	Period       Period
	NonMembers   int64
	TrialStarted int64
	// Converted is PaidStarted of NonMembers.
	Converted Ratio
}

// PlusConversion computes the funnel of period p (field names it in errors): an index
// range of the members and two statements over the PLUS terms.
func (s *Service) PlusConversion(ctx context.Context, field string, p Period) (Conversion, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return Conversion{}, err
	}
	p = Period{p.From.UTC(), p.To.UTC()}
	if err := CheckPeriod(field, p, sc.now); err != nil {
		return Conversion{}, err
	}
	out := Conversion{At: sc.now, Period: p}
	var registered, plusAtStart int64
	if err := s.one(ctx, "SELECT COUNT(*) FROM members WHERE program_id = ? AND registered_at <= ?",
		[]any{sc.programID, p.From}, &registered); err != nil {
		return Conversion{}, err
	}
	// A term starts no earlier than its member's registration, so the members PLUS at the
	// start are all among those registered by then: counted from the terms' index alone.
	if err := s.one(ctx, "SELECT COUNT(DISTINCT t.member_id) FROM plus_terms t WHERE t.program_id = ? AND t.end_at > ? AND t.start_at <= ?",
		[]any{sc.programID, p.From, p.From}, &plusAtStart); err != nil {
		return Conversion{}, err
	}
	out.NonMembers = max(registered-plusAtStart, 0)
	// The trials and the paid terms started, in one pass over the period's terms.
	if err := s.one(ctx, "SELECT COUNT(DISTINCT CASE WHEN t.source = 'TRIAL' THEN t.member_id END), "+
		"COUNT(DISTINCT CASE WHEN t.price_paid_cents > 0 THEN t.member_id END) "+
		"FROM plus_terms t JOIN members m ON m.id = t.member_id "+
		"WHERE t.program_id = ? AND t.start_at >= ? AND t.start_at < ? AND m.registered_at <= ? "+
		"AND NOT EXISTS (SELECT 1 FROM plus_terms p WHERE p.member_id = t.member_id AND p.start_at <= ? AND p.end_at > ?)",
		[]any{sc.programID, p.From, p.To, p.From, p.From, p.From}, &out.TrialStarted, &out.Converted.Num); err != nil {
		return Conversion{}, err
	}
	out.Converted.Den = out.NonMembers
	return out, nil
}

// Renewal is the renewal of the PLUS terms that ended in a period: a term renewed when a
// paid term of the same member starts within RenewalWindow of its end (a stacked renewal
// starts at the end itself). Cancelled terms are not counted (they did not lapse), nor
// terms still running: the period is cut at the instant computed.
type Renewal struct {
	At     time.Time
	Period Period
	// Renewed is the renewed terms of the terms that ended.
	Renewed Ratio
	// Open is the ended terms not renewed whose window has not closed yet: they may
	// still renew.
	Open int64
}

// PlusRenewal computes the renewal of period p (field names it in errors): one statement.
func (s *Service) PlusRenewal(ctx context.Context, field string, p Period) (Renewal, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return Renewal{}, err
	}
	p = Period{p.From.UTC(), p.To.UTC()}
	if err := CheckPeriod(field, p, sc.now); err != nil {
		return Renewal{}, err
	}
	out := Renewal{At: sc.now, Period: p}
	to := p.To
	if to.After(sc.now) {
		to = sc.now
	}
	q := "SELECT COUNT(*), COALESCE(SUM(r), 0), COALESCE(SUM(CASE WHEN r = 0 AND end_at > ? THEN 1 ELSE 0 END), 0) FROM (" +
		"SELECT t.end_at, CASE WHEN EXISTS (SELECT 1 FROM plus_terms n WHERE n.member_id = t.member_id AND n.id <> t.id " +
		"AND n.price_paid_cents > 0 AND " + s.within("n.start_at", "t.end_at", int(RenewalWindow/(24*time.Hour))) + ") THEN 1 ELSE 0 END AS r " +
		"FROM plus_terms t WHERE t.program_id = ? AND t.end_at >= ? AND t.end_at < ? AND t.cancelled_at IS NULL) x"
	if err := s.one(ctx, q, []any{sc.now.Add(-RenewalWindow), sc.programID, p.From, to},
		&out.Renewed.Den, &out.Renewed.Num, &out.Open); err != nil {
		return Renewal{}, err
	}
	return out, nil
}

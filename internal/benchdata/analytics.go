package benchdata

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect"

	"github.com/membergraph/membergraph/internal/store"
)

// AnalyticsSeed adds to the members a Scores load wrote what the analytics read beyond
// tiers and scores, derived from each member's id with INSERT … SELECT (no row passes
// through Go), as of the business date 2026-11-22 in Asia/Shanghai:
//
//   - points lots: every member one of id mod 5,000 points lapsing at the end of 2027,
//     funded PLATFORM (ids ending 0–5), PLUS (6–7), STORE:s1 (8) or PARTNER:video (9); every
//     even id one more of (37·id) mod 3,000 lapsing at the end of 2026 (next month's);
//   - PLUS terms: ids ≡ 0, 1 (mod 10) an annual purchase (¥149) starting id mod 330 days
//     after 2026-01-01, ids ≡ 2 a 30-day trial likewise; ids ≡ 0 also the annual term before
//     (so a renewal), ids ≡ 3 one annual term that ended without renewal;
//   - medal levels: ORDERS level 1 + id mod 5 for ids ≡ 0 (mod 4), PHONES level 1 + id mod 3
//     for ids ≡ 0 (mod 7);
//   - debt: 50 points for ids ≡ 0 (mod 100).
//
// MySQL only: the statements use its date arithmetic.
func AnalyticsSeed(ctx context.Context, db *store.DB, programID int) error {
	if db.Dialect != dialect.MySQL {
		return fmt.Errorf("benchdata: the analytics load is written for MySQL")
	}
	term := func(where, start, end, source, plan string, price int, key string) string {
		return fmt.Sprintf(`INSERT INTO plus_terms (program_id, member_id, plan, source, start_at, end_at, planned_end_at,
			price_paid_cents, payment_ref, idempotency_key, body_hash, cancel_reason, refund_cents, created_at)
			SELECT program_id, id, '%s', '%s', %s, %s, %s, %d, '', CONCAT('%s', id), '', '', 0, %s
			FROM members WHERE program_id = ? AND %s`, plan, source, start, end, end, price, key, start, where)
	}
	start := "TIMESTAMP('2026-01-01') + INTERVAL (id MOD 330) DAY"
	stmts := []string{
		`INSERT INTO point_lots (program_id, member_id, remaining, expires_at, available_at, funding)
			SELECT program_id, id, id MOD 5000, '2027-12-31 16:00:00', '2026-01-01', CASE
				WHEN id MOD 10 < 6 THEN 'PLATFORM' WHEN id MOD 10 < 8 THEN 'PLUS' WHEN id MOD 10 = 8 THEN 'STORE:s1'
				ELSE 'PARTNER:video' END
			FROM members WHERE program_id = ?`,
		`INSERT INTO point_lots (program_id, member_id, remaining, expires_at, available_at, funding)
			SELECT program_id, id, (37 * id) MOD 3000, '2026-12-31 16:00:00', '2026-01-01', 'PLATFORM'
			FROM members WHERE program_id = ? AND id MOD 2 = 0`,
		term("id MOD 10 IN (0, 1)", start, "("+start+") + INTERVAL 1 YEAR", "PURCHASE", "ANNUAL", 14900, "bench-a-"),
		term("id MOD 10 = 2", start, "("+start+") + INTERVAL 30 DAY", "TRIAL", "TRIAL", 0, "bench-t-"),
		term("id MOD 10 = 0", "("+start+") - INTERVAL 1 YEAR", start, "PURCHASE", "ANNUAL", 14900, "bench-p-"),
		term("id MOD 10 = 3", "("+start+") - INTERVAL 1 YEAR", start, "PURCHASE", "ANNUAL", 14900, "bench-e-"),
		`INSERT INTO member_medals (program_id, member_id, medal_key, level, updated_at)
			SELECT program_id, id, 'ORDERS', 1 + id MOD 5, '2026-11-01' FROM members WHERE program_id = ? AND id MOD 4 = 0`,
		`INSERT INTO member_medals (program_id, member_id, medal_key, level, updated_at)
			SELECT program_id, id, 'PHONES', 1 + id MOD 3, '2026-11-01' FROM members WHERE program_id = ? AND id MOD 7 = 0`,
		`UPDATE point_accounts SET debt = 50 WHERE program_id = ? AND member_id MOD 100 = 0`,
	}
	for _, q := range stmts {
		if _, err := db.SQL.ExecContext(ctx, q, programID); err != nil {
			return fmt.Errorf("benchdata: analytics load: %w", err)
		}
	}
	return nil
}

package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/membergraph/membergraph/ent"
)

// LockConflict reports whether MySQL gave up a transaction on a lock: a deadlock (1213) or
// a lock wait timeout (1205). Both roll the transaction back, so it may be run again whole.
func LockConflict(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

// WithTx runs fn in a transaction, committing when it returns nil and rolling back when it
// returns an error or panics.
func WithTx(ctx context.Context, client *ent.Client, fn func(tx *ent.Tx) error) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return fmt.Errorf("%w (rollback: %v)", err, rerr)
		}
		return err
	}
	return tx.Commit()
}

// MaxAttempts bounds how often WithRetry runs a transaction MySQL gave up on a lock.
const MaxAttempts = 5

// WithRetry is WithTx run again, up to MaxAttempts times, when MySQL aborts the transaction
// as a deadlock victim or after a lock wait timeout (LockConflict), so fn must start from
// scratch each time. The retries stay inside ctx's deadline: another attempt is made only
// when the time left exceeds the pause before it plus what the failed attempt took (a lock
// wait that timed out once is likely to again), so the caller can answer before its
// deadline instead of a retry being cut off half-way.
func WithRetry(ctx context.Context, client *ent.Client, fn func(tx *ent.Tx) error) error {
	for attempt := 1; ; attempt++ {
		began := time.Now()
		err := WithTx(ctx, client, fn)
		if err == nil || attempt == MaxAttempts || !LockConflict(err) {
			return err
		}
		pause := retryPause(attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < pause+time.Since(began) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// retryPause is the wait before retry n: exponential from 2 ms, capped at 100 ms, with full
// jitter so that the two sides of a deadlock do not meet again in step.
func retryPause(n int) time.Duration {
	ceiling := min(2*time.Millisecond<<n, 100*time.Millisecond)
	return time.Duration(1 + rand.Int64N(int64(ceiling)))
}

package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/membergraph/membergraph/ent"
)

// WithTx runs fn in a transaction, committing when it returns nil and rolling back when it
// returns an error or panics.
func WithTx(ctx context.Context, client *ent.Client, fn func(tx *ent.Tx) error) error {
	return WithTxOptions(ctx, client, nil, fn)
}

// WithTxOptions is WithTx with transaction options (isolation level); nil for the defaults.
func WithTxOptions(ctx context.Context, client *ent.Client, opts *sql.TxOptions, fn func(tx *ent.Tx) error) error {
	tx, err := client.BeginTx(ctx, opts)
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

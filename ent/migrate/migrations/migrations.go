// Package migrations embeds the versioned migration files, one atlas directory per dialect.
// They are written by `make migration NAME=…` (internal/store/migrationgen) and applied by
// `membergraph migrate` and by `serve` on start.
package migrations

import "embed"

// FS holds sqlite/ and mysql/, each with its *.sql files and atlas.sum.
//
//go:embed sqlite mysql
var FS embed.FS

// Package membergraph is the root of the module; see README.md.
package membergraph

// ent first (the data layer and schema/ent.graphqls), then gqlgen, which reads both. They
// run from here so that `go generate ./...` keeps that order; graph/internal/inorder then
// takes the goroutines out of gqlgen's lists of plain objects. plugins/ is a module of its
// own, which `./...` does not reach: its protocol is generated from here too.
//go:generate go run -mod=mod ./ent/entc.go
//go:generate go tool gqlgen generate
//go:generate go run ./graph/internal/inorder graph/generated.go
//go:generate sh -c "cd plugins && go generate ./..."

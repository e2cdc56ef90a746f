// Package membergraph is the root of the module; see README.md.
package membergraph

// ent first (the data layer and schema/ent.graphqls), then gqlgen, which reads both. They
// run from here so that `go generate ./...` keeps that order. plugins/ is a module of its
// own, which `./...` does not reach: its protocol is generated from here too.
//go:generate go run -mod=mod ./ent/entc.go
//go:generate go tool gqlgen generate
//go:generate sh -c "cd plugins && go generate ./..."

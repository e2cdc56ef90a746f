// Package membergraph is the root of the module; see README.md.
package membergraph

// ent first (the data layer and schema/ent.graphqls), then gqlgen, which reads both. They
// run from here so that `go generate ./...` keeps that order.
//go:generate go run -mod=mod ./ent/entc.go
//go:generate go tool gqlgen generate

// Package ent is the generated data layer; its source of truth is ./schema, and ../generate.go
// regenerates it.
package ent

// Package proto holds the partner protocol: partner/v1/partner.proto and its generated Go
// code. Generation needs protoc (Debian's protobuf-compiler); the Go plugins are pinned tools
// of this module.
package proto

//go:generate go build -o ../.bin/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go
//go:generate go build -o ../.bin/protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc
//go:generate protoc --plugin=protoc-gen-go=../.bin/protoc-gen-go --plugin=protoc-gen-go-grpc=../.bin/protoc-gen-go-grpc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative partner/v1/partner.proto

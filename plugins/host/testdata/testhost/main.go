// Command testhost starts the partners of a plugin directory, prints their process ids and
// waits to be killed: the host's tests SIGKILL it and check that no plugin outlives it.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/membergraph/membergraph/plugins/host"
)

func main() {
	m, err := host.Start(context.Background(), host.Config{Dir: os.Args[1], Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		panic(err)
	}
	for _, p := range m.Partners() {
		fmt.Println(m.PID(p.Key))
	}
	select {}
}

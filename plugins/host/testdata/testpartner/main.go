// Command testpartner is the host tests' plugin; its file name picks its behaviour:
// "garbage*" writes junk where the handshake belongs, the rest is internal/testpartner.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/membergraph/membergraph/plugins/internal/testpartner"
	"github.com/membergraph/membergraph/plugins/sdk"
)

func main() {
	key := filepath.Base(os.Args[0])
	if strings.HasPrefix(key, "garbage") {
		fmt.Println("hello from a plugin that ignores the protocol")
	}
	sdk.Serve(testpartner.New(key))
}

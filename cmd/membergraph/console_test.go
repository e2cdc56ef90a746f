package main

import (
	"flag"
	"io"
	"testing"

	"github.com/membergraph/membergraph/graph"
)

// TestConsoleFlag: --console unset leaves the console where the playground is (the server
// then turns it off with --production); given bare or true it serves the console, in
// production too; false never; MEMBERGRAPH_CONSOLE says the same, the flag overriding it.
func TestConsoleFlag(t *testing.T) {
	for _, c := range []struct {
		env  string
		args []string
		want graph.ConsoleMode
	}{
		{"", nil, graph.ConsoleDefault},
		{"", []string{"--production"}, graph.ConsoleDefault},
		{"", []string{"--production", "--console"}, graph.ConsoleOn},
		{"", []string{"--console=true"}, graph.ConsoleOn},
		{"", []string{"--console=false"}, graph.ConsoleOff},
		{"false", nil, graph.ConsoleOff},
		{"true", []string{"--production"}, graph.ConsoleOn},
		{"false", []string{"--console"}, graph.ConsoleOn},
	} {
		if c.env != "" {
			t.Setenv("MEMBERGRAPH_CONSOLE", c.env)
		}
		var cfg config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg.bindServe(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if got := cfg.Console.mode(); got != c.want {
			t.Errorf("MEMBERGRAPH_CONSOLE=%q %v: mode %v, want %v", c.env, c.args, got, c.want)
		}
	}
}

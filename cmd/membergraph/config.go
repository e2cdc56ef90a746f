package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/membergraph/membergraph/internal/program"
	"github.com/membergraph/membergraph/internal/store"
)

// config is every setting of the binary. Defaults are set in bind, in one place; each
// flag's environment variable is named in its help text.
type config struct {
	DatabaseURL     string
	Addr            string
	AuthSecret      string
	PluginDir       string
	Program         string
	Production      bool
	Migrate         bool
	LogLevel        string
	ComplexityLimit int
	DepthLimit      int
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration
	ExpiryInterval  time.Duration
	SettleInterval  time.Duration
	MedalInterval   time.Duration
}

// bind registers the flags a command uses, with defaults taken from the environment.
func (c *config) bind(fs *flag.FlagSet, serve bool) {
	fs.StringVar(&c.DatabaseURL, "database-url", env("MEMBERGRAPH_DATABASE_URL", store.DefaultURL),
		"database: sqlite://PATH or mysql://USER:PASS@tcp(HOST:3306)/DB [MEMBERGRAPH_DATABASE_URL]")
	fs.StringVar(&c.Program, "program", env("MEMBERGRAPH_PROGRAM", program.PresetKey),
		"key of the default programme, for tokens that name none [MEMBERGRAPH_PROGRAM]")
	if !serve {
		return
	}
	fs.StringVar(&c.Addr, "addr", env("MEMBERGRAPH_ADDR", ":8080"), "listen address [MEMBERGRAPH_ADDR]")
	fs.StringVar(&c.AuthSecret, "auth-secret", env("MEMBERGRAPH_AUTH_SECRET", ""),
		"HS256 secret for bearer tokens, ≥ 32 bytes; empty: a generated one for this run (development) [MEMBERGRAPH_AUTH_SECRET]")
	fs.StringVar(&c.PluginDir, "plugin-dir", env("MEMBERGRAPH_PLUGIN_DIR", "bin/plugins"),
		"directory of partner plugin executables [MEMBERGRAPH_PLUGIN_DIR]")
	fs.BoolVar(&c.Production, "production", envBool("MEMBERGRAPH_PRODUCTION", false),
		"production mode: no introspection, no playground, a configured secret required [MEMBERGRAPH_PRODUCTION]")
	fs.BoolVar(&c.Migrate, "migrate", envBool("MEMBERGRAPH_MIGRATE", true),
		"apply pending migrations on start; turn off where `membergraph migrate` runs as a release step [MEMBERGRAPH_MIGRATE]")
	fs.StringVar(&c.LogLevel, "log-level", env("MEMBERGRAPH_LOG_LEVEL", "info"), "debug, info, warn or error [MEMBERGRAPH_LOG_LEVEL]")
	fs.IntVar(&c.ComplexityLimit, "complexity-limit", envInt("MEMBERGRAPH_COMPLEXITY_LIMIT", 5000),
		"largest query complexity accepted; a connection costs its page size times its items [MEMBERGRAPH_COMPLEXITY_LIMIT]")
	fs.IntVar(&c.DepthLimit, "depth-limit", envInt("MEMBERGRAPH_DEPTH_LIMIT", 12), "deepest query accepted [MEMBERGRAPH_DEPTH_LIMIT]")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", int64(envInt("MEMBERGRAPH_MAX_BODY_BYTES", 1<<20)),
		"largest request body accepted [MEMBERGRAPH_MAX_BODY_BYTES]")
	fs.DurationVar(&c.ExpiryInterval, "expiry-interval", time.Hour,
		"how often the server writes off expired points (balances are right between runs)")
	fs.DurationVar(&c.SettleInterval, "settle-interval", time.Hour,
		"how often the server looks whether the month's score settlement is due (it runs once per month)")
	fs.DurationVar(&c.MedalInterval, "medal-interval", 24*time.Hour,
		"how often the server lowers medal levels whose activity left the 12-month window")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may finish after SIGTERM")
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	v, err := strconv.ParseBool(env(name, strconv.FormatBool(def)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "membergraph: %s: want true or false, using %v\n", name, def)
		return def
	}
	return v
}

func envInt(name string, def int) int {
	v, err := strconv.Atoi(env(name, strconv.Itoa(def)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "membergraph: %s: want a whole number, using %d\n", name, def)
		return def
	}
	return v
}

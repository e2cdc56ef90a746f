// Command membergraph is the membership platform's one binary: `serve` runs the API,
// `migrate` applies database migrations, `token` issues bearer tokens. This package only
// parses flags and environment and wires the parts together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // programme time zones must load on machines without a zoneinfo database
)

const usage = `membergraph — a membership platform (tiers, score, points, medals, PLUS, partner benefits)

Usage:
  membergraph serve   [flags]   run the GraphQL API, the playground and the background jobs
  membergraph migrate [flags]   apply the database migrations (--status: list each, applied or pending)
  membergraph token   [flags]   print a bearer token signed with MEMBERGRAPH_AUTH_SECRET or the development secret
  membergraph expire  [flags]   write off expired points now (serve does it every hour)
  membergraph settle  [flags]   settle the member scores of a month (serve does it on the 1st)
  membergraph demo    [flags]   load demo members with a year of activity, settled (serve does it on an empty database)
  membergraph plugins CMD       trust, list or verify the partner plugins (MEMBERGRAPH_PLUGIN_DIR)
  membergraph bench   NAME      load data for and run the benchmarks of docs/benchmarks.md
  membergraph plus    CMD       record ended PLUS terms now (expire), issue redemption codes (codes)
  membergraph campaigns run     run the campaigns whose schedule is due now (serve does it every minute)
  membergraph tags evaluate     re-evaluate every tag rule for every member now (serve does it daily)
  membergraph version           print the version of this binary

Run "membergraph COMMAND -h" for a command's flags. Flags override environment variables;
relative paths (database file, plugin and state directories) resolve against the working
directory.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // help was asked for and printed
		}
		fmt.Fprintln(os.Stderr, "membergraph:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:])
	case "migrate":
		return migrate(ctx, args[1:])
	case "token":
		return token(args[1:])
	case "expire":
		return expire(ctx, args[1:])
	case "settle":
		return settle(ctx, args[1:])
	case "demo":
		return demoCmd(ctx, args[1:])
	case "plugins":
		return plugins(args[1:])
	case "bench":
		return bench(ctx, args[1:])
	case "plus":
		return plusCmd(ctx, args[1:])
	case "campaigns":
		return campaignsCmd(ctx, args[1:])
	case "tags":
		return tagsCmd(ctx, args[1:])
	case "version", "--version":
		fmt.Println("membergraph", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	default:
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// newFlagSet is a command's flag set whose -h says what the command does before its flags.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: membergraph %s\n\n%s\n\nFlags override environment variables; relative paths resolve against the working directory.\n\n",
			name, strings.TrimSpace(synopsis))
		fs.PrintDefaults()
	}
	return fs
}

// isHelp reports whether arg asks for help, for commands whose first argument is a
// subcommand.
// dispatch runs the subcommand of group (plus, campaigns, tags) that args name, each
// parsing its own flags; usage lists them.
func dispatch(ctx context.Context, group, usage string, args []string, cmds map[string]func(context.Context, []string) error) error {
	if len(args) == 0 {
		return errors.New(group + " needs a command:\n" + usage)
	}
	if isHelp(args[0]) {
		fmt.Fprintln(os.Stderr, "Usage: membergraph "+group+" COMMAND [flags]\n\n"+usage)
		return nil
	}
	run, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("unknown %s command %q:\n%s", group, args[0], usage)
	}
	return run(ctx, args[1:])
}

func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/membergraph/membergraph/internal/partner"
	"github.com/membergraph/membergraph/plugins/host"
)

// startPlugins starts the partner plugins of dir under partners' settings and callbacks,
// each keeping its state in stateDir/KEY; without the directory there are no partners.
func startPlugins(ctx context.Context, dir, stateDir string, partners *partner.Service, logger *slog.Logger) (*host.Manager, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		logger.Info("no plugin directory: no partners", "dir", dir)
		return nil, nil
	}
	// Before the state directory moved out of the build output, plugins kept it in dir/state,
	// which `make clean` deletes; say where the partners' records are so nobody loses them.
	if old := filepath.Join(dir, "state"); exists(old) && !exists(stateDir) {
		logger.Warn("partner state found in the plugin directory, where make clean deletes it; move it to the state directory",
			"from", old, "to", stateDir, "command", fmt.Sprintf("mkdir -p %q && mv %q/* %q/", stateDir, old, stateDir))
	}
	m, err := host.Start(ctx, host.Config{Dir: dir, StateDir: stateDir, Host: partners.Callbacks, Settings: partners.Settings, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("plugins in %s: %w", dir, err)
	}
	partners.SetRunner(m)
	for _, p := range m.Partners() {
		logger.Info("partner", "key", p.Key, "status", p.Status, "reason", p.Reason)
	}
	return m, nil
}

const pluginsUsage = `membergraph plugins trust [--all | NAME ...]   record the executables' SHA-256 as trusted
membergraph plugins list                        the executables and whether each is trusted as it is
membergraph plugins verify                      fail unless every trusted executable is unchanged`

// plugins manages the trusted catalogue of the plugin directory.
func plugins(args []string) error {
	if len(args) == 0 {
		return errors.New("plugins needs a command:\n" + pluginsUsage)
	}
	var cfg config
	cmd := args[0]
	if isHelp(cmd) {
		cmd = "COMMAND"
	}
	fs := newFlagSet("plugins "+cmd+" [flags]", pluginsUsage+"\n\nserve starts only the executables that the catalogue (trusted.json in the plugin directory) trusts as they are.")
	cfg.bindPluginDir(fs)
	all := fs.Bool("all", false, "trust: every executable in the directory")
	if isHelp(args[0]) {
		fs.Usage()
		return flag.ErrHelp
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	dir := cfg.PluginDir
	cat, err := host.LoadCatalogue(dir)
	if err != nil {
		return err
	}
	switch args[0] {
	case "trust":
		names := fs.Args()
		if *all {
			names = executables(dir)
		}
		if len(names) == 0 {
			return errors.New("name the executables to trust, or --all")
		}
		if err := cat.Trust(dir, names...); err != nil {
			return err
		}
		if err := cat.Save(dir); err != nil {
			return err
		}
		for _, n := range names {
			fmt.Printf("trusted %s %s\n", n, cat[n])
		}
	case "list":
		verdict := cat.Verify(dir)
		for _, n := range executables(dir) {
			state := "untrusted"
			if err, ok := verdict[n]; ok && err == nil {
				state = "trusted"
			} else if ok {
				state = "CHANGED since trusted"
			}
			fmt.Printf("%-24s %s\n", n, state)
		}
	case "verify":
		bad := 0
		for _, n := range cat.Names() {
			if err := cat.Verify(dir)[n]; err != nil {
				fmt.Printf("%-24s %v\n", n, err)
				bad++
			} else {
				fmt.Printf("%-24s ok\n", n)
			}
		}
		if bad > 0 {
			return fmt.Errorf("%d plugin(s) differ from their trusted build", bad)
		}
	default:
		return fmt.Errorf("unknown plugins command %q:\n%s", args[0], pluginsUsage)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// executables lists the executable files of dir.
func executables(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0 {
			out = append(out, filepath.Base(e.Name()))
		}
	}
	return out
}

package main

import "runtime/debug"

// version is the release this binary was built as, set by the build:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/membergraph
//
// Without it the version is the VCS revision Go stamps into the build.
var version string

// buildVersion is version, else the stamped VCS revision (with "-dirty" for a build of
// uncommitted changes), else the module version, else "devel".
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified == "true" {
			rev += "-dirty"
		}
		return rev
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return "devel"
}

#!/bin/sh
# Fetches Chart.js from the npm registry into assets/, so the console is served from the
# binary and works offline, as graph/playground/fetch-assets.sh does for GraphiQL. The
# version and its integrity are pinned, and only the listed files are copied, so rerunning
# yields the same bytes (git diff stays empty). Run through `go generate ./graph/console`
# (needs npm and node).
set -eu
cd "$(dirname "$0")"

name=chart.js
version=4.5.1
integrity=sha512-GIjfiT9dbmHRiYi6Nl2yFCq7kkwdkp1W/lp2J99rX0yo9tgJGn3lKQATztIjb5tVtevcBtIdICNWqlq5+E8/Pw==

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent --ignore-scripts --json "$name@$version" >pack.json 2>pack.log) || {
  cat "$work/pack.log" >&2
  exit 1
}
got=$(node -e 'const p = require(process.argv[1]); console.log(p[0].integrity)' "$work/pack.json")
if [ "$got" != "$integrity" ]; then
  echo "fetch-assets.sh: $name@$version: registry integrity $got, pinned $integrity" >&2
  exit 1
fi
tar -xzf "$work/$name-$version.tgz" -C "$work"

# Replace only these files: console.js, console.css are written by hand.
mkdir -p assets
cp "$work/package/dist/chart.umd.min.js" assets/chart.umd.min.js
cp "$work/package/LICENSE.md" assets/LICENSE.chart.js
echo "$name@$version $integrity chart.umd.min.js LICENSE.chart.js" >assets/VERSIONS
chmod 0644 assets/chart.umd.min.js assets/LICENSE.chart.js assets/VERSIONS

#!/bin/sh
# Fetches GraphiQL and React from the npm registry into assets/, so the playground is served
# from the binary and works offline. Versions and their integrity are pinned, and only the
# listed files are copied, so rerunning yields the same bytes (git diff stays empty).
# Run through `go generate ./graph/playground` (needs npm and node).
set -eu
cd "$(dirname "$0")"

# name version integrity. GraphiQL 3.x is the last line with a UMD build usable without a
# bundler; React 19 ships no UMD build, so React stays on 18.
PACKAGES='
graphiql 3.9.0 sha512-rJYFlHdBbug9+YbFSwRVvgfPjCayC7wHecZkx/qB4XLuQPFQZw/yB9pmHFtOJV6RiNBBHro3u1GdocKa3YcGRA==
react 18.3.1 sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==
react-dom 18.3.1 sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==
'

# package file-in-tarball file-in-assets
FILES='
graphiql graphiql.min.js graphiql.min.js
graphiql graphiql.min.css graphiql.min.css
graphiql LICENSE LICENSE.graphiql
react umd/react.production.min.js react.production.min.js
react LICENSE LICENSE.react
react-dom umd/react-dom.production.min.js react-dom.production.min.js
react-dom LICENSE LICENSE.react-dom
'

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/out"

echo "$PACKAGES" | while read -r name version integrity; do
  [ -n "$name" ] || continue
  mkdir "$work/$name"
  (cd "$work/$name" && npm pack --silent --ignore-scripts --json "$name@$version" >pack.json 2>pack.log) || {
    cat "$work/$name/pack.log" >&2
    exit 1
  }
  got=$(node -e 'const p = require(process.argv[1]); console.log(p[0].integrity)' "$work/$name/pack.json")
  if [ "$got" != "$integrity" ]; then
    echo "fetch-assets.sh: $name@$version: registry integrity $got, pinned $integrity" >&2
    exit 1
  fi
  tar -xzf "$work/$name/$name-$version.tgz" -C "$work/$name"
done

echo "$FILES" | while read -r name src dst; do
  [ -n "$name" ] || continue
  cp "$work/$name/package/$src" "$work/out/$dst"
done

echo "$PACKAGES" | while read -r name version integrity; do
  [ -n "$name" ] || continue
  files=$(echo "$FILES" | awk -v n="$name" '$1 == n { printf " %s", $3 }')
  echo "$name@$version $integrity$files"
done >"$work/out/VERSIONS"

# Replace only our files: assets/init.js is written by hand.
chmod 0644 "$work/out/"*
mkdir -p assets
cp "$work/out/"* assets/

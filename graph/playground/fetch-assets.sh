#!/bin/sh
# Fetches GraphiQL and React from the npm registry into assets/, so the playground is served
# from the binary and works offline. Versions are pinned; rerunning yields the same bytes.
# Run through `go generate ./graph/playground` (needs npm).
set -eu
cd "$(dirname "$0")"

GRAPHIQL=graphiql@3.8.3   # the last line with a UMD build usable without a bundler
REACT=react@18.3.1        # React 19 ships no UMD build
REACT_DOM=react-dom@18.3.1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent --json "$GRAPHIQL" "$REACT" "$REACT_DOM" >packed.json 2>/dev/null)

extract() { # extract TARBALL FILE-IN-PACKAGE DEST
  tar -xzf "$work/$1" -C "$work" "package/$2"
  cp "$work/package/$2" "assets/$3"
  rm -rf "$work/package"
}
extract graphiql-3.8.3.tgz graphiql.min.js graphiql.min.js
extract graphiql-3.8.3.tgz graphiql.min.css graphiql.min.css
extract graphiql-3.8.3.tgz LICENSE LICENSE.graphiql
extract react-18.3.1.tgz umd/react.production.min.js react.production.min.js
extract react-18.3.1.tgz LICENSE LICENSE.react
extract react-dom-18.3.1.tgz umd/react-dom.production.min.js react-dom.production.min.js
extract react-dom-18.3.1.tgz LICENSE LICENSE.react-dom

# Record what was fetched, with the registry's integrity hashes.
node -e '
const p = require(process.argv[1]);
console.log(p.map(x => x.id + " " + x.integrity).sort().join("\n"));
' "$work/packed.json" >assets/VERSIONS

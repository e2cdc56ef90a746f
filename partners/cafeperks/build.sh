#!/bin/sh
# build.sh OUT: bundle the Node.js partner into one executable file at OUT (what the trusted
# catalogue hashes covers all of its code). Needs node and npm; packages come from the npm
# registry, at the versions package-lock.json pins.
set -eu
cd "$(dirname "$0")"
out=$1
case "$out" in /*) ;; *) out="$OLDPWD/$out" ;; esac
npm ci --no-audit --no-fund --silent
node gen-descriptors.js
npx --no-install esbuild index.js --bundle --platform=node --target=node18 --log-level=warning \
  --banner:js='#!/usr/bin/env node' --outfile="$out"
chmod +x "$out"

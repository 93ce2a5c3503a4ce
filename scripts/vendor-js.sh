#!/usr/bin/env bash
# Installs the browser libraries named in package.json (exact versions, package-lock.json) and
# copies the files the pages load into web/static/vendor/, so that the web app serves them
# itself: no page ever loads a script from a CDN (a villager's phone may have no route to one,
# and a checking page must not run code the checked server's operator did not ship).
# Safe to run again. Called by scripts/setup-env.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null; then
    echo "npm is missing: install Debian's nodejs and npm (scripts/setup-env.sh does as root)" >&2
    exit 1
fi
npm ci --no-audit --no-fund --loglevel=error >/dev/null
out=web/static/vendor
rm -rf "$out"
mkdir -p "$out/echarts" "$out/noble-ed25519" "$out/noble-hashes"
cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE "$out/echarts/"
cp node_modules/@noble/ed25519/index.js node_modules/@noble/ed25519/LICENSE "$out/noble-ed25519/"
# noble-hashes is ES modules importing each other by relative path: copy its .js files whole.
cp node_modules/@noble/hashes/*.js node_modules/@noble/hashes/LICENSE "$out/noble-hashes/"

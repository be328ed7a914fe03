#!/usr/bin/env bash
# The README's main-job command: installs what trustctl needs, builds it, and runs its main job on
# an embedded default in a throwaway directory: environment check, then the key-metadata file of
# SPIRE's KMS KeyManager plugins (create, show with what the plugin derives, check).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f dist/commands/doctor.js ] || npm run build
trustctl() { node "$PWD/bin/run.js" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work" # a throwaway config location: the demo never touches your own profile
echo "== trustctl doctor"
trustctl doctor
echo "== trustctl metadata init (a fresh server ID, file 0600, parents 0700)"
meta="$work/spire/ctmkms/ctmkms-key-metadata"
trustctl metadata init --file "$meta"
echo "== again: an existing file is never replaced (exit 8 expected)"
set +e; trustctl metadata init --file "$meta"; rc=$?; set -e
[ "$rc" -eq 8 ] || { echo "expected exit 8, got $rc" >&2; exit 1; }
echo "== trustctl metadata show --trust-domain example.org"
trustctl metadata show --file "$meta" --trust-domain example.org
echo "== trustctl metadata check"
trustctl metadata check --file "$meta"
echo "== a file with a trailing newline fails the check (exit 6 expected)"
printf '%s\n' "$(cat "$meta")" > "$work/bad" && chmod 600 "$work/bad"
set +e; trustctl metadata check --file "$work/bad"; rc=$?; set -e
[ "$rc" -eq 6 ] || { echo "expected exit 6, got $rc" >&2; exit 1; }
echo "demo ok"

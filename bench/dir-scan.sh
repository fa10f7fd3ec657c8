#!/bin/sh
# Times a directory scan (no git history) against ripgrep looking for key ids.
#
#   bench/dir-scan.sh DIR
#   GITLEAKS=/path/to/gitleaks bench/dir-scan.sh DIR    # also gitleaks' dir mode
#
# `rg` skips hidden and git-ignored files; keywarden reads them (.env files are
# hidden), so `rg -uu` is the like-for-like line. Run it on a tree without .git/
# for gitleaks, whose dir mode also reads the pack files under .git/.
set -eu
dir=${1:?usage: bench/dir-scan.sh DIR}
for t in hyperfine rg; do
	command -v "$t" >/dev/null || { echo "$t not found (apt-get install -y hyperfine ripgrep)" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kw=${KEYWARDEN:-$tmp/keywarden}
[ -n "${KEYWARDEN:-}" ] || (cd "$(dirname "$0")/.." && go build -o "$kw" ./cmd/keywarden)
re='A[KS]IA[A-Z0-9]{16}'
set -- -N --warmup 3 --runs "${RUNS:-20}" --ignore-failure \
	-n keywarden "$kw scan -q --no-git $dir" \
	-n rg "rg -c $re $dir" \
	-n "rg -uu" "rg -uu -g !.git -c $re $dir"
[ -z "${GITLEAKS:-}" ] || set -- "$@" -n gitleaks "$GITLEAKS dir --no-banner --log-level error --redact $dir"
hyperfine "$@"
/usr/bin/time -f "keywarden: %e s wall, peak RSS %M KiB" "$kw" scan -q --no-git "$dir" >/dev/null || true

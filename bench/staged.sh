#!/bin/sh
# Times `keywarden scan --staged` on a typical commit: a 1,000-file repository
# with three files changed and staged (what the pre-commit hook runs).
set -eu
command -v hyperfine >/dev/null || { echo "hyperfine not found (apt-get install -y hyperfine)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kw=${KEYWARDEN:-$tmp/keywarden}
[ -n "${KEYWARDEN:-}" ] || (cd "$(dirname "$0")/.." && go build -o "$kw" ./cmd/keywarden)
repo=$tmp/repo
git init -q -b main "$repo"
i=1
while [ $i -le 1000 ]; do
	d=$repo/d$((i % 20)); mkdir -p "$d"
	printf 'package x\n\nfunc F%d() int { return %d }\n' $i $i >"$d/f$i.go"
	i=$((i + 1))
done
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@example.invalid commit -qm init
for i in 1 2 3; do printf '\nvar V%d = "changed"\n' $i >>"$repo/d$i/f$i.go"; done
git -C "$repo" add -A
cd "$repo"
hyperfine -N --warmup 3 --runs "${RUNS:-30}" -n "keywarden scan --staged" "$kw scan -q --staged" -n "git diff --cached --stat" "git diff --cached --stat"

#!/bin/sh
# Times a full-history scan of a git repository: keywarden against gitleaks.
#
#   bench/git-history.sh REPO                      # keywarden only
#   GITLEAKS=/path/to/gitleaks bench/git-history.sh REPO
#
# REPO may be a work tree or a bare mirror; nothing is written into it.
# KEYWARDEN=/path/to/keywarden picks the binary (default: built from this tree
# into a temporary directory). RUNS sets hyperfine's run count (default 3),
# WARMUP its warm-up runs (default 1; gitleaks takes minutes a run).
set -eu
repo=${1:?usage: bench/git-history.sh REPO}
runs=${RUNS:-3}
warmup=${WARMUP:-1}
command -v hyperfine >/dev/null || { echo "hyperfine not found (apt-get install -y hyperfine)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kw=${KEYWARDEN:-}
if [ -z "$kw" ]; then
	kw=$tmp/keywarden
	(cd "$(dirname "$0")/.." && go build -o "$kw" ./cmd/keywarden)
fi
# Findings make the scanners exit 1; time the scan, not the verdict. Reports go
# to stdout (hyperfine discards it) or to $tmp.
set -- --warmup "$warmup" --runs "$runs" --ignore-failure --export-json "$tmp/times.json" \
	-n keywarden "$kw scan $repo --format json"
if [ -n "${GITLEAKS:-}" ]; then
	set -- "$@" -n gitleaks "$GITLEAKS git --no-banner --log-level error --report-path $tmp/gitleaks.json $repo"
fi
hyperfine "$@"
# Peak memory of one run each (hyperfine does not measure it).
/usr/bin/time -f "keywarden: %e s wall, %U s user, %S s sys, peak RSS %M KiB" \
	"$kw" scan "$repo" --format json >"$tmp/keywarden.json" || true
if [ -n "${GITLEAKS:-}" ]; then
	/usr/bin/time -f "gitleaks: %e s wall, %U s user, %S s sys, peak RSS %M KiB" \
		"$GITLEAKS" git --no-banner --log-level error --report-path "$tmp/gitleaks.json" "$repo" || true
	python3 - "$tmp/times.json" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
print("gitleaks / keywarden: %.1fx" % (r["gitleaks"] / r["keywarden"]))
PY
fi

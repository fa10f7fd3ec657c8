#!/usr/bin/env bash
# Events per second of `keywarden watch` over gzipped CloudTrail logs, on one
# core and on every core, beside `zcat > /dev/null` (the floor) and jq (the
# peer), in one hyperfine run.
# The corpus replays ../shared/corpus/cloudtrail with a fresh eventID and
# source IP per record: FILES files of 5,000 records each (60 → ~50 MB gz),
# compact JSON as CloudTrail delivers it. COPIES=N hard-links the files N
# times over (COPIES=20 makes the 1 GB run) without generating more.
# usage: FILES=60 COPIES=1 RUNS=3 WARMUP=1 bench/watch.sh [DIR]
set -euo pipefail
dir=${1:-$(mktemp -d)}
files=${FILES:-60}
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=$here/../shared/corpus/cloudtrail
mkdir -p "$dir/logs"
python3 - "$corpus" "$dir/logs" "$files" <<'PY'
import glob, gzip, json, random, sys
corpus, out, files = sys.argv[1], sys.argv[2], int(sys.argv[3])
recs = []
for f in glob.glob(corpus + '/invictus-aws-dataset/*.json') + glob.glob(corpus + '/stratus-detonation-logs/*.json'):
    try:
        d = json.load(open(f))
    except ValueError:
        continue
    recs += d.get('Records', []) if isinstance(d, dict) else d
random.seed(1)
n = 0
for i in range(files):
    batch = []
    for _ in range(5000):
        r = dict(random.choice(recs))
        r['eventID'] = '%08x-%d' % (random.getrandbits(32), n)
        r['sourceIPAddress'] = '.'.join(str(random.randint(1, 254)) for _ in range(4))
        batch.append(r)
        n += 1
    with gzip.open('%s/123456789012_CloudTrail_us-east-1_20261101T%04dZ_bench.json.gz' % (out, i), 'wt') as g:
        json.dump({'Records': batch}, g, separators=(',', ':'))  # compact, as CloudTrail writes
print(n, 'records')
PY
for ((c = 2; c <= ${COPIES:-1}; c++)); do
  for f in "$dir"/logs/*_bench.json.gz; do ln -f "$f" "${f%_bench.json.gz}_copy$c.json.gz"; done
done
du -shl "$dir/logs"; ls "$dir/logs" | wc -l
go build -o "$dir/keywarden" "$here/cmd/keywarden"
export KEYWARDEN_STATE=$dir/state.db
hyperfine -N -i -w "${WARMUP:-1}" -r "${RUNS:-3}" \
  "sh -c 'zcat $dir/logs/*.gz > /dev/null'" \
  "taskset -c 0 $dir/keywarden watch $dir/logs --sink jsonl:/dev/null" \
  "$dir/keywarden watch $dir/logs --sink jsonl:/dev/null" \
  "sh -c 'zcat $dir/logs/*.gz | jq -c \".Records[] | select(.eventName==\\\"CreateUser\\\")\" > /dev/null'"
for cores in "taskset -c 0" ""; do
  echo "peak memory, ${cores:-every core}:"
  /usr/bin/time -v $cores "$dir/keywarden" watch "$dir/logs" --sink jsonl:/dev/null 2>&1 | grep -E 'Maximum resident|Elapsed' || true
done

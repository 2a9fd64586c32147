#!/usr/bin/env bash
# The fleet benchmark: a hunt's results of N hosts (one Velociraptor
# collection zip each) scanned as one root, against scanning one such host
# alone; peak memory at N/5 and N hosts (flat: nothing is held per host);
# `import` of the fleet's JSON lines against the scan that wrote them; and
# `merge` of N one-host indexes at N/5 and N sources. Side by side in one run.
#
#   benches/fleet.sh [N]          (default 1000; RUNS=3 repetitions)
#
# Each host is a hard link to one collection: the WS04 fixture
# (fixtures/collections: 14 store files, three hives, 45 records) without
# its client_info.json, so that each link's name, `Collection-H<i>-<time>`,
# names its host. Warm page cache. Writes benches/results/fleet-N.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
RUNS=${RUNS:-3}
WORK=${SCALE_DIR:-target/scale}
FLEET="$WORK/fleet-$N"
SMALL="$WORK/fleet-$((N / 5))"
ONE_HOST="$WORK/fleet-1"
IDX="$WORK/index-fleet"
OUT=benches/results/fleet-$N.md

cargo build --release -q -p rmsweep
BIN=target/release/rmsweep
mkdir -p "$WORK" benches/results
ONE="$WORK/fleet-collection.zip"
[ -f "$ONE" ] || python3 - "fixtures/collections/Collection-WS04.contoso.local-2026-03-04T05_06_07Z.zip" "$ONE" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as src, zipfile.ZipFile(sys.argv[2], "w") as dst:
    for info in src.infolist():
        if info.filename != "client_info.json":
            dst.writestr(info, src.read(info.filename))
PY
fleet() { # DIR COUNT
  [ -d "$1" ] && return
  mkdir -p "$1.tmp"
  for i in $(seq "$2"); do
    ln "$ONE" "$1.tmp/Collection-H$i-2026-03-04T05_06_07Z.zip"
  done
  mv "$1.tmp" "$1"
}
fleet "$FLEET" "$N"
fleet "$SMALL" "$((N / 5))"
fleet "$ONE_HOST" 1
cat "$ONE" > /dev/null
records=$("$BIN" scan "$FLEET" --jsonl "$WORK/fleet.jsonl" --quiet 2>/dev/null; wc -l < "$WORK/fleet.jsonl")
hosts=$(grep -o '"label":"[^"]*"' "$WORK/fleet.jsonl" | sort -u | wc -l)
# One index per host, for merge.
INDEXES="$WORK/fleet-indexes-$N"
if [ ! -d "$INDEXES" ]; then
  mkdir -p "$INDEXES.tmp"
  for f in "$FLEET"/*.zip; do
    "$BIN" scan "$f" --index "$INDEXES.tmp/$(basename "$f" .zip)" --quiet
  done
  mv "$INDEXES.tmp" "$INDEXES"
fi

source benches/measure.sh
measure one_host "rm -rf '$IDX'" "$BIN scan '$ONE_HOST' --index '$IDX' --quiet"
measure fleet "rm -rf '$IDX'" "$BIN scan '$FLEET' --index '$IDX' --quiet"
measure fleet_fifth "rm -rf '$IDX'" "$BIN scan '$SMALL' --index '$IDX' --quiet"
measure import "rm -rf '$IDX'" "$BIN import --index '$IDX' '$WORK/fleet.jsonl'"
measure merge "rm -rf '$IDX'" "$BIN merge --index '$IDX' '$INDEXES'/*"
measure merge_fifth "rm -rf '$IDX'" "$BIN merge --index '$IDX' \$(ls -d '$INDEXES'/* | head -$((N / 5)))"
rm -rf "$IDX"
per_host=$(awk -v a="${MED[fleet]}" -v n="$N" 'BEGIN { printf "%.4f", a / n }')
{
  echo "Fleet benchmark: a hunt's results of $N hosts (one Velociraptor collection zip each: $records records, $hosts labels) scanned as one root into a fresh index."
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); warm page cache; medians of $RUNS runs; $(date -u +%Y-%m-%d)."
  echo
  echo "| run | median (s) | ratio | peak RSS (MiB) |"
  echo "|---|---:|---|---:|"
  echo "| one host alone | ${MED[one_host]} | 1.00 | ${RSS[one_host]} |"
  echo "| $N hosts, per host | $per_host | $(ratio "$per_host" "${MED[one_host]}") × one host alone | |"
  echo "| $N hosts | ${MED[fleet]} | | ${RSS[fleet]} |"
  echo "| $((N / 5)) hosts | ${MED[fleet_fifth]} | | ${RSS[fleet_fifth]} |"
  echo "| import of the $N hosts' JSON lines | ${MED[import]} | $(ratio "${MED[import]}" "${MED[fleet]}") × the scan | ${RSS[import]} |"
  echo "| merge of $N one-host indexes | ${MED[merge]} | | ${RSS[merge]} |"
  echo "| merge of $((N / 5)) one-host indexes | ${MED[merge_fifth]} | | ${RSS[merge_fifth]} |"
} | tee "$OUT"

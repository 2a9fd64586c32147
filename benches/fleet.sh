#!/usr/bin/env bash
# The fleet benchmark: a Velociraptor hunt download of N hosts (unzipped:
# one `<host>-<client id>` folder per client) scanned as one root, against
# scanning one such host alone; peak memory at N/5 and N hosts (flat:
# nothing is held per host but its few KiB of plan); `import` of the
# fleet's JSON lines against the scan that wrote them; and `merge` of M
# one-host indexes at M/5 and M sources. Side by side in one run.
#
#   benches/fleet.sh [N [M]]      (defaults 1000 and N; RUNS=3 repetitions)
#
# Each client folder holds WS04's uploads (fixtures/collections: 14 store
# files) as hard links and a client_info.json of its own; one host in five
# also holds the three hives (31 settings), as when a hunt collects the
# registry from some hosts only. "One host alone" is the same mix: one
# hunt download of a host with hives and one of a host without, weighted
# 1:4. Warm page cache. Writes benches/results/fleet-N.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
M=${2:-$N}
RUNS=${RUNS:-3}
WORK=${SCALE_DIR:-target/scale}
IDX="$WORK/index-fleet"
OUT=benches/results/fleet-$N.md

cargo build --release -q -p rmsweep
BIN=target/release/rmsweep
mkdir -p "$WORK" benches/results
source benches/hunt.sh
FLEET="$WORK/fleet-$N"
SMALL="$WORK/fleet-$((N / 5))"
hunt "$FLEET" "$N"
hunt "$SMALL" "$((N / 5))"
ONE_HIVES="$WORK/fleet-one-hives"
ONE_PLAIN="$WORK/fleet-one-plain"
[ -d "$ONE_HIVES" ] || { mkdir -p "$ONE_HIVES"; client "$ONE_HIVES" 1 hives; }
[ -d "$ONE_PLAIN" ] || { mkdir -p "$ONE_PLAIN"; client "$ONE_PLAIN" 2 plain; }
records=$("$BIN" scan "$FLEET" --jsonl "$WORK/fleet.jsonl" --quiet 2>/dev/null; wc -l < "$WORK/fleet.jsonl")
hosts=$(grep -o '"label":"[^"]*"' "$WORK/fleet.jsonl" | sort -u | wc -l)
# One index per host, for merge: M hosts of their own.
MERGE_HUNT="$WORK/fleet-$M"
hunt "$MERGE_HUNT" "$M"
INDEXES="$WORK/fleet-indexes-$M"
if [ ! -d "$INDEXES" ]; then
  mkdir -p "$INDEXES.tmp"
  find "$MERGE_HUNT" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' |
    xargs -P "$(nproc)" -I{} "$BIN" scan "$MERGE_HUNT/{}" --index "$INDEXES.tmp/{}" --quiet
  mv "$INDEXES.tmp" "$INDEXES"
fi

source benches/measure.sh
measure one_hives "rm -rf '$IDX'" "$BIN scan '$ONE_HIVES' --index '$IDX' --quiet"
measure one_plain "rm -rf '$IDX'" "$BIN scan '$ONE_PLAIN' --index '$IDX' --quiet"
measure fleet "rm -rf '$IDX'" "$BIN scan '$FLEET' --index '$IDX' --quiet"
measure fleet_fifth "rm -rf '$IDX'" "$BIN scan '$SMALL' --index '$IDX' --quiet"
measure import "rm -rf '$IDX'" "$BIN import --index '$IDX' '$WORK/fleet.jsonl'"
measure merge "rm -rf '$IDX'" "$BIN merge --index '$IDX' '$INDEXES'/*"
measure merge_fifth "rm -rf '$IDX'" "$BIN merge --index '$IDX' \$(ls -d '$INDEXES'/* | head -$((M / 5)))"
rm -rf "$IDX"
one=$(awk -v h="${MED[one_hives]}" -v p="${MED[one_plain]}" 'BEGIN { printf "%.4f", (h + 4 * p) / 5 }')
per_host=$(awk -v a="${MED[fleet]}" -v n="$N" 'BEGIN { printf "%.4f", a / n }')
{
  echo "Fleet benchmark: a Velociraptor hunt download of $N hosts (unzipped, one client folder each, hives on one in five: $records records, $hosts labels) scanned as one root into a fresh index."
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); warm page cache; medians of $RUNS runs; $(date -u +%Y-%m-%d)."
  echo
  echo "| run | median (s) | ratio | peak RSS (MiB) |"
  echo "|---|---:|---|---:|"
  echo "| one host with hives alone | ${MED[one_hives]} | | ${RSS[one_hives]} |"
  echo "| one host without hives alone | ${MED[one_plain]} | | ${RSS[one_plain]} |"
  echo "| one such host alone (1:4 mix) | $one | 1.00 | |"
  echo "| $N hosts, per host | $per_host | $(ratio "$per_host" "$one") × one host alone | |"
  echo "| $N hosts | ${MED[fleet]} | | ${RSS[fleet]} |"
  echo "| $((N / 5)) hosts | ${MED[fleet_fifth]} | | ${RSS[fleet_fifth]} |"
  echo "| import of the $N hosts' JSON lines | ${MED[import]} | $(ratio "${MED[import]}" "${MED[fleet]}") × the scan | ${RSS[import]} |"
  echo "| merge of $M one-host indexes | ${MED[merge]} | | ${RSS[merge]} |"
  echo "| merge of $((M / 5)) one-host indexes | ${MED[merge_fifth]} | | ${RSS[merge_fifth]} |"
} | tee "$OUT"

#!/usr/bin/env bash
# The scale benchmark: rmsweep against the physical floor, side by side in one run.
#
#   benches/scale.sh [PROFILES]        (default 2000; RUNS=5 repetitions)
#
# Generates a volume with the fixture generator (per profile two machine
# certificates, a RAC, a CLC, 20 EULs, 10 templates and 50 ordinary files,
# plus server-mode stores), warms the page cache, then times each step RUNS
# times and reports medians, ratios and peak RSS (GNU time). Writes the table
# to benches/results/scale-PROFILES.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILES=${1:-2000}
RUNS=${RUNS:-5}
WORK=${SCALE_DIR:-target/scale}
VOL="$WORK/volume-$PROFILES"
IDX="$WORK/index-$PROFILES"
OUT=benches/results/scale-$PROFILES.md

if [ ! -x /usr/bin/time ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get install -y -q time >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q time >/dev/null; }
fi
if [ ! -x /usr/bin/time ]; then
  echo "scale.sh: GNU time is needed for peak memory: apt-get install -y time" >&2
  exit 1
fi
# RMSWEEP_BIN: benchmark an existing binary (e.g. a frozen copy) instead of building.
if [ -z "${RMSWEEP_BIN:-}" ]; then
  cargo build --release -q -p rmsweep -p rmsweep-fixtures
fi
BIN=${RMSWEEP_BIN:-target/release/rmsweep}
mkdir -p "$WORK" benches/results
if [ ! -d "$VOL" ]; then
  target/release/rmsweep-fixtures scale "$PROFILES" "$VOL.tmp" && mv "$VOL.tmp" "$VOL"
fi
files=$(find "$VOL" -type f | wc -l)
store_files=$(find "$VOL" -path '*MSIPC*' -type f | wc -l)
bytes=$(find "$VOL" -path '*MSIPC*' -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
# Warm the page cache: every step below reads from memory.
find "$VOL" -type f -print0 | xargs -0 cat > /dev/null

source benches/measure.sh

measure walk_floor ":" "find '$VOL' -type f | wc -l"
measure read_floor ":" "find '$VOL' -path '*MSIPC*' -type f -print0 | xargs -0 cat > /dev/null"
measure discovery ":" "$BIN scan '$VOL' --dry-run --quiet"
measure discovery_deep ":" "$BIN scan '$VOL' --deep --dry-run --quiet"
measure scan_1_thread "rm -rf '$IDX'" "$BIN scan '$VOL' --index '$IDX' --threads 1 --quiet"
measure scan_all_threads "rm -rf '$IDX'" "$BIN scan '$VOL' --index '$IDX' --quiet"
measure scan_deep "rm -rf '$IDX'" "$BIN scan '$VOL' --index '$IDX' --deep --quiet"
rm -rf "$IDX"; $BIN scan "$VOL" --index "$IDX" --quiet
measure rescan_unchanged ":" "$BIN scan '$VOL' --index '$IDX' --quiet"
measure search ":" "$BIN search 'issuer_host:rms.contoso.com AND kind:template' --index '$IDX' --format jsonl"
measure templates ":" "$BIN templates --index '$IDX' --format jsonl"
records=$("$BIN" export --index "$IDX" --format jsonl | wc -l)
# Every output format streams: memory must not grow with the records.
for f in jsonl csv table; do
  measure "export_$f" ":" "COLUMNS=120 $BIN export --index '$IDX' --format $f > /dev/null"
done

{
  echo "Scale benchmark: $PROFILES profiles, $files files ($store_files store files, $((bytes / 1048576)) MiB of store files)."
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); warm page cache; medians of $RUNS runs; $(date -u +%Y-%m-%d)."
  echo
  echo "| step | median (s) | ratio | target | peak RSS (MiB) |"
  echo "|---|---:|---|---|---:|"
  echo "| walk floor: \`find -type f\` | ${MED[walk_floor]} | 1.00 × walk floor | | ${RSS[walk_floor]} |"
  echo "| read floor: \`cat\` every store file | ${MED[read_floor]} | 1.00 × read floor | | ${RSS[read_floor]} |"
  echo "| discovery (\`scan --dry-run\`) | ${MED[discovery]} | $(ratio "${MED[discovery]}" "${MED[walk_floor]}") × walk floor | ≤ 0.10 | ${RSS[discovery]} |"
  echo "| scan, 1 thread, fresh index | ${MED[scan_1_thread]} | $(ratio "${MED[scan_1_thread]}" "${MED[scan_all_threads]}") × all threads | ≥ 1.60 | ${RSS[scan_1_thread]} |"
  echo "| scan, all threads, fresh index | ${MED[scan_all_threads]} | $(ratio "${MED[scan_all_threads]}" "${MED[read_floor]}") × read floor | ≤ 2.00 | ${RSS[scan_all_threads]} |"
  echo "| discovery \`--deep\` (\`scan --deep --dry-run\`) | ${MED[discovery_deep]} | $(ratio "${MED[discovery_deep]}" "${MED[walk_floor]}") × walk floor | ≤ 1.00 | ${RSS[discovery_deep]} |"
  echo "| scan --deep, fresh index | ${MED[scan_deep]} | $(ratio "${MED[scan_deep]}" "${MED[scan_all_threads]}") × targeted scan | | ${RSS[scan_deep]} |"
  echo "| re-scan, unchanged volume | ${MED[rescan_unchanged]} | $(ratio "${MED[rescan_unchanged]}" "${MED[scan_all_threads]}") × full scan | ≤ 0.25 | ${RSS[rescan_unchanged]} |"
  echo "| \`rmsweep search\` (whole process) | ${MED[search]} | | ≤ 0.100 s | ${RSS[search]} |"
  echo "| \`rmsweep templates\` (whole process) | ${MED[templates]} | | | ${RSS[templates]} |"
  for f in jsonl csv table; do
    echo "| \`rmsweep export --format $f\` ($records records) | ${MED[export_$f]} | $(ratio "${MED[export_$f]}" "${MED[export_jsonl]}") × jsonl | | ${RSS[export_$f]} |"
  done
} | tee "$OUT"

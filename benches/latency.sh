#!/usr/bin/env bash
# The latency benchmark: a scan across a slow share, against parallel `find`
# and parallel `cat` of the same tree, side by side in one run.
#
#   benches/latency.sh [PROFILES]     (default 40; DELAY_MS=2, RUNS=3)
#
# Generates the scale benchmark's volume, mounts it through `slowfs` (a FUSE
# passthrough of this project's, benches/src/bin/slowfs.rs) that answers
# every operation DELAY_MS late, with one second of name and attribute
# caching like a default CIFS mount, and times over the mount:
#   - `find` of the whole tree, serial, and one `find` per profile 32 at a time;
#   - `cat` of every store file, 32 at a time;
#   - rmsweep's discovery (`--dry-run`), a scan to JSON lines, a scan into
#     a fresh index, and the scan with `--io-depth 1` (one request at a time);
#   - an unzipped hunt download of FLEET clients (default 100; benches/hunt.sh)
#     on its own slow mount: a parallel `find`, discovery and a scan;
#   - BASE_BIN=path: the same scans by another rmsweep binary (before a change).
# Before each timed step it waits out the caches (1.2 s). Needs root and
# /dev/fuse. Writes the table to benches/results/latency-PROFILES.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILES=${1:-40}
DELAY_MS=${DELAY_MS:-2}
RUNS=${RUNS:-3}
WORK=${SCALE_DIR:-target/scale}
VOL="$WORK/volume-$PROFILES"
MNT="$WORK/slow-$PROFILES"
IDX="$WORK/index-slow-$PROFILES"
OUT=benches/results/latency-$PROFILES.md

if [ ! -e /dev/fuse ] || [ "$(id -u)" != 0 ]; then
  echo "latency.sh: needs root and /dev/fuse (FUSE mounts the slow share)" >&2
  exit 1
fi
if [ ! -x /usr/bin/time ] && command -v apt-get >/dev/null; then
  apt-get install -y -q time >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q time >/dev/null; }
fi
cargo build --release -q -p rmsweep -p rmsweep-fixtures -p rmsweep-benches --bin rmsweep --bin rmsweep-fixtures --bin slowfs
BIN=target/release/rmsweep
mkdir -p "$WORK" benches/results
if [ ! -d "$VOL" ]; then
  target/release/rmsweep-fixtures scale "$PROFILES" "$VOL.tmp" && mv "$VOL.tmp" "$VOL"
fi
files=$(find "$VOL" -type f | wc -l)
store_files=$(find "$VOL" -path '*MSIPC*' -type f | wc -l)
# The source is warm: what is timed is the share's latency, not the disk.
find "$VOL" -type f -print0 | xargs -0 cat > /dev/null

MOUNTS=()
trap 'for m in "${MOUNTS[@]}"; do fusermount -u "$m" 2>/dev/null || true; done; wait' EXIT
slow_mount() { # SOURCE MOUNTPOINT: SOURCE through slowfs, until the script ends
  mkdir -p "$2"
  mountpoint -q "$2" && fusermount -u "$2"
  target/release/slowfs "$1" "$2" "$DELAY_MS" 1000 &
  MOUNTS+=("$2")
  for _ in $(seq 50); do mountpoint -q "$2" && return; sleep 0.1; done
  echo "latency.sh: slowfs did not mount on $2" >&2
  exit 1
}
slow_mount "$VOL" "$MNT"
# The store files' paths on the mount, for the parallel `cat`.
ON_MOUNT=$(realpath "$MNT")
(cd "$VOL" && find . -path '*MSIPC*' -type f -printf "$ON_MOUNT/%P\0") > "$WORK/slow-store-files"

source benches/measure.sh
COLD="sleep 1.2"
parallel_find="{ find '$MNT' -maxdepth 2; find '$MNT' -mindepth 2 -maxdepth 2 -type d -print0 | xargs -0 -P32 -I{} find {} -mindepth 1; } | wc -l"
measure find_serial "$COLD" "find '$MNT' | wc -l"
measure find_parallel "$COLD" "$parallel_find"
measure cat_parallel "$COLD" "xargs -0 -P32 -n 16 cat < '$WORK/slow-store-files' > /dev/null"
measure discovery "$COLD" "$BIN scan '$MNT' --dry-run --quiet"
measure scan_jsonl "$COLD" "$BIN scan '$MNT' --jsonl /dev/null --quiet"
measure scan_index "rm -rf '$IDX'; $COLD" "$BIN scan '$MNT' --index '$IDX' --quiet"
measure scan_serial "rm -rf '$IDX'; $COLD" "$BIN scan '$MNT' --index '$IDX' --io-depth 1 --quiet"
if [ -n "${BASE_BIN:-}" ]; then
  measure base_discovery "$COLD" "$BASE_BIN scan '$MNT' --dry-run --quiet"
  measure base_scan "rm -rf '$IDX'; $COLD" "$BASE_BIN scan '$MNT' --index '$IDX' --quiet"
fi
rm -rf "$IDX"
# A fleet on the share: an unzipped hunt download of FLEET clients (default 100).
FLEET=${FLEET:-100}
HUNT="$WORK/fleet-$FLEET"
source benches/hunt.sh
hunt "$HUNT" "$FLEET"
HMNT="$WORK/slow-fleet-$FLEET"
slow_mount "$HUNT" "$HMNT"
measure hunt_find_parallel "$COLD" "find '$HMNT' -mindepth 1 -maxdepth 1 -print0 | xargs -0 -P32 -I{} find {} | wc -l"
measure hunt_discovery "$COLD" "$BIN scan '$HMNT' --dry-run --quiet"
measure hunt_scan_jsonl "$COLD" "$BIN scan '$HMNT' --jsonl /dev/null --quiet"
if [ -n "${BASE_BIN:-}" ]; then
  measure base_hunt_scan_jsonl "$COLD" "$BASE_BIN scan '$HMNT' --jsonl /dev/null --quiet"
fi
floor=$(awk -v a="${MED[find_parallel]}" -v b="${MED[cat_parallel]}" 'BEGIN { printf "%.3f", a + b }')

{
  echo "Latency benchmark: $PROFILES profiles, $files files ($store_files store files), through slowfs adding $DELAY_MS ms to every operation (1 s name and attribute cache)."
  echo "Machine: $(nproc) cores, $(uname -sr); medians of $RUNS runs, caches waited out before each; $(date -u +%Y-%m-%d)."
  echo
  echo "| step | median (s) | ratio | target |"
  echo "|---|---:|---|---|"
  echo "| \`find\`, serial | ${MED[find_serial]} | $(ratio "${MED[find_serial]}" "${MED[find_parallel]}") × parallel find | |"
  echo "| \`find\`, one per profile, 32 at a time | ${MED[find_parallel]} | 1.00 × parallel find | |"
  echo "| \`cat\` of every store file, 32 at a time | ${MED[cat_parallel]} | | |"
  echo "| floor: parallel find + parallel cat | $floor | 1.00 × floor | |"
  echo "| discovery (\`scan --dry-run\`) | ${MED[discovery]} | $(ratio "${MED[discovery]}" "${MED[find_parallel]}") × parallel find | ≤ 1.00 |"
  echo "| scan to JSON lines | ${MED[scan_jsonl]} | $(ratio "${MED[scan_jsonl]}" "$floor") × floor | |"
  echo "| scan into a fresh index | ${MED[scan_index]} | $(ratio "${MED[scan_index]}" "$floor") × floor | ≤ 1.50 |"
  echo "| scan into a fresh index, \`--io-depth 1\` | ${MED[scan_serial]} | $(ratio "${MED[scan_serial]}" "${MED[scan_index]}") × scan | |"
  if [ -n "${BASE_BIN:-}" ]; then
    echo "| before: discovery ($BASE_BIN) | ${MED[base_discovery]} | $(ratio "${MED[base_discovery]}" "${MED[discovery]}") × discovery | |"
    echo "| before: scan into a fresh index | ${MED[base_scan]} | $(ratio "${MED[base_scan]}" "${MED[scan_index]}") × scan | ≥ 5.00 |"
  fi
  echo "| hunt download of $FLEET clients: \`find\`, one per client, 32 at a time | ${MED[hunt_find_parallel]} | 1.00 × its parallel find | |"
  echo "| hunt download: discovery (\`scan --dry-run\`) | ${MED[hunt_discovery]} | $(ratio "${MED[hunt_discovery]}" "${MED[hunt_find_parallel]}") × its parallel find | |"
  echo "| hunt download: scan to JSON lines | ${MED[hunt_scan_jsonl]} | $(ratio "${MED[hunt_scan_jsonl]}" "${MED[hunt_find_parallel]}") × its parallel find | |"
  if [ -n "${BASE_BIN:-}" ]; then
    echo "| before: hunt download scan to JSON lines | ${MED[base_hunt_scan_jsonl]} | $(ratio "${MED[base_hunt_scan_jsonl]}" "${MED[hunt_scan_jsonl]}") × scan | |"
  fi
} | tee "$OUT"

#!/usr/bin/env bash
# The registry benchmark: what reading the hives adds to a scan, against the
# floor of reading those hive files once (`cat`), side by side in one run.
#
#   benches/registry.sh [PROFILES]     (default 200; RUNS=5 repetitions)
#
# Takes the scale benchmark's volume (benches/scale.sh makes it), copies it
# with every profile given an NTUSER.DAT and a UsrClass.dat of a few MiB and
# the volume a SOFTWARE and a SYSTEM hive (fixtures/hives/make-big-hives.sh,
# Debian's hivex tools), warms the page cache, and times a fresh scan of the
# volume without and with the hives, and `cat` of the hives. LINK=1 links
# every profile's hives to one copy (same bytes read, far less disk: for
# thousands of profiles, where the point is memory). COLD=1 drops the page
# cache before every run instead (root only): evidence read from disk, as it
# usually is. Writes benches/results/registry-PROFILES[-cold].md.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILES=${1:-200}
RUNS=${RUNS:-5}
WORK=${SCALE_DIR:-target/scale}
VOL="$WORK/volume-$PROFILES"
HVOL="$WORK/volume-$PROFILES-hives"
BIG=target/big-hives
IDX="$WORK/index-registry"
OUT=benches/results/registry-$PROFILES$([ "${COLD:-0}" = 1 ] && echo -cold || true).md
if [ "${COLD:-0}" = 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "registry.sh: COLD=1 drops the page cache and needs root" >&2; exit 1; }
  DROP='sync; echo 3 > /proc/sys/vm/drop_caches;'
else
  DROP=''
fi

cargo build --release -q -p rmsweep -p rmsweep-fixtures
BIN=target/release/rmsweep
mkdir -p "$WORK" benches/results
[ -d "$VOL" ] || { target/release/rmsweep-fixtures scale "$PROFILES" "$VOL.tmp" && mv "$VOL.tmp" "$VOL"; }
[ -f "$BIG/UsrClass.dat" ] || fixtures/hives/make-big-hives.sh "$BIG" >/dev/null
if [ ! -d "$HVOL" ]; then
  cp -al "$VOL" "$HVOL.tmp"
  mkdir -p "$HVOL.tmp/Windows/System32/config"
  cp "$BIG/SOFTWARE" "$BIG/SYSTEM" "$HVOL.tmp/Windows/System32/config/"
  for p in "$HVOL.tmp"/Users/*/; do
    mkdir -p "$p/AppData/Local/Microsoft/Windows"
    if [ "${LINK:-0}" = 1 ]; then
      ln "$BIG/NTUSER.DAT" "$p/NTUSER.DAT"
      ln "$BIG/UsrClass.dat" "$p/AppData/Local/Microsoft/Windows/UsrClass.dat"
    else
      cp "$BIG/NTUSER.DAT" "$p/NTUSER.DAT"
      cp "$BIG/UsrClass.dat" "$p/AppData/Local/Microsoft/Windows/UsrClass.dat"
    fi
  done
  mv "$HVOL.tmp" "$HVOL"
fi
HIVES="$WORK/hive-list-$PROFILES"
find "$HVOL" -type f \( -name NTUSER.DAT -o -name UsrClass.dat -o -name SOFTWARE -o -name SYSTEM \) > "$HIVES"
hives=$(wc -l < "$HIVES")
hive_bytes=$(xargs -d '\n' stat -c %s < "$HIVES" | awk '{s+=$1} END {printf "%d", s}')
find "$HVOL" -type f -print0 | xargs -0 cat > /dev/null

source benches/measure.sh
# Interleaved per run would be fairer on a noisy machine; medians of RUNS instead.
measure cat_hives "$DROP :" "xargs -d '\n' cat < '$HIVES' > /dev/null"
measure scan_without "rm -rf '$IDX'; $DROP :" "$BIN scan '$VOL' --index '$IDX' --quiet"
measure scan_with "rm -rf '$IDX'; $DROP :" "$BIN scan '$HVOL' --index '$IDX' --quiet"
rm -rf "$IDX"

part=$(awk -v a="${MED[scan_with]}" -v b="${MED[scan_without]}" 'BEGIN { printf "%.3f", a - b }')
{
  echo "Registry benchmark: $PROFILES profiles, $hives hives ($((hive_bytes / 1048576)) MiB; NTUSER.DAT and UsrClass.dat $(($(stat -c %s "$BIG/UsrClass.dat") / 1024)) KiB each$([ "${LINK:-0}" = 1 ] && echo ', linked to one copy')), beside the scale volume's stores."
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $([ "${COLD:-0}" = 1 ] && echo 'page cache dropped before every run' || echo 'warm page cache'); medians of $RUNS runs; $(date -u +%Y-%m-%d)."
  echo
  echo "| step | median (s) | ratio | peak RSS (MiB) |"
  echo "|---|---:|---|---:|"
  echo "| \`cat\` every hive | ${MED[cat_hives]} | 1.00 × cat | ${RSS[cat_hives]} |"
  echo "| scan without hives, fresh index | ${MED[scan_without]} | | ${RSS[scan_without]} |"
  echo "| scan with hives, fresh index | ${MED[scan_with]} | $(ratio "${MED[scan_with]}" "${MED[scan_without]}") × without | ${RSS[scan_with]} |"
  echo "| registry part (with − without) | $part | $(ratio "$part" "${MED[cat_hives]}") × cat | |"
} | tee "$OUT"

#!/usr/bin/env bash
# The container benchmark: a profile share of N FSLogix containers against
# the same N profiles as plain folders, side by side in one run, and peak
# memory at N/5 and N containers (flat: nothing is held per container).
#
#   benches/containers.sh [N]          (default 500; RUNS=5 repetitions)
#
# The containers are hard links to one fixture container (fixtures/images:
# Profile_alice.vhdx, a 16 MiB GPT disk whose \Profile holds the sample
# volume's dave/AppData and an NTUSER.DAT), each in its own
# `S-1-5-21-1-2-3-<i>_user<i>` folder; the plain share holds the same
# AppData and NTUSER.DAT copied into `user<i>` folders. Both are read from a
# warm page cache, so the ratio is what opening and reading a container
# costs over reading the same files from a folder. Writes
# benches/results/containers-N.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-500}
RUNS=${RUNS:-5}
WORK=${SCALE_DIR:-target/scale}
PLAIN="$WORK/share-plain-$N"
VHDX="$WORK/share-fslogix-$N"
SMALL="$WORK/share-fslogix-$((N / 5))"
IDX="$WORK/index-containers"
OUT=benches/results/containers-$N.md

cargo build --release -q -p rmsweep -p rmsweep-fixtures --example unpack-images
BIN=target/release/rmsweep
mkdir -p "$WORK" benches/results
ONE="$WORK/container-fixture"
[ -f "$ONE/fslogix/S-1-5-21-1-2-3-1001_alice/Profile_alice.vhdx" ] ||
  target/release/examples/unpack-images "$ONE" fslogix/S-1-5-21-1-2-3-1001_alice/Profile_alice.vhdx
CONTAINER="$ONE/fslogix/S-1-5-21-1-2-3-1001_alice/Profile_alice.vhdx"
share() { # DIR COUNT
  [ -d "$1" ] && return
  mkdir -p "$1.tmp"
  for i in $(seq "$2"); do
    mkdir "$1.tmp/S-1-5-21-1-2-3-${i}_user$i"
    ln "$CONTAINER" "$1.tmp/S-1-5-21-1-2-3-${i}_user$i/Profile_user$i.vhdx"
  done
  mv "$1.tmp" "$1"
}
share "$VHDX" "$N"
share "$SMALL" "$((N / 5))"
if [ ! -d "$PLAIN" ]; then
  mkdir -p "$PLAIN.tmp"
  for i in $(seq "$N"); do
    mkdir "$PLAIN.tmp/user$i"
    cp -r fixtures/sample-volume/Users/dave/AppData "$PLAIN.tmp/user$i/"
    cp fixtures/hives/NTUSER.DAT "$PLAIN.tmp/user$i/"
  done
  mv "$PLAIN.tmp" "$PLAIN"
fi
find "$PLAIN" "$CONTAINER" -type f -print0 | xargs -0 cat > /dev/null
records() { "$BIN" scan "$1" --jsonl - --quiet --label b 2>/dev/null | wc -l; }
plain_records=$(records "$PLAIN")
vhdx_records=$(records "$VHDX")

source benches/measure.sh
measure plain "rm -rf '$IDX'" "$BIN scan '$PLAIN' --index '$IDX' --label b --quiet"
measure containers "rm -rf '$IDX'" "$BIN scan '$VHDX' --index '$IDX' --label b --quiet"
measure containers_fifth "rm -rf '$IDX'" "$BIN scan '$SMALL' --index '$IDX' --label b --quiet"
rm -rf "$IDX"
{
  echo "Container benchmark: a share of $N FSLogix profile containers (VHDX, GPT, \\Profile; hard links to one fixture container) against the same $N profiles as plain folders."
  echo "Records: $plain_records from the folders, $vhdx_records from the containers (the same store files and NTUSER.DAT settings; the containers' carry their container)."
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); warm page cache; medians of $RUNS runs; $(date -u +%Y-%m-%d)."
  echo
  echo "| scan into a fresh index | median (s) | ratio | peak RSS (MiB) |"
  echo "|---|---:|---|---:|"
  echo "| $N profiles as folders | ${MED[plain]} | 1.00 | ${RSS[plain]} |"
  echo "| $N FSLogix containers | ${MED[containers]} | $(ratio "${MED[containers]}" "${MED[plain]}") × folders | ${RSS[containers]} |"
  echo "| $((N / 5)) FSLogix containers | ${MED[containers_fifth]} | | ${RSS[containers_fifth]} |"
} | tee "$OUT"

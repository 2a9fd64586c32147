#!/usr/bin/env bash
# The export benchmark: peak memory and time of `export` in each format
# over an index of N records (default 1,000,000), side by side in one run.
# Every format streams, so memory must stay flat with N; run it at two
# sizes to see that (benches/export.sh 100000; benches/export.sh).
#
# The index is built by `import` from the sample volume's JSON lines,
# repeated under one label per copy (79 records each), so it needs no
# evidence on disk. Warm page cache. Writes benches/results/export-N.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
RUNS=${RUNS:-3}
WORK=${SCALE_DIR:-target/scale}
IDX="$WORK/index-export-$N"
OUT=benches/results/export-$N.md

cargo build --release -q -p rmsweep
BIN=target/release/rmsweep
mkdir -p "$WORK" benches/results
if [ ! -d "$IDX" ]; then
  "$BIN" scan fixtures/sample-volume --label HOST --jsonl "$WORK/export-one.jsonl" --quiet
  per=$(wc -l < "$WORK/export-one.jsonl")
  copies=$(( (N + per - 1) / per ))
  # One label per copy; the last copy cut so that there are N records.
  awk -v copies="$copies" -v n="$N" '
    { line[NR] = $0 }
    END {
      out = 0
      for (c = 1; c <= copies; c++)
        for (i = 1; i <= NR && out < n; i++) {
          l = line[i]; sub(/"label":"HOST"/, "\"label\":\"H" c "\"", l); print l; out++
        }
    }' "$WORK/export-one.jsonl" > "$WORK/export-$N.jsonl"
  "$BIN" import --index "$IDX.tmp" "$WORK/export-$N.jsonl" > /dev/null
  rm -f "$WORK/export-$N.jsonl"
  mv "$IDX.tmp" "$IDX"
fi
records=$("$BIN" export --index "$IDX" --format jsonl | wc -l)

source benches/measure.sh
# Peak resident memory counts the index files the kernel maps (tantivy reads
# them through mmap; those pages are the page cache's, not the process's):
# the peak of anonymous memory (RssAnon, sampled every 10 ms) is what the
# export itself holds.
declare -A ANON
measure_anon() { # NAME COMMAND
  local peaks=() peak
  for _ in $(seq "$RUNS"); do
    bash -c "$2" > /dev/null 2>&1 &
    local pid=$! peak=0 kb
    while kill -0 "$pid" 2>/dev/null; do
      kb=$(awk '/RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "$kb" ] && [ "$kb" -gt "$peak" ] && peak=$kb
      sleep 0.01
    done
    wait "$pid" || true
    peaks+=("$peak")
  done
  ANON[$1]=$(printf '%s\n' "${peaks[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.0f", a[int((NR+1)/2)]/1024}')
}
for f in jsonl csv table; do
  measure "export_$f" ":" "COLUMNS=120 $BIN export --index '$IDX' --format $f > /dev/null"
  measure_anon "export_$f" "COLUMNS=120 exec $BIN export --index '$IDX' --format $f"
done
{
  echo "Export benchmark: an index of $records records (the sample volume's 79, once per label), exported whole."
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); warm page cache; medians of $RUNS runs; $(date -u +%Y-%m-%d)."
  echo
  echo "| format | median (s) | ratio | peak anonymous memory (MiB) | peak RSS incl. mapped index (MiB) |"
  echo "|---|---:|---|---:|---:|"
  for f in jsonl csv table; do
    echo "| \`export --format $f\` | ${MED[export_$f]} | $(ratio "${MED[export_$f]}" "${MED[export_jsonl]}") × jsonl | ${ANON[export_$f]} | ${RSS[export_$f]} |"
  done
} | tee "$OUT"

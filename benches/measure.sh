# Sourced by the benchmark scripts: `measure NAME SETUP COMMAND` runs
# COMMAND $RUNS times (SETUP before each) under GNU time and keeps the
# median wall time in MED[NAME] and the median peak RSS (MiB) in RSS[NAME];
# `ratio A B` prints A / B. Needs $WORK and $RUNS.
declare -A MED RSS
measure() {
  local name=$1 setup=$2 cmd=$3 times=() rss=()
  for _ in $(seq "$RUNS"); do
    eval "$setup"
    /usr/bin/time -f '%e %M' -o "$WORK/time.txt" bash -c "$cmd" > /dev/null 2>&1
    read -r t m < "$WORK/time.txt"
    times+=("$t"); rss+=("$m")
  done
  MED[$name]=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  RSS[$name]=$(printf '%s\n' "${rss[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.0f", a[NR]/1024}')
  printf '%-28s median %8.3f s   peak RSS %5s MiB\n' "$name" "${MED[$name]}" "${RSS[$name]}" >&2
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

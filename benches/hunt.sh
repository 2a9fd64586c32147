# Sourced by the fleet and latency benchmarks (needs $WORK): `hunt DIR COUNT`
# writes an unzipped Velociraptor hunt download of COUNT clients to DIR (once).
# Each client folder holds WS04's uploads (fixtures/collections: 14 store
# files) as hard links and a client_info.json of its own; one client in five
# also holds the three hives.
# The uploads of one client, with and without its hives.
TEMPLATE="$WORK/fleet-template"
if [ ! -d "$TEMPLATE" ]; then
  mkdir -p "$TEMPLATE.tmp"
  python3 - "fixtures/collections/Collection-WS04.contoso.local-2026-03-04T05_06_07Z.zip" "$TEMPLATE.tmp/hives" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith("uploads/")])
PY
  cp -al "$TEMPLATE.tmp/hives" "$TEMPLATE.tmp/plain"
  find "$TEMPLATE.tmp/plain" \( -name NTUSER.DAT -o -name UsrClass.dat -o -name SOFTWARE \) -delete
  mv "$TEMPLATE.tmp" "$TEMPLATE"
fi
client() { # HUNT I [hives|plain]
  local id dir
  id=$(printf 'C.%016x' "$2")
  dir="$1/H$2-$id"
  cp -al "$TEMPLATE/$3" "$dir"
  printf '{"client_id":"%s","hostname":"H%s","fqdn":"H%s.contoso.local"}\n' "$id" "$2" "$2" > "$dir/client_info.json"
}
hunt() { # DIR COUNT
  [ -d "$1" ] && return
  mkdir -p "$1.tmp"
  printf '{"hunt_id":"H.BENCH"}\n' > "$1.tmp/hunt_info.json"
  for i in $(seq "$2"); do
    if [ $((i % 5)) -eq 1 ]; then client "$1.tmp" "$i" hives; else client "$1.tmp" "$i" plain; fi
  done
  mv "$1.tmp" "$1"
}

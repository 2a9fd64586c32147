#!/bin/sh
# Makes the seed inputs of the `zip` fuzz target: a one-template
# Velociraptor collection as Info-ZIP and Python's zipfile write it
# (Debian: apt-get install -y zip python3).
#
# zip/plain.zip      deflated members, a central directory
# zip/zip64.zip      zip64 records forced (-fz), the template stored (-n)
# zip/encrypted.zip  members encrypted (-P)
# zip/streamed.zip   written to a pipe: sizes in data descriptors
# zip/cut.zip        streamed.zip cut before its central directory
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TZ=UTC
t="$work/uploads/auto/C%3A/Users/a/AppData/Local/Microsoft/MSIPC/Templates"
mkdir -p "$t" "$here/zip"
printf '<?xml version="1.0"?><XrML version="1.2"><BODY type="Microsoft Rights Template"/></XrML>' > "$t/t.xml"
printf '{"Hostname":"H"}' > "$work/client_info.json"
find "$work" -exec touch -d 2026-01-02T03:04:05Z {} +
cd "$work"
rm -f "$here"/zip/*.zip
zip -q -r "$here/zip/plain.zip" client_info.json uploads
zip -q -r -fz -n .xml "$here/zip/zip64.zip" client_info.json uploads
zip -q -r -P secret "$here/zip/encrypted.zip" client_info.json uploads
find client_info.json uploads -type f | LC_ALL=C sort | python3 -c '
import sys, zipfile
class Pipe:
    def __init__(self, f): self.f = f
    def write(self, b): return self.f.write(b)
    def flush(self): self.f.flush()
with zipfile.ZipFile(Pipe(sys.stdout.buffer), "w", zipfile.ZIP_DEFLATED) as z:
    for name in sys.stdin.read().split():
        z.write(name, name)
' > "$here/zip/streamed.zip"
size=$(stat -c %s "$here/zip/streamed.zip")
head -c $((size - 120)) "$here/zip/streamed.zip" > "$here/zip/cut.zip"

#!/bin/bash
# Makes the seed inputs of the `image` and `ntfs` fuzz targets with Debian's
# tools (root and /dev/fuse needed, as for fixtures/images/make-images.sh):
#
#   apt-get install -y ntfs-3g fdisk qemu-utils
#
# ntfs/tiny.vol    a 2 MiB NTFS volume holding one profile's MSIPC store
# image/mbr.raw    the same volume as partition 1 of an MBR disk
# image/tiny.vhd   that disk as a dynamic VHD
# image/tiny.vhdx  that disk as a dynamic VHDX
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
mkdir "$work/m"
trap 'mountpoint -q "$work/m" && umount "$work/m"; rm -rf "$work"' EXIT
truncate -s 2M "$work/tiny.vol"
mkntfs -q -F -Q -s 512 -c 512 "$work/tiny.vol" >/dev/null 2>&1
ntfs-3g "$work/tiny.vol" "$work/m"
mkdir -p "$work/m/Users/a/AppData/Local/Microsoft/MSIPC/Templates"
printf '<?xml version="1.0"?><XrML version="1.2"><BODY type="Microsoft Rights Template"/></XrML>' \
    > "$work/m/Users/a/AppData/Local/Microsoft/MSIPC/Templates/t.xml"
umount "$work/m"
cp "$work/tiny.vol" "$here/ntfs/tiny.vol"
truncate -s 3M "$work/mbr.raw"
printf 'label: dos\nstart=2048, size=4096, type=7\n' | sfdisk -q "$work/mbr.raw"
dd if="$work/tiny.vol" of="$work/mbr.raw" bs=512 seek=2048 conv=notrunc status=none
cp "$work/mbr.raw" "$here/image/mbr.raw"
qemu-img convert -f raw -O vpc -o force_size=on "$work/mbr.raw" "$here/image/tiny.vhd"
qemu-img convert -f raw -O vhdx -o block_size=1M "$work/mbr.raw" "$here/image/tiny.vhdx"

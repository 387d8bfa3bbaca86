#!/bin/sh
# squash_tree.sh: build the SquashFS benchmark image (about 50,000 files and
# 800 MB, like a Python or /usr/share tree) once, into test/bench/work/:
#   work/tree/       the unpacked tree (the "directory image" to compare with)
#   work/tree.sqfs   mksquashfs -noappend -all-root, default gzip
# The tree is the first 48,000 regular files of /usr/share (sorted), plus
# the largest files of /usr/lib until about 800 MB.  Rerunning does nothing
# when the image exists; FORCE=1 rebuilds.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$here/work
tree=$work/tree
img=$work/tree.sqfs
[ -f "$img" ] && [ "${FORCE:-0}" != 1 ] && { echo "$img"; exit 0; }
command -v mksquashfs >/dev/null || { echo "squash_tree.sh: mksquashfs missing (squashfs-tools)" >&2; exit 1; }
rm -rf "$tree" "$img"
mkdir -p "$tree"
list=$work/files.txt
{
	find /usr/share -xdev -type f -readable -printf '%s %p\n' | sort -k2 | head -n 48000
	find /usr/lib -xdev -type f -readable -size -64M -printf '%s %p\n' | sort -rn
} | awk -v cap=$((800 * 1024 * 1024)) '
	{ if (n < 48000) { print $2; t += $1; n++; next }
	  if (t < cap) { print $2; t += $1; n++ } }' > "$list"
# Copy with symlinks inside the trees preserved (tar reads the list).
tar -C / --no-recursion -cf - -T "$list" 2>/dev/null | tar -C "$tree" -xf -
mksquashfs "$tree" "$img" -noappend -all-root -quiet -no-progress >/dev/null
echo "$img: $(find "$tree" -type f | wc -l) files, $(du -sm "$tree" | cut -f1) MB unpacked, $(du -m "$img" | cut -f1) MB image" >&2
echo "$img"

#!/bin/bash
# Regenerate the seed images of fuzz_squash (test/fuzz/corpus/fuzz_squash/):
# small real images, every compressor, uncompressed tables (-noI -noD -noF
# -noX), symlinks, devices, a FIFO, a socket, hard links, xattrs (inline
# and out of line), files with fragments and without, a sparse file long
# enough for the block-list checkpoints, and a directory big enough for an
# index.  Needs root (mknod), mksquashfs and setfattr.
set -eu
out=$(cd "$(dirname "$0")" && pwd)/corpus/fuzz_squash
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

mk() { # NAME SRC [mksquashfs options]
	local name=$1 src=$2
	shift 2
	mksquashfs "$src" "$out/$name.sqfs" -quiet -no-progress -nopad -noappend "$@" >/dev/null
}

mkdir -p s/d s/e
echo hi >s/d/f
ln -s d/f s/l
ln -s /etc/passwd s/abs
setfattr -n user.a -v b s/d/f
setfattr -n user.abc -v longer-value s/d/f
setfattr -n trusted.t -v t s/d
setfattr -n security.s -v s s/e
mknod s/e/c c 1 3
mknod s/e/b b 7 0
mkfifo s/e/p
python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('s/e/sock')"
ln s/d/f s/e/h
for c in gzip xz lzo lz4 zstd; do mk small-$c s -comp "$c" -all-root; done
mk small-noall s -noI -noD -noF -noX -all-root
mk small-noxattrs s -noI -noD -noF -no-xattrs
mk small-nofrag s -no-fragments -b 4096
mk small-ids s -no-exports -force-uid 1000 -force-gid 1001

mkdir -p f
seq 1 2000 >f/text               # 8.9 KB: 2 blocks of 4 KiB + a fragment
head -c 9000 /dev/zero >f/zeros  # blocks the compressor shrinks
truncate -s 5000000 f/sparse     # 1221 hole blocks: past one checkpoint
echo tail >f/small
setfattr -n user.big -v "$(head -c 3000 /dev/zero | tr '\0' x)" f/small
mk files-gzip f -b 4096 -all-root
mk files-noall f -b 4096 -noI -noD -noF -noX -all-root
mk files-alwaysfrag f -b 4096 -always-use-fragments -all-root

mkdir -p big
for i in $(seq 1 400); do : >"big/entry-with-a-long-name-to-fill-the-listing-$i"; done
mk bigdir big -all-root
mk bigdir-noall big -noI -noD -noF -noX -all-root
ls -l "$out"

#!/usr/bin/env python3
"""Corrupt a SquashFS image in place, for the hostile-image tests.

  sqfs_poke.py name-size IMG NAME VALUE   set the u16 name-size field of the
                                          directory entry named NAME (entry
                                          offset + 6; needs -noI, so names
                                          are stored raw) to VALUE
  sqfs_poke.py set IMG OFFSET HEXBYTES    overwrite bytes at OFFSET
  sqfs_poke.py flip IMG SEED COUNT REGION flip COUNT random bytes (seeded)
                                          in REGION: inode, dir or data
  sqfs_poke.py region IMG REGION          print START END of REGION
"""
import random
import struct
import sys

INVALID = 0xFFFFFFFFFFFFFFFF


def superblock(buf):
    (magic, inodes, mtime, bsize, frags, comp, blog, flags, nids, major, minor,
     root, used, ids, xattrs, itab, dtab, ftab, ltab) = struct.unpack_from(
        "<IIIIIHHHHHHQQQQQQQQ", buf, 0)
    return dict(used=used, ids=ids, xattrs=xattrs, itab=itab, dtab=dtab,
                ftab=ftab, ltab=ltab)


def region(buf, name):
    sb = superblock(buf)
    if name == "inode":
        return sb["itab"], sb["dtab"]
    if name == "dir":
        after = [t for t in (sb["ftab"], sb["ltab"], sb["ids"], sb["xattrs"])
                 if t != INVALID and t > sb["dtab"]]
        return sb["dtab"], min(after + [sb["used"]])
    if name == "data":
        return 96, sb["itab"]
    raise SystemExit("unknown region " + name)


def main():
    cmd, img = sys.argv[1], sys.argv[2]
    with open(img, "r+b") as f:
        buf = bytearray(f.read())
        if cmd == "name-size":
            name, value = sys.argv[3].encode(), int(sys.argv[4])
            start, end = region(buf, "dir")
            # the entry whose size field (name length - 1) precedes the name
            at = buf.find(name, start, end)
            while at >= 0 and struct.unpack_from("<H", buf, at - 2)[0] != len(name) - 1:
                at = buf.find(name, at + 1, end)
            if at < 0:
                raise SystemExit("no entry " + sys.argv[3] + " in the directory table")
            struct.pack_into("<H", buf, at - 8 + 6, value)
        elif cmd == "set":
            struct.pack_into("%ds" % (len(sys.argv[4]) // 2), buf, int(sys.argv[3], 0),
                             bytes.fromhex(sys.argv[4]))
        elif cmd == "flip":
            rng = random.Random(int(sys.argv[3]))
            start, end = region(buf, sys.argv[5])
            for _ in range(int(sys.argv[4])):
                at = rng.randrange(start, end)
                buf[at] ^= rng.randrange(1, 256)
        elif cmd == "region":
            print(*region(buf, sys.argv[3]))
            return
        else:
            raise SystemExit(__doc__)
        f.seek(0)
        f.write(buf)


main()

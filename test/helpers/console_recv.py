#!/usr/bin/env python3
"""A console-socket receiver for krill-oci tests, as conmon is for podman.

console_recv.py SOCKET OUTFILE

Listens on SOCKET, accepts one connection, receives the pty master that the
runtime sends with SCM_RIGHTS, and copies everything the container writes to
its terminal into OUTFILE until the terminal closes.  The first line of
OUTFILE is the name the runtime sent with the fd (e.g. /dev/pts/0)."""
import array, os, socket, sys

path, out = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
open(path + ".ready", "w").close()
conn, _ = srv.accept()
fds = array.array("i")
msg, anc, _, _ = conn.recvmsg(1024, socket.CMSG_SPACE(fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
if not fds:
    sys.exit("console_recv: no fd received")
master = fds[0]
with open(out, "wb") as f:
    f.write(msg + b"\n")
    while True:
        try:
            b = os.read(master, 4096)
        except OSError:  # EIO: every slave is closed
            break
        if not b:
            break
        f.write(b)
        f.flush()

#!/usr/bin/env python3
"""mkoci.py KIND DIR: write a small OCI image layout for the import tests.

Layers are made by hand with tarfile, so that each whiteout, hard-link and
escape case is exactly what the test says.  KIND is one of:
  layers      3 layers: delete a file, replace a directory (opaque
              whiteout), hard link to a lower layer's file, an absolute
              symlink, a file replaced by a directory and vice versa,
              a device node, a setuid file, a mode-0000 file
  multiarch   an index of two images (linux/amd64, linux/arm64), /arch
              says which
  dotdot      one layer with ../../etc/x
  symlink     a symlink to outside, then a file written through it
  many N      one layer of N small files (for interrupting an import)
  big MIB     one layer of MIB MiB of random bytes (uncompressible)
Each image is tagged "t" (ref.name) in DIR/index.json.
"""
import gzip, hashlib, io, json, os, sys, tarfile, time

MTIME = 1700000000


def blob(layout, data):
    d = hashlib.sha256(data).hexdigest()
    p = os.path.join(layout, "blobs", "sha256")
    os.makedirs(p, exist_ok=True)
    with open(os.path.join(p, d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)


class Layer:
    def __init__(self):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)

    def _add(self, name, type_, mode=0o644, data=b"", **kw):
        ti = tarfile.TarInfo(name)
        ti.type = type_
        ti.mode = mode
        ti.mtime = MTIME
        for k, v in kw.items():
            setattr(ti, k, v)
        if type_ == tarfile.REGTYPE:
            ti.size = len(data)
            self.tar.addfile(ti, io.BytesIO(data))
        else:
            self.tar.addfile(ti)

    def dir(self, name, mode=0o755):
        self._add(name, tarfile.DIRTYPE, mode)

    def file(self, name, data, mode=0o644):
        self._add(name, tarfile.REGTYPE, mode, data if isinstance(data, bytes) else data.encode())

    def symlink(self, name, target):
        self._add(name, tarfile.SYMTYPE, 0o777, linkname=target)

    def hardlink(self, name, target):
        self._add(name, tarfile.LNKTYPE, 0o644, linkname=target)

    def chardev(self, name):
        self._add(name, tarfile.CHRTYPE, 0o666, devmajor=1, devminor=3)

    def bytes(self):
        self.tar.close()
        return self.buf.getvalue()


def image(layout, layers, config_extra=None, arch="amd64"):
    """Write layers (gzip) + config + manifest; return the manifest descriptor."""
    diff_ids, descs = [], []
    for raw in layers:
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        gz = gzip.compress(raw, mtime=0)
        d, n = blob(layout, gz)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                      "digest": d, "size": n})
    cfg = {"architecture": arch, "os": "linux",
           "config": config_extra or {},
           "rootfs": {"type": "layers", "diff_ids": diff_ids},
           "created": "2023-11-14T22:13:20Z"}
    cd, cn = blob(layout, json.dumps(cfg).encode())
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": cd, "size": cn},
           "layers": descs}
    md, mn = blob(layout, json.dumps(man).encode())
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
            "size": mn, "platform": {"architecture": arch, "os": "linux"}}


def finish(layout, desc):
    desc = dict(desc)
    desc["annotations"] = {"org.opencontainers.image.ref.name": "t"}
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [desc]}, f)


def base_layer():
    l = Layer()
    for d in ("bin", "etc", "tmp"):
        l.dir(d)
    # a shell so `krill run` works: the test copies busybox in when it has it
    bb = os.environ.get("BUSYBOX", "/bin/busybox")
    if os.path.exists(bb):
        with open(bb, "rb") as f:
            l.file("bin/busybox", f.read(), 0o755)
        for n in ("sh", "cat", "ls", "echo", "readlink", "stat", "pwd", "env", "true"):
            l.symlink("bin/" + n, "busybox")
    return l


def kind_layers(layout):
    l1 = base_layer()
    l1.file("etc/deleted", "gone in layer 2\n")
    l1.file("etc/kept", "kept\n")
    l1.dir("opq")
    l1.file("opq/lower", "hidden by the opaque whiteout\n")
    l1.dir("opq/sub")
    l1.file("opq/sub/deep", "hidden too\n")
    l1.file("data", "shared data\n")
    l1.file("was-file", "a file in layer 1\n")
    l1.dir("was-dir")
    l1.file("was-dir/inner", "a directory in layer 1\n")
    l1.dir("dev")
    l1.chardev("dev/null")
    l2 = Layer()
    l2.dir("etc")
    l2.file("etc/.wh.deleted", "")
    l2.dir("opq")
    l2.file("opq/.wh..wh..opq", "")
    l2.file("opq/upper", "from layer 2\n")
    l2.hardlink("data-link", "data")
    l2.symlink("abs-link", "/etc/kept")
    l2.symlink("rel-link", "../etc/kept")
    l2.file("was-file/.placeholder", "") if False else None
    l2.file(".wh.was-file", "")
    l2.dir("was-file")
    l2.file("was-file/now", "a directory now\n")
    l2.file(".wh.was-dir", "")
    l2.file("was-dir", "a file now\n")
    l3 = Layer()
    l3.dir("opq")
    l3.file("opq/third", "from layer 3\n")
    l3.file("suid", "setuid\n", 0o4755)
    l3.file("secret", "mode 0000\n", 0o000)
    l3.hardlink("data-link2", "data-link")
    cfg = {"Env": ["PATH=/bin", "LAYERS=three", "QUOTED=it's $HOME"],
           "Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo entry:$LAYERS; pwd"],
           "WorkingDir": "/work/dir", "User": "1000"}
    finish(layout, image(layout, [l1.bytes(), l2.bytes(), l3.bytes()], cfg))


def kind_multiarch(layout):
    descs = []
    for arch in ("amd64", "arm64"):
        l = base_layer()
        l.file("arch", arch + "\n")
        descs.append(image(layout, [l.bytes()], {"Env": ["ARCH=" + arch]}, arch))
    descs[1]["platform"]["variant"] = "v8"
    idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
           "manifests": descs}
    d, n = blob(layout, json.dumps(idx).encode())
    finish(layout, {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": d, "size": n})


def kind_dotdot(layout):
    l = Layer()
    l.dir("etc")
    l.file("../../etc/x", "escaped\n")
    finish(layout, image(layout, [l.bytes()]))


def kind_symlink(layout):
    l1 = Layer()
    l1.symlink("evil", os.environ["OUTSIDE"])
    l2 = Layer()
    l2.file("evil/x", "written through the symlink\n")
    finish(layout, image(layout, [l1.bytes(), l2.bytes()]))


def kind_many(layout, n):
    l = base_layer()
    for i in range(n // 1000 + 1):
        l.dir("many/%d" % i)
    for i in range(n):
        l.file("many/%d/f%d" % (i // 1000, i), "%d\n" % i)
    finish(layout, image(layout, [l.bytes()]))


def kind_big(layout, mib):
    l = base_layer()
    l.file("big", os.urandom(mib << 20))
    finish(layout, image(layout, [l.bytes()]))


def main():
    kind, layout = sys.argv[1], sys.argv[2]
    os.makedirs(layout, exist_ok=True)
    if kind == "layers":
        kind_layers(layout)
    elif kind == "multiarch":
        kind_multiarch(layout)
    elif kind == "dotdot":
        kind_dotdot(layout)
    elif kind == "symlink":
        kind_symlink(layout)
    elif kind == "many":
        kind_many(layout, int(sys.argv[3]))
    elif kind == "big":
        kind_big(layout, int(sys.argv[3]))
    else:
        sys.exit("mkoci.py: unknown kind " + kind)


main()

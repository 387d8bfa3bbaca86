# Shared by cdi.bats and cdi.root.bats: the synthetic CDI vendor krill.test/gpu.
#
#   gpu0, gpu1   real host character devices /dev/zero and /dev/full, seen in
#                the container as /dev/kgpu0 and /dev/kgpu1
#   spec level   env, a fake driver library (a real shared object built here,
#                with its soname link made by create-symlinks), a test program
#                linked against it, update-ldcache, and a createContainer hook
#                that writes a marker into /mnt
# The spec is written as YAML ($VENDOR/yaml/gpu.yaml) and as JSON
# ($VENDOR/json/gpu.json) with the same content.

MPI_SQFS=$IMAGES/debian-mpi.sqfs

make_vendor() { # DIR
	VENDOR=$1
	mkdir -p "$VENDOR/lib" "$VENDOR/bin" "$VENDOR/yaml" "$VENDOR/json" "$VENDOR/out"
	cat > "$VENDOR/kgpu.c" <<-'C'
	int kgpu_answer(void) { return 42; }
	C
	cat > "$VENDOR/kgpu-test.c" <<-'C'
	#include <stdio.h>
	int kgpu_answer(void);
	int main(void) { printf("kgpu answer %d\n", kgpu_answer()); return 0; }
	C
	cc -shared -fPIC -Wl,-soname,libkgpu.so.1 -o "$VENDOR/lib/libkgpu.so.1.2.3" "$VENDOR/kgpu.c"
	ln -s libkgpu.so.1.2.3 "$VENDOR/lib/libkgpu.so"
	cc -o "$VENDOR/bin/kgpu-test" "$VENDOR/kgpu-test.c" -L"$VENDOR/lib" -lkgpu
	rm "$VENDOR/lib/libkgpu.so"
	cat > "$VENDOR/yaml/gpu.yaml" <<-EOF
	cdiVersion: 0.6.0
	kind: krill.test/gpu
	devices:
	  - name: gpu0
	    containerEdits:
	      deviceNodes:
	        - {path: /dev/kgpu0, hostPath: /dev/zero, type: c, major: 1, minor: 5}
	      env: [KGPU0=yes]
	  - name: gpu1
	    containerEdits:
	      deviceNodes:
	        - {path: /dev/kgpu1, hostPath: /dev/full, type: c, major: 1, minor: 7}
	      env: [KGPU1=yes]
	containerEdits:
	  env: [KGPU_DRIVER=1.2.3, KRILL_IMAGE=from-cdi]
	  mounts:
	    - hostPath: $VENDOR/lib/libkgpu.so.1.2.3
	      containerPath: /usr/lib/kgpu/libkgpu.so.1.2.3
	      options: [ro, nosuid, nodev, bind]
	    - hostPath: $VENDOR/bin/kgpu-test
	      containerPath: /usr/local/bin/kgpu-test
	      options: [ro, bind]
	  hooks:
	    - hookName: createContainer
	      path: /usr/bin/nvidia-cdi-hook
	      args: [nvidia-cdi-hook, create-symlinks, --link, "libkgpu.so.1.2.3::/usr/lib/kgpu/libkgpu.so.1"]
	    - hookName: createContainer
	      path: /usr/bin/nvidia-cdi-hook
	      args: [nvidia-cdi-hook, update-ldcache, --folder, /usr/lib/kgpu]
	    - hookName: createContainer
	      path: /bin/sh
	      args: [sh, -c, "echo created > /mnt/kgpu-marker"]
	EOF
	cat > "$VENDOR/json/gpu.json" <<-EOF
	{
	  "cdiVersion": "0.6.0",
	  "kind": "krill.test/gpu",
	  "devices": [
	    {"name": "gpu0", "containerEdits": {
	      "deviceNodes": [{"path": "/dev/kgpu0", "hostPath": "/dev/zero", "type": "c", "major": 1, "minor": 5}],
	      "env": ["KGPU0=yes"]}},
	    {"name": "gpu1", "containerEdits": {
	      "deviceNodes": [{"path": "/dev/kgpu1", "hostPath": "/dev/full", "type": "c", "major": 1, "minor": 7}],
	      "env": ["KGPU1=yes"]}}
	  ],
	  "containerEdits": {
	    "env": ["KGPU_DRIVER=1.2.3", "KRILL_IMAGE=from-cdi"],
	    "mounts": [
	      {"hostPath": "$VENDOR/lib/libkgpu.so.1.2.3", "containerPath": "/usr/lib/kgpu/libkgpu.so.1.2.3",
	       "options": ["ro", "nosuid", "nodev", "bind"]},
	      {"hostPath": "$VENDOR/bin/kgpu-test", "containerPath": "/usr/local/bin/kgpu-test",
	       "options": ["ro", "bind"]}
	    ],
	    "hooks": [
	      {"hookName": "createContainer", "path": "/usr/bin/nvidia-cdi-hook",
	       "args": ["nvidia-cdi-hook", "create-symlinks", "--link", "libkgpu.so.1.2.3::/usr/lib/kgpu/libkgpu.so.1"]},
	      {"hookName": "createContainer", "path": "/usr/bin/nvidia-cdi-hook",
	       "args": ["nvidia-cdi-hook", "update-ldcache", "--folder", "/usr/lib/kgpu"]},
	      {"hookName": "createContainer", "path": "/bin/sh",
	       "args": ["sh", "-c", "echo created > /mnt/kgpu-marker"]}
	    ]
	  }
	}
	EOF
}

# What a container shows of the devices: nodes (type, major:minor), the
# CDI env, the hook's marker.  busybox stat prints major/minor in hex.
SHOW_DEVICES='for d in /dev/kgpu*; do [ -e "$d" ] && stat -c "%n %F %t:%T" "$d"; done
env | grep -E "^(KGPU|KRILL_IMAGE)" | sort; cat /mnt/kgpu-marker'

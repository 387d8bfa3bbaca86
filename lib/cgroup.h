/* cgroup.h: one cgroup per container, on cgroup v1, v2 or a hybrid of both.
 *
 * The interface hides the backend.  A `struct cgroup` is a set of
 * directories, one per hierarchy that matters (on a hybrid host: the v1
 * memory, cpu, cpuacct, pids and freezer hierarchies plus the v2 unified
 * one; on a pure v2 host: one directory), all at the same path relative to
 * their hierarchy's root.  Each operation fans out over the directories and
 * lets the v1 (cgroup_v1.c) or v2 (cgroup_v2.c) backend do the file work.
 *
 * Order of use for `krill run` (see doc/cgroup.md):
 *     cgroup_create()        before fork, so limit errors come first
 *     cgroup_guard_start()   before any unshare() in the calling process
 *     fork; cgroup_enter(cg, child) while the child waits on a sync pipe
 *     ... wait for the container ...
 *     cgroup_oom_kills()     to report "killed by the OOM killer"
 *     cgroup_destroy(); cgroup_free()
 * OCI: cgroup_create_path() at create, cgroup_open_existing() in later
 * commands (pause/resume/kill --all), then cgroup_freeze()/cgroup_kill_all(). */
#ifndef KRILL_CGROUP_H
#define KRILL_CGROUP_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Pure parsers for the command line.  Both return 0 or -1 (no errno).
 * parse_size: "123", "64k", "32M", "2g" (1024-based, case-insensitive,
 * optional trailing "b"/"B" as in "32mb"); 0 and overflow are rejected.
 * parse_cpus: "2" -> 2000, "0.5" -> 500, "1.25" -> 1250; at most three
 * decimals; zero, negative and garbage are rejected. */
int parse_size(const char *s, uint64_t *bytes);
int parse_cpus(const char *s, uint64_t *milli);

enum cgroup_layout { CGROUP_NONE, CGROUP_V1, CGROUP_V2, CGROUP_HYBRID };

/* Controllers krill knows about (bits). */
enum {
	CG_MEMORY = 1u << 0,
	CG_CPU = 1u << 1,
	CG_CPUACCT = 1u << 2,
	CG_PIDS = 1u << 3,
	CG_FREEZER = 1u << 4,
	/* The controllers only OCI's linux.resources use (cgroup_oci.c). */
	CG_CPUSET = 1u << 5,
	CG_DEVICES = 1u << 6,
	CG_BLKIO = 1u << 7, /* v2: io */
	CG_HUGETLB = 1u << 8,
	CG_NET_CLS = 1u << 9,
	CG_NET_PRIO = 1u << 10,
};
#define CG_OCI_EXTRA (CG_CPUSET | CG_DEVICES | CG_BLKIO | CG_HUGETLB | CG_NET_CLS | CG_NET_PRIO)

#define CGROUP_MAX_HIER 16

struct cgroup_hier {
	char *mount;	  /* mount point, e.g. /sys/fs/cgroup/memory */
	char *mount_root; /* the hierarchy path shown at the mount point ("/") */
	char *self;	  /* the caller's cgroup in this hierarchy (/proc/self/cgroup) */
	unsigned ctl; /* v1: controllers of this hierarchy; v2: of the root's cgroup.controllers */
	bool v2;
};

struct cgroup_info {
	enum cgroup_layout layout;
	struct cgroup_hier h[CGROUP_MAX_HIER];
	size_t nh;
	int v2;		    /* index into h of the v2 hierarchy, -1 if none */
	bool root;	    /* euid 0: create relative to the hierarchy roots */
	bool self_writable; /* the caller may create children in its own v2 cgroup */
	unsigned self_ctl;  /* v2 controllers available in the caller's own cgroup */
};

/* Read /proc/self/mountinfo and /proc/self/cgroup.  Never fails for lack
 * of cgroups (layout is then CGROUP_NONE); fails only on unreadable /proc. */
int cgroup_detect(struct cgroup_info *info, struct kerr *e);
void cgroup_info_free(struct cgroup_info *info);
const char *cgroup_layout_name(enum cgroup_layout l);

/* For `krill check`: one line saying what the caller can do with cgroups,
 * and a hint when limits are unusable.  Returns true when --memory,
 * --cpus and --pids-limit can all work.  Strings are malloc'd; *hint may be
 * NULL. */
bool cgroup_describe(const struct cgroup_info *info, char **desc, char **hint);

struct cgroup_limits {
	uint64_t memory;     /* bytes; 0 = no limit */
	uint64_t cpus_milli; /* thousandths of a CPU; 0 = no limit */
	uint64_t pids;	     /* 0 = no limit */
	bool oci_names;	     /* name limits as linux.resources.* in errors, not --memory */
	/* OCI: also make a directory in every v1 hierarchy of these
	 * controllers (as runc does, so the container's view of each is its
	 * own), and on a pure v2 host enable them for the new cgroup. */
	unsigned extra;
	bool all_v1; /* a directory in every v1 hierarchy krill knows (OCI, as runc) */
};

struct cgroup;

/* Create the container's cgroup PARENT/NAME (PARENT default "krill").
 * As root, PARENT is relative to each hierarchy's root; otherwise it is
 * relative to the caller's own writable v2 cgroup.  Sets the limits.  On
 * failure nothing is left behind. */
int cgroup_create(const char *parent, const char *name, const struct cgroup_limits *lim,
		  struct cgroup **out, struct kerr *e);

/* Same, for an OCI cgroupsPath: absolute ("/a/b") = relative to the
 * hierarchy roots; relative ("a/b") = the same as root, and relative to the
 * caller's own delegated v2 cgroup otherwise.
 * Missing intermediate directories are created (and left at destroy). */
int cgroup_create_path(const char *path, const struct cgroup_limits *lim, struct cgroup **out,
		       struct kerr *e);

/* Both of the above with an explicit detection result; tests use it to
 * force a backend by editing the info. */
int cgroup_create_in(const struct cgroup_info *info, const char *path, bool remove_parent,
		     const struct cgroup_limits *lim, struct cgroup **out, struct kerr *e);

/* Open a cgroup another krill process created (absolute path as
 * cgroup_path() returned).  It is not removed by cgroup_free(). */
int cgroup_open_existing(const char *path, struct cgroup **out, struct kerr *e);
int cgroup_open_existing_in(const struct cgroup_info *info, const char *path, struct cgroup **out,
			    struct kerr *e);

/* Also try to remove the parent directories (the shared "krill" one) at
 * cgroup_destroy(), as cgroup_create()'s handles do; for a handle that
 * cgroup_open_existing() gave (OCI delete of krill's default path). */
void cgroup_set_remove_parent(struct cgroup *cg);

/* The path relative to the hierarchy roots, e.g. "/krill/ctr1"; save it
 * for cgroup_open_existing(). */
const char *cgroup_path(const struct cgroup *cg);
/* The directory in the given hierarchy, or NULL (for tests and reports). */
const char *cgroup_dir_v2(const struct cgroup *cg);
const char *cgroup_dir_v1(const struct cgroup *cg, unsigned controller);

/* The container's directories: *n of them; dirs[i] is the absolute
 * directory, names[i] the base name of its hierarchy's mount point
 * ("memory", "cpu,cpuacct", "unified"), so a container's view can be
 * built from binds.  Pointers live as long as cg. */
size_t cgroup_dirs(const struct cgroup *cg, const char **dirs, const char **names, size_t max);

/* The cgroup of a process, relative to the hierarchy roots (as
 * cgroup_path() gives it): the v2 line of /proc/PID/cgroup, else the v1
 * line of the pids or memory controller.  NULL if none. */
char *cgroup_of_pid(pid_t pid);

/* Move pid (0 = the caller) into every hierarchy's directory. */
int cgroup_enter(struct cgroup *cg, pid_t pid, struct kerr *e);
/* The cgroup.procs file of each directory, opened for writing (at most
 * max, CGROUP_MAX_HIER always suffices): a process about to leave the
 * host's mount namespace (krill exec) opens them first, and moves itself
 * later with cgroup_enter_fds, where the host's paths no longer resolve.
 * Returns the count, or -1 with e filled (nothing left open). */
int cgroup_procs_open(const struct cgroup *cg, int *fds, size_t max, struct kerr *e);
/* Move the calling process through fds from cgroup_procs_open (closed). */
int cgroup_enter_fds(int *fds, size_t n, struct kerr *e);

/* Freeze or thaw, and wait until the kernel says it is done (5 s at most).
 * Uses v2 cgroup.freeze when present, else the v1 freezer. */
int cgroup_freeze(struct cgroup *cg, bool frozen, struct kerr *e);

/* Send sig to every process in the cgroup.  SIGKILL on v2 uses cgroup.kill
 * when present; otherwise the cgroup is frozen, signalled and thawed, so
 * that nothing forks past the signal.  Does not wait for the processes to
 * die (cgroup_destroy does). */
int cgroup_kill_all(struct cgroup *cg, int sig, struct kerr *e);

/* Number of processes in the cgroup (0 = empty), or -1. */
int cgroup_nprocs(struct cgroup *cg, struct kerr *e);

/* OOM kills so far (v2 memory.events oom_kill, v1 memory.oom_control
 * oom_kill).  -1 when the memory controller isn't there. */
int cgroup_oom_kills(struct cgroup *cg, uint64_t *count);

/* Kill what remains, wait for it to go, remove the directories (retrying
 * EBUSY briefly), tell the guard it is done.  Idempotent. */
int cgroup_destroy(struct cgroup *cg, struct kerr *e);

/* Free the handle.  A created cgroup that was not destroyed is destroyed
 * first (errors dropped); an opened one is left alone. */
void cgroup_free(struct cgroup *cg);

/* Start the guard: a small detached process (own session, cwd /, no fds
 * but a pipe and a pidfd of the caller) that removes the cgroup, killing
 * what is left in it, if the caller dies without cgroup_destroy().  Call it
 * in the host namespaces, before the caller unshares anything. */
int cgroup_guard_start(struct cgroup *cg, struct kerr *e);
/* The cgroup outlives the caller from now on (OCI create, once the
 * container exists): the guard exits without touching it. */
void cgroup_guard_release(struct cgroup *cg);
/* The guard's pid (0 = none), for tests. */
pid_t cgroup_guard_pid(const struct cgroup *cg);

#endif

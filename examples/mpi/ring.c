/* ring: a small MPI program for krill's tests and examples.
 *
 * Every rank sends a buffer to its right-hand neighbour and receives one from
 * its left-hand neighbour, several times, and checks every byte.  The default
 * message is 1 MiB, far above the vader (shared memory) BTL's 32 KiB
 * max_send_size, so vader moves it with its single-copy mechanism: CMA
 * (process_vm_readv) by default, which only works when the ranks share a user
 * namespace -- which is what `krill run --join` provides.
 *
 * What Open MPI 4.1.4 (Debian 12) does when the ranks are in different user
 * namespaces (measured with ch-run with and without --join):
 *   - default: a "cma-different-user-namespace-warning" help message, and
 *     vader falls back to single_copy=emulated (copy through the shared
 *     segment); 1 MiB messages still arrive intact.  (4 MiB messages hang
 *     forever in the emulated path: that is why the default is 1 MiB.)
 *   - with OMPI_MCA_btl_vader_single_copy_mechanism=cma forced: the job
 *     aborts with "cma-different-user-namespace-error".
 *
 * Each rank prints one line, e.g.
 *   rank 0 of 4: ring ok bytes=1048576 iters=4 userns=user:[4026531837]
 *     mntns=mnt:[4026531841] host=node1 single_copy=cma
 * (on one line).  single_copy is the value of Open MPI's control variable
 * btl_vader_single_copy_mechanism read through MPI_T after the exchange:
 * "cma" in one user namespace; vader switches it to "emulated" when it finds
 * peers in another user namespace; "none" if the user chose none; "n/a" if
 * the variable does not exist (another MPI, or vader unused).
 *
 * Usage: ring [-s BYTES] [-n ITERS] [-t SECONDS] [-q]
 *   -s  message size (default 1 MiB)     -n  iterations (default 4)
 *   -t  watchdog: give up after SECONDS (default 60; 0 = never)
 *   -q  print only on rank 0 ("ring ok: N ranks")
 * Exit status: 0 when every byte arrived intact on every rank, 1 otherwise,
 * 2 on bad usage, 3 when the watchdog fired ("rank R: timed out").
 *
 * Built on the host with mpicc (host and image are both Debian 12 with
 * Open MPI 4.1), then copied into the debian-mpi image as /opt/ring.
 */
#define _GNU_SOURCE
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int my_rank = -1, timeout_s = 60;

static void on_alarm(int sig)
{
	char msg[96];
	int n = snprintf(msg, sizeof msg, "rank %d: timed out after %d s\n", my_rank, timeout_s);

	(void)sig;
	if (write(2, msg, n) < 0)
		_exit(3);
	_exit(3);
}

static void ns_link(const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof path, "/proc/self/ns/%s", name);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		n = 0, strcpy(buf, "?");
	buf[n] = '\0';
}

/* Read an MPI_T control variable of integer or enum type as text. */
static void cvar_text(const char *want, char *out, size_t outlen)
{
	int num, i;

	snprintf(out, outlen, "n/a");
	if (MPI_T_cvar_get_num(&num) != MPI_SUCCESS)
		return;
	for (i = 0; i < num; i++) {
		char name[256], desc[16];
		int nlen = sizeof name, dlen = sizeof desc, verb, bind, scope, cnt, val;
		MPI_Datatype dt;
		MPI_T_enum et;
		MPI_T_cvar_handle h;

		if (MPI_T_cvar_get_info(i, name, &nlen, &verb, &dt, &et, desc, &dlen,
		                        &bind, &scope) != MPI_SUCCESS)
			continue;
		if (strcmp(name, want) != 0 || dt != MPI_INT)
			continue;
		if (MPI_T_cvar_handle_alloc(i, NULL, &h, &cnt) != MPI_SUCCESS)
			return;
		if (MPI_T_cvar_read(h, &val) == MPI_SUCCESS) {
			snprintf(out, outlen, "%d", val);
			if (et != MPI_T_ENUM_NULL) {
				int items, j;
				char ename[64];
				int elen = sizeof ename;

				MPI_T_enum_get_info(et, &items, ename, &elen);
				for (j = 0; j < items; j++) {
					char iname[64];
					int ilen = sizeof iname, v;

					if (MPI_T_enum_get_item(et, j, &v, iname, &ilen) == MPI_SUCCESS
					    && v == val) {
						snprintf(out, outlen, "%s", iname);
						break;
					}
				}
			}
		}
		MPI_T_cvar_handle_free(&h);
		return;
	}
}

int main(int argc, char **argv)
{
	long bytes = 1L << 20;
	int iters = 4, quiet = 0, provided, rank, size, c, it, bad = 0, allbad = 0;
	char userns[64], mntns[64], host[MPI_MAX_PROCESSOR_NAME], sc[64];
	int hlen;
	unsigned char *sbuf, *rbuf;

	while ((c = getopt(argc, argv, "s:n:t:q")) != -1) {
		switch (c) {
		case 's': bytes = strtol(optarg, NULL, 0); break;
		case 'n': iters = atoi(optarg); break;
		case 't': timeout_s = atoi(optarg); break;
		case 'q': quiet = 1; break;
		default:
			fprintf(stderr, "usage: ring [-s BYTES] [-n ITERS] [-t SECONDS] [-q]\n");
			return 2;
		}
	}
	if (bytes < 1 || bytes > (1L << 30) || iters < 1 || timeout_s < 0) {
		fprintf(stderr, "ring: -s must be 1..1GiB, -n positive, -t not negative\n");
		return 2;
	}

	signal(SIGALRM, on_alarm);
	alarm(timeout_s);
	MPI_Init(&argc, &argv);
	/* MPI_T after MPI_Init: initializing it first crashes Open MPI 4.1's
	 * vader at finalize. */
	MPI_T_init_thread(MPI_THREAD_SINGLE, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	my_rank = rank;
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	MPI_Get_processor_name(host, &hlen);
	ns_link("user", userns, sizeof userns);
	ns_link("mnt", mntns, sizeof mntns);

	sbuf = malloc(bytes);
	rbuf = malloc(bytes);
	if (!sbuf || !rbuf) {
		fprintf(stderr, "rank %d: out of memory for %ld bytes\n", rank, bytes);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}

	int right = (rank + 1) % size, left = (rank + size - 1) % size;
	for (it = 0; it < iters; it++) {
		long i;

		for (i = 0; i < bytes; i++)
			sbuf[i] = (unsigned char)(rank * 31 + it * 7 + i);
		memset(rbuf, 0, bytes);
		MPI_Sendrecv(sbuf, (int)bytes, MPI_BYTE, right, it,
		             rbuf, (int)bytes, MPI_BYTE, left, it,
		             MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		for (i = 0; i < bytes; i++) {
			if (rbuf[i] != (unsigned char)(left * 31 + it * 7 + i)) {
				fprintf(stderr, "rank %d: byte %ld from rank %d is wrong "
				        "(iteration %d)\n", rank, i, left, it);
				bad = 1;
				break;
			}
		}
	}
	/* A small token around the ring, so every rank saw every other. */
	int token = rank == 0 ? 1 : 0;
	if (size > 1) {
		if (rank == 0) {
			MPI_Send(&token, 1, MPI_INT, right, 99, MPI_COMM_WORLD);
			MPI_Recv(&token, 1, MPI_INT, left, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		} else {
			MPI_Recv(&token, 1, MPI_INT, left, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			token++;
			MPI_Send(&token, 1, MPI_INT, right, 99, MPI_COMM_WORLD);
		}
		if (rank == 0 && token != size) {
			fprintf(stderr, "rank 0: token came back as %d, expected %d\n", token, size);
			bad = 1;
		}
	}
	cvar_text("btl_vader_single_copy_mechanism", sc, sizeof sc);
	MPI_Allreduce(&bad, &allbad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);

	if (!quiet)
		printf("rank %d of %d: ring %s bytes=%ld iters=%d userns=%s mntns=%s "
		       "host=%s single_copy=%s\n", rank, size, bad ? "FAILED" : "ok",
		       bytes, iters, userns, mntns, host, sc);
	else if (rank == 0)
		printf("ring %s: %d ranks\n", allbad ? "FAILED" : "ok", size);
	fflush(stdout);

	free(sbuf);
	free(rbuf);
	MPI_T_finalize();
	MPI_Finalize();
	return allbad ? 1 : 0;
}

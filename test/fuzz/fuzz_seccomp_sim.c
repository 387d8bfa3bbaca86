/* fuzz_seccomp_sim.c: libFuzzer harness for lib/seccomp_sim.c: arbitrary
 * bytes as a classic BPF program, run for a few system calls and
 * architectures.  The simulator must stop on every input (jumps only go
 * forward), never read outside the program or seccomp_data, and report a
 * return only from a RET instruction. */
#include "seccomp_sim.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = size / sizeof(struct sock_filter);
	if (n > BPF_MAXINSNS)
		n = BPF_MAXINSNS;
	struct sock_filter *prog = malloc((n ? n : 1) * sizeof *prog);
	memcpy(prog, data, n * sizeof *prog);
	static const uint32_t arches[] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, 0};
	static const int nrs[] = {0, 1, 59, 231, 0x40000000, -1};
	for (size_t a = 0; a < sizeof arches / sizeof arches[0]; a++)
		for (size_t i = 0; i < sizeof nrs / sizeof nrs[0]; i++) {
			uint32_t ret = 0xdeadbeef;
			bool ok = seccomp_sim_run(prog, (unsigned)n, arches[a], nrs[i], &ret);
			if (!ok && ret != 0xdeadbeef)
				abort();
		}
	free(prog);
	return 0;
}

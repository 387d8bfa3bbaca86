/* seccomp_sim.h: what a seccomp BPF program decides for one system call,
 * computed in user space.
 *
 * krill loads the container's filter as its very last step, then calls
 * execve, and on failure write (the error) and exit_group.  A profile that
 * denies one of those (`{"defaultAction": "SCMP_ACT_ERRNO"}`) left krill
 * unable to start the command, to say why, or even to exit: glibc's _exit
 * then executes hlt, and krill died of SIGSEGV.  Running the program on the
 * host first lets krill refuse such a profile with a clear error before any
 * setup.  Pure: no I/O. */
#ifndef KRILL_SECCOMP_SIM_H
#define KRILL_SECCOMP_SIM_H

#include <stdbool.h>
#include <stdint.h>

struct sock_filter;

/* Run the classic BPF program insns[0..len) over a struct seccomp_data of
 * syscall nr on audit architecture arch, with instruction pointer and
 * arguments 0.  Sets *ret to the SECCOMP_RET_* value the program returns.
 * Returns false if the program is not one the kernel would run (an unknown
 * opcode, a jump or load out of range, no return). */
bool seccomp_sim_run(const struct sock_filter *insns, unsigned len, uint32_t arch, int nr,
                     uint32_t *ret);

#endif

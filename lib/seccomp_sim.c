/* seccomp_sim.c: see seccomp_sim.h.  The instruction set is the one the
 * kernel accepts for seccomp (kernel/seccomp.c, seccomp_check_filter):
 * loads of seccomp_data words, immediates and scratch memory, ALU, jumps
 * and returns. */
#include "seccomp_sim.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>

bool seccomp_sim_run(const struct sock_filter *insns, unsigned len, uint32_t arch, int nr,
                     uint32_t *ret)
{
	struct seccomp_data data;
	memset(&data, 0, sizeof data);
	data.nr = nr;
	data.arch = arch;
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = {0};
	for (unsigned pc = 0; pc < len; pc++) {
		const struct sock_filter *f = &insns[pc];
		uint32_t k = f->k, src = BPF_SRC(f->code) == BPF_X ? X : k;
		switch (BPF_CLASS(f->code)) {
		case BPF_LD:
		case BPF_LDX: {
			uint32_t v;
			switch (BPF_MODE(f->code)) {
			case BPF_ABS:
				if (BPF_CLASS(f->code) != BPF_LD || BPF_SIZE(f->code) != BPF_W ||
				    k % 4 || k > sizeof data - 4)
					return false;
				memcpy(&v, (const char *)&data + k, 4);
				break;
			case BPF_IMM: v = k; break;
			case BPF_LEN: v = sizeof data; break;
			case BPF_MEM:
				if (k >= BPF_MEMWORDS)
					return false;
				v = M[k];
				break;
			default: return false;
			}
			if (BPF_CLASS(f->code) == BPF_LD)
				A = v;
			else
				X = v;
			break;
		}
		case BPF_ST:
		case BPF_STX:
			if (k >= BPF_MEMWORDS)
				return false;
			M[k] = BPF_CLASS(f->code) == BPF_ST ? A : X;
			break;
		case BPF_ALU:
			switch (BPF_OP(f->code)) {
			case BPF_ADD: A += src; break;
			case BPF_SUB: A -= src; break;
			case BPF_MUL: A *= src; break;
			case BPF_DIV:
				if (!src)
					return false;
				A /= src;
				break;
			case BPF_MOD:
				if (!src)
					return false;
				A %= src;
				break;
			case BPF_OR: A |= src; break;
			case BPF_AND: A &= src; break;
			case BPF_XOR: A ^= src; break;
			case BPF_LSH: A = src < 32 ? A << src : 0; break;
			case BPF_RSH: A = src < 32 ? A >> src : 0; break;
			case BPF_NEG: A = -A; break;
			default: return false;
			}
			break;
		case BPF_JMP: {
			unsigned off;
			if (BPF_OP(f->code) == BPF_JA) {
				off = k;
			} else {
				bool t;
				switch (BPF_OP(f->code)) {
				case BPF_JEQ: t = A == src; break;
				case BPF_JGT: t = A > src; break;
				case BPF_JGE: t = A >= src; break;
				case BPF_JSET: t = (A & src) != 0; break;
				default: return false;
				}
				off = t ? f->jt : f->jf;
			}
			if (off >= len - pc - 1)
				return false;
			pc += off;
			break;
		}
		case BPF_RET:
			if (BPF_RVAL(f->code) == BPF_K)
				*ret = k;
			else if (BPF_RVAL(f->code) == BPF_A)
				*ret = A;
			else
				return false;
			return true;
		case BPF_MISC:
			if (BPF_MISCOP(f->code) == BPF_TAX)
				X = A;
			else
				A = X;
			break;
		default:
			return false;
		}
	}
	return false;
}

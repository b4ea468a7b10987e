/*
 * cmd_words.h - SMMUv3 command words for the tests, built from the bit
 * positions of Arm IHI 0070 chapter 4 with plain shifts, never from
 * cmdq.c's masks (header only; shared by test_cmdq.c and test_caches.c).
 */
#ifndef SMMU_CMD_WORDS_H
#define SMMU_CMD_WORDS_H

#include <stdint.h>

/* Opcodes (4.1), spelled out rather than taken from the header. */
enum {
	OP_PREFETCH_CONFIG = 0x01, OP_PREFETCH_ADDR = 0x02, OP_CFGI_STE = 0x03,
	OP_CFGI_STE_RANGE = 0x04, OP_CFGI_CD = 0x05, OP_CFGI_CD_ALL = 0x06,
	OP_CFGI_VMS_PIDM = 0x07, OP_TLBI_NH_ALL = 0x10, OP_TLBI_NH_ASID = 0x11,
	OP_TLBI_NH_VA = 0x12, OP_TLBI_NH_VAA = 0x13, OP_TLBI_EL3_ALL = 0x18,
	OP_TLBI_EL3_VA = 0x1a, OP_TLBI_EL2_ALL = 0x20, OP_TLBI_EL2_ASID = 0x21,
	OP_TLBI_EL2_VA = 0x22, OP_TLBI_EL2_VAA = 0x23, OP_TLBI_S12_VMALL = 0x28,
	OP_TLBI_S2_IPA = 0x2a, OP_TLBI_NSNH_ALL = 0x30, OP_ATC_INV = 0x40,
	OP_PRI_RESP = 0x41, OP_RESUME = 0x44, OP_STALL_TERM = 0x45, OP_SYNC = 0x46,
};

/* TLBI word 0: NUM 16:12, SCALE 24:20, VMID 47:32, ASID 63:48. */
static inline uint64_t tlbi_w0(unsigned op, unsigned num, unsigned scale, uint16_t vmid,
			       uint16_t asid)
{
	return op | ((uint64_t)num << 12) | ((uint64_t)scale << 20) | ((uint64_t)vmid << 32) |
	       ((uint64_t)asid << 48);
}

/* TLBI word 1: Leaf 64, TTL 73:72, TG 75:74, Address[63:12] (IPA[51:12]) at 127:76. */
static inline uint64_t tlbi_w1(uint64_t addr, int leaf, unsigned ttl, unsigned tg)
{
	return (addr & ~0xfffull) | (uint64_t)leaf | ((uint64_t)ttl << 8) | ((uint64_t)tg << 10);
}

/* CMD_SYNC word 0: CS 13:12, MSIData 63:32 (MSIAddr[51:2] is word 1 bits 51:2). */
static inline uint64_t sync_w0(unsigned cs, uint32_t data)
{
	return OP_SYNC | ((uint64_t)cs << 12) | ((uint64_t)data << 32);
}

#endif

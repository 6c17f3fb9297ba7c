/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_input.h - reading a fuzz input as a stream of little-endian numbers,
 * for both fuzz targets. Past the end every number reads as 0, so any input
 * decodes.
 */
#ifndef FWPM_TESTS_FUZZ_INPUT_H
#define FWPM_TESTS_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct fuzz_input {
    const uint8_t *p;
    size_t n; /* bytes left */
};

static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_input *in)
{
    uint16_t lo = fuzz_u8(in);
    return (uint16_t)(lo | (uint16_t)fuzz_u8(in) << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_input *in)
{
    uint32_t lo = fuzz_u16(in);
    return lo | (uint32_t)fuzz_u16(in) << 16;
}

static inline uint64_t fuzz_u64(struct fuzz_input *in)
{
    uint64_t lo = fuzz_u32(in);
    return lo | (uint64_t)fuzz_u32(in) << 32;
}

#endif /* FWPM_TESTS_FUZZ_INPUT_H */

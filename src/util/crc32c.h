/* SPDX-License-Identifier: MIT */
/* crc32c (Castagnoli), hardware-accelerated through ISA-L. */
#ifndef RAWIO_UTIL_CRC32C_H
#define RAWIO_UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * crc32c of LEN bytes continuing from CRC (0 to start): chaining gives the
 * crc of the concatenation. crc32c("123456789") = 0xe3069283.
 */
uint32_t rawio_crc32c(uint32_t crc, const void *buf, size_t len);

#endif

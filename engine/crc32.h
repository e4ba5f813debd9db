// CRC-32 (the IEEE 802.3 / zlib / PNG polynomial, reflected 0xEDB88320) for the tensor files' checksums.
// Slicing by eight (eight lookup tables, eight bytes per step) so that checksumming a ~90 MB ResNet-18
// checkpoint costs a few tens of milliseconds, not the few hundred of the byte-at-a-time loop.
#pragma once
#include <cstddef>
#include <cstdint>

namespace bts {

// Continues a CRC over `n` more bytes: crc32_update(crc32_update(0, a), b) == CRC of a followed by b.
uint32_t crc32_update(uint32_t crc, const void* data, size_t n);

}  // namespace bts

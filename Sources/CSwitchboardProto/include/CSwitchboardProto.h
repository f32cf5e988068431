// The protoc-c output for Protos/ and the helpers SwitchboardProto's bridges use.
#ifndef CSWITCHBOARDPROTO_H
#define CSWITCHBOARDPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "CSwitchboardProto_generated.h"

/// Lays out a bump allocator at the start of `buffer` and returns it. Allocations are served from
/// the rest of `buffer` and, once it is full, from malloc; freeing a pointer inside `buffer` does
/// nothing, so `protobuf_c_message_free_unpacked` with this allocator releases only what overflowed.
/// `buffer` must be 16-byte aligned and at least 256 bytes long, and outlive every allocation.
ProtobufCAllocator *sb_bump_allocator_create(void *buffer, size_t size);

/// Scans the protobuf encoding `data` of a message described by `descriptor` for a string field
/// (at any depth) whose bytes contain a NUL, which protobuf-c's `char *` strings would truncate.
/// Returns 1 and writes the field's dotted path (e.g. `metadata.key`) to `path` when one exists,
/// 0 otherwise. `data` must be an encoding that protobuf-c accepted.
int sb_find_string_with_nul(const ProtobufCMessageDescriptor *descriptor,
                            const uint8_t *data, size_t length,
                            char *path, size_t path_capacity);

#endif

#include "CSwitchboardProto.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    ProtobufCAllocator allocator;
    uint8_t *start;
    uint8_t *cursor;
    uint8_t *end;
} SBBumpAllocator;

static void *sb_bump_alloc(void *data, size_t size) {
    SBBumpAllocator *bump = data;
    uintptr_t aligned = ((uintptr_t)bump->cursor + 15u) & ~(uintptr_t)15u;
    if (size <= (size_t)(bump->end - bump->start) && aligned <= (uintptr_t)bump->end - size) {
        bump->cursor = (uint8_t *)aligned + size;
        return (void *)aligned;
    }
    return malloc(size);
}

static void sb_bump_free(void *data, void *pointer) {
    SBBumpAllocator *bump = data;
    uint8_t *p = pointer;
    if (p >= bump->start && p < bump->end) {
        return;
    }
    free(pointer);
}

ProtobufCAllocator *sb_bump_allocator_create(void *buffer, size_t size) {
    SBBumpAllocator *bump = buffer;
    size_t header = (sizeof(SBBumpAllocator) + 15u) & ~(size_t)15u;
    bump->allocator.alloc = sb_bump_alloc;
    bump->allocator.free = sb_bump_free;
    bump->allocator.allocator_data = bump;
    bump->start = (uint8_t *)buffer + header;
    bump->cursor = bump->start;
    bump->end = (uint8_t *)buffer + (size > header ? size : header);
    return &bump->allocator;
}

/* Reads a varint; returns the number of bytes used, 0 when malformed or truncated. */
static size_t sb_read_varint(const uint8_t *data, size_t length, uint64_t *value) {
    uint64_t result = 0;
    for (size_t i = 0; i < length && i < 10; i++) {
        result |= (uint64_t)(data[i] & 0x7f) << (7 * i);
        if ((data[i] & 0x80) == 0) {
            *value = result;
            return i + 1;
        }
    }
    return 0;
}

static int sb_prepend_path(char *path, size_t capacity, const char *name) {
    size_t name_length = strlen(name);
    size_t current = strnlen(path, capacity);
    size_t separator = current > 0 ? 1 : 0;
    if (name_length + separator + current + 1 > capacity) {
        return 1; /* keep the innermost part only */
    }
    memmove(path + name_length + separator, path, current + 1);
    memcpy(path, name, name_length);
    if (separator) {
        path[name_length] = '.';
    }
    return 1;
}

static int sb_scan(const ProtobufCMessageDescriptor *descriptor, const uint8_t *data, size_t length,
                   char *path, size_t capacity, int depth) {
    if (depth > 64) {
        return 0;
    }
    size_t offset = 0;
    while (offset < length) {
        uint64_t tag;
        size_t used = sb_read_varint(data + offset, length - offset, &tag);
        if (used == 0) {
            return 0;
        }
        offset += used;
        uint32_t number = (uint32_t)(tag >> 3);
        switch (tag & 7) {
        case 0: {
            uint64_t ignored;
            used = sb_read_varint(data + offset, length - offset, &ignored);
            if (used == 0) {
                return 0;
            }
            offset += used;
            break;
        }
        case 1:
            if (length - offset < 8) return 0;
            offset += 8;
            break;
        case 5:
            if (length - offset < 4) return 0;
            offset += 4;
            break;
        case 2: {
            uint64_t size;
            used = sb_read_varint(data + offset, length - offset, &size);
            if (used == 0 || size > length - offset - used) {
                return 0;
            }
            offset += used;
            const ProtobufCFieldDescriptor *field =
                protobuf_c_message_descriptor_get_field(descriptor, (unsigned)number);
            if (field != NULL && field->type == PROTOBUF_C_TYPE_STRING) {
                if (memchr(data + offset, 0, (size_t)size) != NULL) {
                    if (capacity > 0) {
                        path[0] = 0;
                        sb_prepend_path(path, capacity, field->name);
                    }
                    return 1;
                }
            } else if (field != NULL && field->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (sb_scan(field->descriptor, data + offset, (size_t)size, path, capacity, depth + 1)) {
                    if (capacity > 0) {
                        sb_prepend_path(path, capacity, field->name);
                    }
                    return 1;
                }
            }
            offset += (size_t)size;
            break;
        }
        default:
            return 0; /* groups are not used by proto3 */
        }
    }
    return 0;
}

int sb_find_string_with_nul(const ProtobufCMessageDescriptor *descriptor,
                            const uint8_t *data, size_t length,
                            char *path, size_t path_capacity) {
    if (path_capacity > 0) {
        path[0] = 0;
    }
    return sb_scan(descriptor, data, length, path, path_capacity, 0);
}

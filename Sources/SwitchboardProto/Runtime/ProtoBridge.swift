package import CProtobufC
internal import CSwitchboardProto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A Swift message that converts to and from the C struct protoc-c generates for it.
///
/// Generated code conforms; the conversions are generated per field, so they cannot drift from
/// the `.proto` files.
package protocol _ProtoBridged {
    associatedtype CMessage

    /// Runs protoc-c's `..._init` on uninitialized memory.
    static func cInit(_ c: UnsafeMutablePointer<CMessage>)

    /// Converts an unpacked C message to Swift, validating every string.
    init(c: UnsafePointer<CMessage>) throws(ProtoDecodingError)

    /// Writes the message into an initialized C struct; every pointer stored points into `arena`.
    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: inout _ProtoArena)
}

/// A top-level message, for which protoc-c generates pack and unpack functions.
package protocol _ProtoTopLevelMessage: _ProtoBridged {
    static func cPackedSize(_ c: UnsafePointer<CMessage>) -> Int
    static func cPack(_ c: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int
    static func cUnpack(
        _ allocator: UnsafeMutablePointer<ProtobufCAllocator>, _ count: Int, _ bytes: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>?
    static func cFree(_ c: UnsafeMutablePointer<CMessage>, _ allocator: UnsafeMutablePointer<ProtobufCAllocator>)
}

/// Scratch sizes: most messages encode and decode without touching malloc. At most 1 KiB each:
/// `withUnsafeTemporaryAllocation` takes larger buffers from the heap (on Linux it cannot tell
/// whether a thread's stack has room), which cost a malloc and a free per message; what does
/// not fit here overflows to malloc piece by piece.
private let decodeScratchBytes = 1024
private let encodeScratchBytes = 1024

/// Conversions shared by the generated bridges.
package enum _ProtoC {
    package static func decode<M: _ProtoTopLevelMessage>(
        _: M.Type, _ bytes: UnsafeRawBufferPointer
    ) throws(ProtoDecodingError) -> M {
        // protobuf-c reads nothing for an empty input, but wants a valid pointer.
        var empty: UInt8 = 0
        var decoded: M?
        var failure: ProtoDecodingError?
        withUnsafeMutablePointer(to: &empty) { emptyPointer in
            let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(emptyPointer)
            // Unpacking allocates from a stack buffer (a bump allocator) instead of malloc.
            withUnsafeTemporaryAllocation(byteCount: decodeScratchBytes, alignment: 16) { scratch in
                let allocator = sb_bump_allocator_create(scratch.baseAddress, scratch.count)!
                guard let c = M.cUnpack(allocator, bytes.count, base) else {
                    failure = ProtoDecodingError(field: nil, reason: "is not a valid protobuf encoding of \(M.self)")
                    return
                }
                defer { M.cFree(c, allocator) }
                do throws(ProtoDecodingError) {
                    // protobuf-c cuts a string at its first NUL. A re-encoding shorter than the
                    // input means something was dropped; the scan names the field (other causes,
                    // such as a non-canonical encoding, pass).
                    if M.cPackedSize(c) != bytes.count {
                        try rejectEmbeddedNul(c, base, bytes.count)
                    }
                    decoded = try M(c: c)
                } catch {
                    failure = error
                }
            }
        }
        if let failure { throw failure }
        return decoded!
    }

    private static func rejectEmbeddedNul<C>(
        _ c: UnsafeMutablePointer<C>, _ base: UnsafePointer<UInt8>, _ count: Int
    ) throws(ProtoDecodingError) {
        let descriptor = UnsafeRawPointer(c).assumingMemoryBound(to: ProtobufCMessage.self).pointee.descriptor
        var path = [CChar](repeating: 0, count: 256)
        if sb_find_string_with_nul(descriptor, base, count, &path, path.count) != 0 {
            let name = path.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw ProtoDecodingError(field: name, reason: "holds a NUL byte")
        }
    }

    package static func encode<M: _ProtoTopLevelMessage>(
        _ message: M, _ body: (Int, (UnsafeMutableRawPointer) -> Void) -> Void
    ) throws(ProtoEncodingError) {
        var failure: ProtoEncodingError?
        withUnsafeTemporaryAllocation(byteCount: encodeScratchBytes, alignment: 16) { scratch in
            var arena = _ProtoArena(scratch)
            let c = arena.allocate(M.CMessage.self)
            M.cInit(c)
            message.fill(c, arena: &arena)
            if let field = arena.fieldWithNul {
                failure = ProtoEncodingError(field: field)
                return
            }
            let size = M.cPackedSize(c)
            body(size) { out in
                let written = M.cPack(c, out.assumingMemoryBound(to: UInt8.self))
                precondition(written == size, "protobuf-c packed \(written) bytes, announced \(size)")
            }
        }
        if let failure { throw failure }
    }

    @inline(__always)
    package static func string(_ pointer: UnsafeMutablePointer<CChar>?, _ field: StaticString) throws(ProtoDecodingError) -> String {
        guard let pointer, pointer.pointee != 0 else { return "" }
        guard let value = String(validatingCString: pointer) else {
            throw ProtoDecodingError(field: "\(field)", reason: "holds invalid UTF-8")
        }
        return value
    }

    @inline(__always)
    package static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let pointer = data.data else { return [] }
        return [UInt8](UnsafeBufferPointer(start: pointer, count: data.len))
    }

    @inline(__always)
    package static func array<T>(_ pointer: UnsafeMutablePointer<T>?, _ count: Int) -> [T] {
        guard count > 0, let pointer else { return [] }
        return [T](UnsafeBufferPointer(start: pointer, count: count))
    }

    @inline(__always)
    package static func message<M: _ProtoBridged>(
        _: M.Type, _ pointer: UnsafeMutablePointer<M.CMessage>, _ field: StaticString
    ) throws(ProtoDecodingError) -> M {
        do {
            return try M(c: pointer)
        } catch {
            throw error.nested(under: "\(field)")
        }
    }
}

/// Memory for the C structs of one encoding: a stack buffer first, malloc once it is full.
///
/// Every pointer the generated `fill` stores in a C struct points into the arena, which frees
/// what it took from malloc when it ends.
package struct _ProtoArena: ~Copyable {
    private var cursor: UnsafeMutableRawPointer
    private var end: UnsafeMutableRawPointer
    private var overflow: [UnsafeMutableRawPointer] = []
    /// The first string field met that holds a NUL byte.
    package private(set) var fieldWithNul: String?

    package init(_ buffer: UnsafeMutableRawBufferPointer) {
        // Unsafe: the arena never outlives `buffer`; `encode` scopes both to one call.
        cursor = buffer.baseAddress!
        end = buffer.baseAddress! + buffer.count
    }

    deinit {
        for block in overflow {
            free(block)
        }
    }

    package mutating func allocateBytes(_ count: Int, alignment: Int) -> UnsafeMutableRawPointer {
        let aligned = cursor.alignedUp(toMultipleOf: alignment)
        if aligned <= end && end - aligned >= count {
            cursor = aligned + count
            return aligned
        }
        let block = malloc(max(count, 1))!
        overflow.append(block)
        return block
    }

    /// Uninitialized memory for one `T` (a C struct, initialized by its `cInit`).
    package mutating func allocate<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        allocateBytes(MemoryLayout<T>.stride, alignment: max(MemoryLayout<T>.alignment, 8))
            .bindMemory(to: T.self, capacity: 1)
    }

    /// A NUL-terminated copy of `value`.
    package mutating func string(_ value: String, _ field: StaticString) -> UnsafeMutablePointer<CChar> {
        var value = value
        return value.withUTF8 { utf8 in
            let memory = allocateBytes(utf8.count + 1, alignment: 1)
            if let base = utf8.baseAddress {
                memory.copyMemory(from: base, byteCount: utf8.count)
                if fieldWithNul == nil, memchr(base, 0, utf8.count) != nil {
                    fieldWithNul = "\(field)"
                }
            }
            memory.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
            return memory.bindMemory(to: CChar.self, capacity: utf8.count + 1)
        }
    }

    /// A copy of `value` as protobuf-c binary data.
    package mutating func bytes(_ value: [UInt8]) -> ProtobufCBinaryData {
        guard !value.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let memory = allocateBytes(value.count, alignment: 1)
        value.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return ProtobufCBinaryData(len: value.count, data: memory.assumingMemoryBound(to: UInt8.self))
    }

    /// A C struct holding `message`.
    package mutating func message<M: _ProtoBridged>(_ message: M) -> UnsafeMutablePointer<M.CMessage> {
        let c = allocate(M.CMessage.self)
        M.cInit(c)
        message.fill(c, arena: &self)
        return c
    }

    /// A C array holding a copy of `values` (plain scalars).
    package mutating func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let memory = allocateBytes(MemoryLayout<T>.stride * values.count, alignment: max(MemoryLayout<T>.alignment, 8))
            .bindMemory(to: T.self, capacity: values.count)
        _ = UnsafeMutableBufferPointer(start: memory, count: values.count).initialize(from: values)
        return memory
    }

    /// A C array holding each of `values` converted by `transform`.
    package mutating func map<S, T>(_ values: [S], _ transform: (inout _ProtoArena, S) -> T) -> UnsafeMutablePointer<T> {
        let memory = allocateBytes(MemoryLayout<T>.stride * values.count, alignment: max(MemoryLayout<T>.alignment, 8))
            .bindMemory(to: T.self, capacity: values.count)
        for (index, value) in values.enumerated() {
            (memory + index).initialize(to: transform(&self, value))
        }
        return memory
    }

    /// A C array of `count` pointers to `T`.
    package mutating func pointers<T>(to _: T.Type, count: Int) -> UnsafeMutablePointer<UnsafeMutablePointer<T>?> {
        let memory = allocateBytes(MemoryLayout<UnsafeMutablePointer<T>?>.stride * count, alignment: 8)
            .bindMemory(to: UnsafeMutablePointer<T>?.self, capacity: count)
        memory.initialize(repeating: nil, count: count)
        return memory
    }
}

/// A message that can make a value with every field set (generated), for round-trip tests.
package protocol _ProtoSampled {
    static var _sample: Self { get }
    static var _fieldCount: Int { get }
}

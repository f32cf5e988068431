/// Helpers of the generated `Encodable` conformances, which write protobuf's canonical JSON
/// mapping: the same JSON Google's libraries write for the same message.
public enum _ProtoJSON {
    /// A JSON object key.
    public struct Key: CodingKey {
        public let stringValue: String
        public var intValue: Int? { nil }

        public init(_ name: String) {
            stringValue = name
        }

        public init?(stringValue: String) {
            self.stringValue = stringValue
        }

        public init?(intValue: Int) {
            nil
        }
    }

    /// An enum value: its name, or its number when this schema does not know it.
    public struct EnumValue: Encodable {
        let name: String?
        let number: Int32

        public init(name: String?, number: Int32) {
            self.name = name
            self.number = number
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            if let name { try container.encode(name) } else { try container.encode(number) }
        }
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 with padding, as protobuf's JSON writes `bytes`.
    public static func base64(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let a = UInt32(bytes[index])
            let b = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let c = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let triple = a << 16 | b << 8 | c
            out.append(alphabet[Int(triple >> 18 & 63)])
            out.append(alphabet[Int(triple >> 12 & 63)])
            out.append(index + 1 < bytes.count ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            out.append(index + 2 < bytes.count ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A generated enum, for reading protobuf's JSON (by name or by number).
public protocol _ProtoEnum {
    static var _protoNumbers: [String: Int32] { get }
    init(rawValue: Int32)
}

extension _ProtoJSON {
    /// The key present in `container` under the JSON name or the `.proto` name.
    public static func key(_ container: KeyedDecodingContainer<Key>, _ jsonName: String, _ protoName: String) -> Key? {
        for name in [jsonName, protoName] where container.contains(Key(name)) {
            if (try? container.decodeNil(forKey: Key(name))) == true { return nil }
            return Key(name)
        }
        return nil
    }

    /// An integer written as a JSON number or a string (64-bit integers are strings).
    public struct Integer<T: FixedWidthInteger & Decodable & Sendable>: Decodable {
        public let value: T

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(T.self) {
                value = number
            } else if let text = try? container.decode(String.self), let number = T(text) {
                value = number
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an integer of type \(T.self)")
            }
        }
    }

    /// Bytes written in base64.
    public struct Bytes: Decodable {
        public let value: [UInt8]

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let bytes = _ProtoJSON.decodeBase64(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected base64")
            }
            value = bytes
        }
    }

    /// An enum written by name or by number.
    public struct Enum<T: _ProtoEnum>: Decodable {
        public let value: T

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int32.self) {
                value = T(rawValue: number)
            } else if let name = try? container.decode(String.self), let number = T._protoNumbers[name] {
                value = T(rawValue: number)
            } else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected one of \(T._protoNumbers.keys.sorted().joined(separator: ", "))"
                )
            }
        }
    }

    /// Decodes standard or URL-safe base64, with or without padding.
    public static func decodeBase64(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"), UInt8(ascii: "-"): values.append(62)
            case UInt8(ascii: "/"), UInt8(ascii: "_"): values.append(63)
            case UInt8(ascii: "="): continue
            default: return nil
            }
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var index = 0
        while index < values.count {
            let chunk = values[index..<min(index + 4, values.count)]
            var accumulator: UInt32 = 0
            for value in chunk { accumulator = accumulator << 6 | UInt32(value) }
            accumulator <<= UInt32(6 * (4 - chunk.count))
            let produced = chunk.count - 1
            for shift in [16, 8, 0].prefix(produced) { out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(shift))) }
            index += 4
        }
        return out
    }
}

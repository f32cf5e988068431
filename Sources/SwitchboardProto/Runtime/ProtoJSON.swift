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

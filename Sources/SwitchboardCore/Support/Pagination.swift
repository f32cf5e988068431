/// A page request: how many items, after which key.
public struct PageRequest: Sendable, Hashable {
    /// The default page size.
    public static let defaultSize = 100
    /// The largest page size.
    public static let maximumSize = 1000

    /// Items per page.
    public var size: Int
    /// The key after which the page starts; `nil` for the first page.
    public var after: String?

    /// Creates a page request.
    public init(size: Int = PageRequest.defaultSize, after: String? = nil) {
        self.size = size
        self.after = after
    }

    /// Parses the wire fields: a size of 0 means the default; the token is opaque to callers.
    public init(size: UInt32, token: String, sizeField: String = "page_size", tokenField: String = "page_token")
        throws(SwitchboardError)
    {
        guard size <= UInt32(Self.maximumSize) else {
            throw .invalid(sizeField, "must be at most \(Self.maximumSize), got \(size)")
        }
        self.size = size == 0 ? Self.defaultSize : Int(size)
        self.after = try PageToken.decode(token, field: tokenField)
    }
}

/// A page of items and the token of the next page.
public struct Page<Item: Sendable>: Sendable {
    /// The items, in key order.
    public var items: [Item]
    /// The token of the next page; empty on the last page.
    public var nextToken: String

    /// Creates a page.
    public init(items: [Item], nextToken: String) {
        self.items = items
        self.nextToken = nextToken
    }
}

/// Opaque page tokens: the last key of a page, hex-encoded behind a version tag, so callers
/// cannot mistake them for ids and a token from elsewhere is rejected.
public enum PageToken {
    private static let prefix = "p1."

    /// The token for a page that ended at `key`.
    public static func encode(after key: String) -> String {
        prefix + key.utf8.map { byte in
            let hex = Array("0123456789abcdef".utf8)
            return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
        }.joined()
    }

    /// The key a token stands for; `nil` for the empty token.
    public static func decode(_ token: String, field: String) throws(SwitchboardError) -> String? {
        guard !token.isEmpty else { return nil }
        let invalid = SwitchboardError.invalid(field, "is not a page token from this server")
        guard token.hasPrefix(prefix) else { throw invalid }
        let hex = Array(token.utf8.dropFirst(prefix.utf8.count))
        guard hex.count % 2 == 0, !hex.isEmpty else { throw invalid }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = 0
        while index < hex.count {
            guard let high = nibble(hex[index]), let low = nibble(hex[index + 1]) else { throw invalid }
            bytes.append(high << 4 | low)
            index += 2
        }
        guard let key = String(validating: bytes, as: UTF8.self) else { throw invalid }
        return key
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

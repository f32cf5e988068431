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
    ///
    /// `defaultSize` and `maximumSize` are those of lists whose items are small (100 and 1000);
    /// a list of larger items passes smaller ones, so that a full page of items of the largest
    /// size stays well inside a frame (see ``ResponseBudget``).
    public init(
        size: UInt32, token: String, defaultSize: Int = PageRequest.defaultSize, maximumSize: Int = PageRequest.maximumSize,
        sizeField: String = "page_size", tokenField: String = "page_token"
    ) throws(SwitchboardError) {
        guard size <= UInt32(maximumSize) else {
            throw .invalid(sizeField, "must be at most \(maximumSize), got \(size)")
        }
        self.size = size == 0 ? defaultSize : Int(size)
        self.after = try PageToken.decode(token, field: tokenField)
    }

    /// The page of `items` (sorted by `key`, keys unique) that this request asks for: the items
    /// after ``after``, at most ``size`` of them, with the next page's token when more follow.
    public func page<Item: Sendable>(of items: some Sequence<Item>, key: (Item) -> String) -> Page<Item> {
        var selected: [Item] = []
        selected.reserveCapacity(size)
        var more = false
        for item in items where after.map({ key(item) > $0 }) ?? true {
            guard selected.count < size else {
                more = true
                break
            }
            selected.append(item)
        }
        let nextToken = more ? selected.last.map { PageToken.encode(after: key($0)) } ?? "" : ""
        return Page(items: selected, nextToken: nextToken)
    }
}

/// How many bytes one answer may hold, so that it always fits a frame.
///
/// Frames hold at most 4 MiB by default (`--max-frame-bytes`). Page sizes are chosen so that a
/// full page of items of the largest size the input limits allow stays under a quarter of that;
/// where an item has no such bound (an agent's group ids), the page is also cut at this budget.
public enum ResponseBudget {
    /// The most bytes of items in one answer: 1 MiB, a quarter of the default frame limit.
    ///
    /// `ListMessages` returns those of its `limit` (at most 1000) messages that fit: a message
    /// takes at most 40,231 bytes (its text 40,004, ids 66 + 131, four numbers 26, framing 4), so
    /// 1000 could be 40 MB. Agents list their groups, so their size has no bound; pages of agents
    /// are cut here too.
    public static let bytes = 1 << 20

    /// Sessions per page of `ListAgentSessions` (its default and its maximum).
    ///
    /// A session takes at most 25,917 bytes of the answer: ids 66 + 131 + 131 + 131 (session,
    /// user, agent, group: tag, length, bytes), channel 66, attributes 16,384 bytes of keys and
    /// values plus 64 x 8 bytes of framing, the rating 3 + 2 + 403 (label) + 8,003 (comment) + 11,
    /// two enums 4, six integers 66, and 4 of framing in the list. 40 of them are 1,036,680 bytes,
    /// under ``bytes``; the 100 of other lists would be 2.6 MB.
    public static let sessionsPerPage = 40

    /// The weight of one encoded item in a list: its size and at most 4 bytes of tag and length.
    public static func weight(ofItemOfSize size: Int) -> Int { size + 4 }

    /// How many of `items`, from the first, fit `budget` bytes (each weighing `size`); at least
    /// one when there is one, so that every page makes progress.
    public static func fittingCount<Item>(of items: [Item], budget: Int = bytes, size: (Item) -> Int) -> Int {
        var total = 0
        for (index, item) in items.enumerated() {
            total += size(item)
            if total > budget && index > 0 { return index }
        }
        return items.count
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

    /// The page cut to at most `budget` bytes of items (each weighing `size`), keeping at least one
    /// item; when it cuts, the next page starts after the last item kept (`key` is the page key).
    public func limited(toBytes budget: Int, size: (Item) -> Int, key: (Item) -> String) -> Page {
        let count = ResponseBudget.fittingCount(of: items, budget: budget, size: size)
        guard count < items.count else { return self }
        return Page(items: Array(items[..<count]), nextToken: PageToken.encode(after: key(items[count - 1])))
    }

    /// The page with its items transformed.
    public func map<T: Sendable>(_ transform: (Item) throws -> T) rethrows -> Page<T> {
        Page<T>(items: try items.map(transform), nextToken: nextToken)
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

/// Call metadata: ordered key-value pairs where a key may repeat, carried in the ttrpc request as
/// `repeated KeyValue metadata`.
///
/// Keys are compared case-insensitively, as in gRPC; by convention they are lower case
/// (`authorization`, `request-id`).
public struct Metadata: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// One entry.
    public struct Element: Sendable, Hashable {
        /// The key.
        public var key: String
        /// The value.
        public var value: String

        /// Creates an entry.
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    private var elements: [Element]

    /// Creates empty metadata.
    public init() {
        elements = []
    }

    /// Creates metadata from entries, in order.
    public init(_ elements: [Element]) {
        self.elements = elements
    }

    /// Creates metadata from a literal.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.elements = elements.map { Element(key: $0.0, value: $0.1) }
    }

    /// The number of entries.
    public var count: Int { elements.count }

    /// Whether there are no entries.
    public var isEmpty: Bool { elements.isEmpty }

    /// Appends an entry; an existing entry with the same key stays.
    public mutating func add(_ key: String, _ value: String) {
        elements.append(Element(key: key, value: value))
    }

    /// Replaces every entry of `key` with one entry, or removes them all when `value` is `nil`.
    public subscript(key: String) -> String? {
        get { first(key) }
        set {
            elements.removeAll { $0.key.lowercased() == key.lowercased() }
            if let newValue { elements.append(Element(key: key, value: newValue)) }
        }
    }

    /// The first value of `key`.
    public func first(_ key: String) -> String? {
        elements.first { $0.key.lowercased() == key.lowercased() }?.value
    }

    /// Every value of `key`, in order.
    public func values(_ key: String) -> [String] {
        elements.filter { $0.key.lowercased() == key.lowercased() }.map(\.value)
    }

    /// Iterates over the entries in order.
    public func makeIterator() -> IndexingIterator<[Element]> {
        elements.makeIterator()
    }

    /// The entries as `key: value` pairs, with `authorization` values redacted.
    public var description: String {
        "[" + elements.map { "\($0.key): \($0.key.lowercased() == "authorization" ? "<redacted>" : $0.value)" }
            .joined(separator: ", ") + "]"
    }
}

/// How long a text field may be: always in UTF-8 bytes (what it costs to store and to send), and,
/// for texts people read, also in characters (what they see).
///
/// A character (a grapheme cluster) may hold any number of Unicode scalars: one letter with
/// 100,000 combining accents is one character of 200,001 bytes. So a character limit alone never
/// bounds a size; every limit here has a byte limit, checked first.
public struct TextLimit: Sendable, Hashable {
    /// The most UTF-8 bytes.
    public var maximumBytes: Int
    /// The most characters (grapheme clusters), for texts people see; `nil` for machine texts.
    public var maximumCharacters: Int?

    /// Creates a limit of `bytes` UTF-8 bytes and, for texts people see, `characters` characters.
    public init(bytes: Int, characters: Int? = nil) {
        self.maximumBytes = bytes
        self.maximumCharacters = characters
    }

    /// Checks `text` against the limit; the error names `field` and the limit in the unit that
    /// was exceeded (`field 'text' must be at most 40000 bytes (UTF-8), got 200001`).
    public func check(_ text: some StringProtocol, field: String) throws(SwitchboardError) {
        let bytes = text.utf8.count
        guard bytes <= maximumBytes else {
            throw .invalid(field, "must be at most \(maximumBytes) bytes (UTF-8), got \(bytes)")
        }
        if let maximumCharacters {
            // Counting characters walks the text; the byte limit above bounds that walk.
            let characters = text.count
            guard characters <= maximumCharacters else {
                throw .invalid(field, "must be at most \(maximumCharacters) characters, got \(characters)")
            }
        }
    }

    /// The limit in words, for documentation and errors: `200 characters and 800 bytes`.
    public var summary: String {
        guard let maximumCharacters else { return "\(maximumBytes) bytes" }
        return "\(maximumCharacters) characters and \(maximumBytes) bytes"
    }
}

/// Every limit on a text that callers send, in one place: the services, the settings validation
/// and the key commands check these, and `docs/PROTOCOL.md` lists them.
///
/// Byte limits are four times the character limit for texts people read (any character of most
/// scripts fits in 4 bytes), and the size of the longest valid value for machine texts.
public enum TextLimits {
    /// Agent, group and user ids: ASCII letters, digits and `._:@-`, so bytes are characters.
    public static let id = TextLimit(bytes: 128)
    /// Session ids (made by the server; 64 printable ASCII bytes at most).
    public static let sessionID = TextLimit(bytes: 64)
    /// The channel a session came from (`web`, `app`).
    public static let channel = TextLimit(bytes: 64)
    /// Agent display names and group names.
    public static let name = TextLimit(bytes: 800, characters: 200)
    /// A session attribute's key (1 byte at least).
    public static let attributeKey = TextLimit(bytes: 64)
    /// A session attribute's value.
    public static let attributeValue = TextLimit(bytes: 1024)
    /// The most attributes a session may have.
    public static let maximumAttributeCount = 64
    /// The most bytes of all attribute keys and values together.
    public static let maximumAttributeBytes = 16_384
    /// A user's or agent's message.
    public static let messageText = TextLimit(bytes: 40_000, characters: 10_000)
    /// A rating's comment.
    public static let ratingComment = TextLimit(bytes: 8_000, characters: 2_000)
    /// A prompt or message of the settings (welcome, queue message, rating invitation...).
    public static let prompt = TextLimit(bytes: 8_000, characters: 2_000)
    /// A rating label of the settings ("Very satisfied").
    public static let ratingLabel = TextLimit(bytes: 400, characters: 100)
    /// The business server's `host:port`: a host name of up to 253 bytes, `:` and a port.
    public static let hookAddress = TextLimit(bytes: 259)
    /// The working hours' IANA time zone (`America/Argentina/ComodRivadavia` is 32 bytes).
    public static let timeZone = TextLimit(bytes: 64)
    /// An API key's note for operators.
    public static let keyDescription = TextLimit(bytes: 800, characters: 200)

    /// Checks a session's attributes: at most 64 entries, keys of 1 to 64 bytes, values of at
    /// most 1024 bytes, and at most 16,384 bytes of keys and values together.
    public static func checkAttributes(_ attributes: [String: String], field: String = "attributes") throws(SwitchboardError) {
        guard attributes.count <= maximumAttributeCount else {
            throw .invalid(field, "must hold at most \(maximumAttributeCount) entries, got \(attributes.count)")
        }
        var total = 0
        for (key, value) in attributes.sorted(by: { $0.key < $1.key }) {
            guard !key.isEmpty else { throw .invalid(field, "has an empty key; keys are 1 to \(attributeKey.maximumBytes) bytes") }
            guard key.utf8.count <= attributeKey.maximumBytes else {
                throw .invalid(
                    field, "has a key of \(key.utf8.count) bytes (UTF-8); keys are 1 to \(attributeKey.maximumBytes) bytes"
                )
            }
            try attributeValue.check(value, field: "\(field)[\(key)]")
            total += key.utf8.count + value.utf8.count
        }
        guard total <= maximumAttributeBytes else {
            throw .invalid(field, "must hold at most \(maximumAttributeBytes) bytes (UTF-8) of keys and values, got \(total)")
        }
    }
}

/// A prompt template: text with `$Name` or `${Name}` placeholders; `$$` is a literal `$`, and a
/// `$` not followed by a letter, `{` or `$` is literal too.
public struct Template: Sendable, Hashable {
    /// A piece of a parsed template.
    public enum Part: Sendable, Hashable {
        case text(String)
        case placeholder(String)
    }

    /// The pieces, in order.
    public let parts: [Part]

    /// Parses `text`; an unterminated `${` is an error naming `field`.
    public init(_ text: String, field: String) throws(SwitchboardError) {
        var parts: [Part] = []
        var literal = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            guard character == "$", next < text.endIndex else {
                literal.append(character)
                index = next
                continue
            }
            let following = text[next]
            if following == "$" {
                literal.append("$")
                index = text.index(after: next)
            } else if following == "{" {
                guard let close = text[next...].firstIndex(of: "}") else {
                    throw .invalid(field, "has a '${' without its closing '}'")
                }
                let name = String(text[text.index(after: next)..<close])
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw .invalid(field, "has an invalid placeholder '${\(name)}'")
                }
                if !literal.isEmpty { parts.append(.text(literal)); literal = "" }
                parts.append(.placeholder(name))
                index = text.index(after: close)
            } else if following.isLetter {
                var end = next
                while end < text.endIndex, text[end].isLetter || text[end].isNumber || text[end] == "_" {
                    end = text.index(after: end)
                }
                if !literal.isEmpty { parts.append(.text(literal)); literal = "" }
                parts.append(.placeholder(String(text[next..<end])))
                index = end
            } else {
                literal.append("$")
                index = next
            }
        }
        if !literal.isEmpty { parts.append(.text(literal)) }
        self.parts = parts
    }

    /// The placeholder names used, in order of appearance.
    public var placeholders: [String] {
        parts.compactMap { if case .placeholder(let name) = $0 { name } else { nil } }
    }

    /// Checks that every placeholder is one of `allowed`.
    public func requirePlaceholders(in allowed: Set<String>, field: String) throws(SwitchboardError) {
        for name in placeholders where !allowed.contains(name) {
            let hint = allowed.isEmpty
                ? "takes no placeholders (write $$ for a literal $)"
                : "allows only \(allowed.sorted().map { "$\($0)" }.joined(separator: ", "))"
            throw .invalid(field, "has unknown placeholder '$\(name)'; it \(hint)")
        }
    }

    /// The text with each placeholder replaced by its value (unknown ones by nothing).
    public func render(_ values: [String: String]) -> String {
        render { values[$0] }
    }

    /// The text with each placeholder replaced by `value(name)` (`nil` by nothing); `value` is
    /// asked only for the placeholders the template has.
    func render(_ value: (String) -> String?) -> String {
        var text = ""
        for part in parts {
            switch part {
            case .text(let literal): text += literal
            case .placeholder(let name): text += value(name) ?? ""
            }
        }
        return text
    }
}

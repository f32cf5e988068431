import Foundation
import SwitchboardClient

/// Prints messages as JSON (protobuf's mapping, stable: sorted keys) or as readable tables.
enum Output {
    static func json(_ value: some Encodable, compact: Bool = false) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = compact ? [.sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// A JSON value, to print fields without knowing their types.
    enum Value: Decodable {
        case bool(Bool), number(Double), string(String), array([Value]), object([String: Value]), null

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let bool = try? container.decode(Bool.self) { self = .bool(bool) }
            else if let number = try? container.decode(Double.self) { self = .number(number) }
            else if let string = try? container.decode(String.self) { self = .string(string) }
            else if let array = try? container.decode([Value].self) { self = .array(array) }
            else { self = .object(try container.decode([String: Value].self)) }
        }

        var text: String {
            switch self {
            case .bool(let bool): bool ? "true" : "false"
            case .number(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            case .string(let string): string
            case .array(let values): values.map(\.text).joined(separator: ",")
            case .object(let fields): fields.keys.sorted().map { "\($0)=\(fields[$0]!.text)" }.joined(separator: " ")
            case .null: ""
            }
        }
    }

    static func object(_ value: some Encodable) -> [String: Value] {
        guard let data = try? JSONEncoder().encode(value), case .object(let fields)? = try? JSONDecoder().decode(Value.self, from: data) else {
            return [:]
        }
        return fields
    }

    /// One message: JSON, or `field  value` lines.
    static func print(_ message: some Encodable, format: OutputFormat) {
        switch format {
        case .json:
            Swift.print(json(message))
        case .table:
            let object = Self.object(message)
            let width = object.keys.map(\.count).max() ?? 0
            for key in object.keys.sorted() {
                Swift.print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + object[key]!.text)
            }
        }
    }

    /// A list: JSON (the whole response), or a table with `columns` of each item.
    static func print<Item: Encodable>(list items: [Item], response: some Encodable, columns: [String], format: OutputFormat) {
        switch format {
        case .json:
            Swift.print(json(response))
        case .table:
            let rows = items.map { item in
                let object = Self.object(item)
                return columns.map { object[$0]?.text ?? "" }
            }
            let widths = columns.indices.map { index in max(columns[index].count, rows.map { $0[index].count }.max() ?? 0) }
            func line(_ cells: [String]) -> String {
                zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                    .trimmingCharacters(in: .whitespaces)
            }
            Swift.print(line(columns.map { $0.uppercased() }))
            for row in rows { Swift.print(line(row)) }
        }
    }

    /// Events as they come: one compact JSON line each, or `field  value` blocks; stops after
    /// `count` events when given.
    static func print<Event: ProtoMessage>(events: ResumingEventStream<Event>, count: Int?, format: OutputFormat) async throws {
        var seen = 0
        for try await event in events {
            if format == .json { Swift.print(json(event, compact: true)) } else { print(event, format: .table) }
            seen += 1
            if let count, seen >= count { return }
        }
    }
}

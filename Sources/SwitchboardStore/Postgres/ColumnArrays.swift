import NIOCore
import PostgresNIO

/// One column of many rows as a PostgreSQL array parameter (binary format, NULLs allowed),
/// for `unnest`: a batch of rows is one statement with one parameter a column.
struct ColumnArray: PostgresDynamicTypeEncodable {
    /// The kind of the elements.
    enum Element {
        case text, int8, bytea

        var type: PostgresDataType {
            switch self {
            case .text: .text
            case .int8: .int8
            case .bytea: .bytea
            }
        }

        var arrayType: PostgresDataType {
            switch self {
            case .text: .textArray
            case .int8: .int8Array
            case .bytea: .byteaArray
            }
        }
    }

    let element: Element
    private(set) var count: Int32 = 0
    private var hasNull = false
    /// The elements as the binary array format has them: each a length (-1: NULL) and its bytes.
    private var elements = ByteBuffer()

    init(_ element: Element) {
        self.element = element
    }

    var psqlType: PostgresDataType { element.arrayType }
    var psqlFormat: PostgresFormat { .binary }

    mutating func append(_ text: String) {
        precondition(element == .text, "text added to a \(element) column")
        count += 1
        let start = elements.writerIndex
        elements.writeInteger(Int32(0))
        let length = elements.writeString(text)
        elements.setInteger(Int32(length), at: start)
    }

    mutating func append(_ value: Int64) {
        precondition(element == .int8, "an integer added to a \(element) column")
        count += 1
        elements.writeInteger(Int32(8))
        elements.writeInteger(value)
    }

    mutating func append(bytes: [UInt8]) {
        precondition(element == .bytea, "a blob added to a \(element) column")
        count += 1
        elements.writeInteger(Int32(bytes.count))
        elements.writeBytes(bytes)
    }

    mutating func appendNull() {
        count += 1
        hasNull = true
        elements.writeInteger(Int32(-1))
    }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        // Dimensions, whether NULLs occur, the element type; then each dimension's size and
        // lower bound; then the elements.
        buffer.writeInteger(Int32(count == 0 ? 0 : 1))
        buffer.writeInteger(Int32(hasNull ? 1 : 0))
        buffer.writeInteger(element.type.rawValue)
        if count > 0 {
            buffer.writeInteger(count)
            buffer.writeInteger(Int32(1))
        }
        buffer.writeImmutableBuffer(elements)
    }
}

/// A table's columns as arrays, filled row by row by a record's `bind` (each value goes to the
/// next column, wrapping at the row's end).
struct ColumnArrays: ColumnSink {
    private(set) var columns: [ColumnArray]
    private var next = 0

    init(_ elements: [ColumnArray.Element]) {
        columns = elements.map(ColumnArray.init)
    }

    /// Rows added.
    var rows: Int { Int(columns.last?.count ?? 0) }

    private mutating func advance() {
        next += 1
        if next == columns.count { next = 0 }
    }

    mutating func add(_ value: String) {
        columns[next].append(value)
        advance()
    }

    mutating func add(_ value: Int64) {
        columns[next].append(value)
        advance()
    }

    mutating func add(blob: [UInt8]) {
        columns[next].append(bytes: blob)
        advance()
    }

    mutating func addNull() {
        columns[next].appendNull()
        advance()
    }

    /// Adds every column as a parameter.
    func bind(to bindings: inout PostgresBindings) {
        precondition(next == 0, "a row was added only in part")
        for column in columns { bindings.append(column) }
    }
}

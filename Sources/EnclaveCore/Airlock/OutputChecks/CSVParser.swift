/// A streaming RFC 4180 parser over bytes: quoted fields with delimiters, line breaks and doubled
/// quotes, a UTF-8 byte order mark, and CRLF or LF line ends.
///
/// It works on bytes and hands out one reused record at a time, so a million-row export is checked
/// without building a String per cell; callers turn only the fields they need into text.
public struct CSVParser: Sendable {
    public let delimiter: UInt8
    private var record = CSVRecord()
    private var field: [UInt8] = []
    private var state = State.fieldStart
    private var atStart = true
    private var bomBytesSeen = 0
    private var skipLineFeed = false

    private enum State: Sendable { case fieldStart, unquoted, quoted, quoteInQuoted }

    public init(delimiter: UInt8 = UInt8(ascii: ",")) {
        self.delimiter = delimiter
    }

    /// Parses the next bytes, calling `emit` for every completed record (blank lines are skipped).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (CSVRecord) throws -> Void) rethrows {
        for byte in bytes {
            if atStart {
                // A UTF-8 BOM (EF BB BF) before the first field is not data.
                let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
                if byte == bom[bomBytesSeen] {
                    bomBytesSeen += 1
                    if bomBytesSeen == 3 { atStart = false }
                    continue
                }
                atStart = false
                if bomBytesSeen > 0 {
                    for held in bom[0..<bomBytesSeen] { try consume(held, emit) }
                }
            }
            try consume(byte, emit)
        }
    }

    /// Parses `text` (tests and small inputs).
    public mutating func feed(_ text: String, _ emit: (CSVRecord) throws -> Void) rethrows {
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBytes { try feed($0, emit) }
    }

    /// Ends the input: emits the last record when the data does not end with a line break.
    public mutating func finish(_ emit: (CSVRecord) throws -> Void) rethrows {
        if state != .fieldStart || !record.isEmpty || !field.isEmpty {
            endField()
            try endRecord(emit)
        }
    }

    private mutating func consume(_ byte: UInt8, _ emit: (CSVRecord) throws -> Void) rethrows {
        if skipLineFeed {
            skipLineFeed = false
            if byte == UInt8(ascii: "\n") { return }
        }
        switch state {
        case .quoted:
            if byte == UInt8(ascii: "\"") { state = .quoteInQuoted } else { field.append(byte) }
        case .quoteInQuoted:
            if byte == UInt8(ascii: "\"") {
                field.append(byte)
                state = .quoted
            } else {
                // The closing quote: what follows is unquoted (lenient: stray bytes are kept).
                state = .unquoted
                try consumeUnquoted(byte, emit)
            }
        case .fieldStart:
            if byte == UInt8(ascii: "\"") {
                state = .quoted
            } else {
                state = .unquoted
                try consumeUnquoted(byte, emit)
            }
        case .unquoted:
            try consumeUnquoted(byte, emit)
        }
    }

    private mutating func consumeUnquoted(_ byte: UInt8, _ emit: (CSVRecord) throws -> Void) rethrows {
        switch byte {
        case delimiter:
            endField()
            state = .fieldStart
        case UInt8(ascii: "\n"):
            endField()
            try endRecord(emit)
        case UInt8(ascii: "\r"):
            endField()
            try endRecord(emit)
            skipLineFeed = true
        default:
            field.append(byte)
        }
    }

    private mutating func endField() {
        record.append(field)
        field.removeAll(keepingCapacity: true)
    }

    private mutating func endRecord(_ emit: (CSVRecord) throws -> Void) rethrows {
        state = .fieldStart
        defer { record.removeAll() }
        if record.count == 1, record.isFieldEmpty(0) { return }
        try emit(record)
    }
}

/// One CSV record: its fields' bytes, unquoted and unescaped, in one buffer.
public struct CSVRecord: Sendable {
    private var bytes: [UInt8] = []
    private var ends: [Int] = []

    public init() {}

    /// Builds a record from strings (tests, and rules fed without a parser).
    public init(_ fields: [String]) {
        for field in fields { append(Array(field.utf8)) }
    }

    public var count: Int { ends.count }
    var isEmpty: Bool { ends.isEmpty }

    mutating func append(_ field: [UInt8]) {
        bytes.append(contentsOf: field)
        ends.append(bytes.count)
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }

    func isFieldEmpty(_ index: Int) -> Bool { range(index).isEmpty }

    private func range(_ index: Int) -> Range<Int> { (index == 0 ? 0 : ends[index - 1])..<ends[index] }

    /// The field as text (invalid UTF-8 repaired); "" when the record has fewer fields.
    public func string(_ index: Int) -> String {
        guard index < ends.count else { return "" }
        return String(decoding: bytes[range(index)], as: UTF8.self)
    }

    public var strings: [String] { (0..<count).map(string) }

    /// The field as an integer when it is one (optional sign, digits, surrounding spaces), without making a String.
    public func integer(_ index: Int) -> Int? {
        guard index < ends.count else { return nil }
        var slice = bytes[range(index)]
        while let first = slice.first, first == UInt8(ascii: " ") { slice.removeFirst() }
        while let last = slice.last, last == UInt8(ascii: " ") { slice.removeLast() }
        var negative = false
        if let first = slice.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            slice.removeFirst()
        }
        guard !slice.isEmpty, slice.count <= 18 else { return nil }
        var value = 0
        for byte in slice {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return negative ? -value : value
    }
}

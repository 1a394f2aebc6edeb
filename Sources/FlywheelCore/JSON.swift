/// A small, strict JSON parser over UTF-8 bytes.
///
/// Ingest is dominated by decoding, so this parser avoids Foundation and Codable: it walks the bytes
/// once, builds objects as ordered key/value arrays (events have a dozen keys; a linear scan beats
/// hashing), and makes Swift strings straight from the input when a string has no escapes.
/// It accepts exactly RFC 8259 JSON; anything else is an error with a byte offset.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value for `key` in an object (the last one wins if a key repeats), else nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        var i = pairs.count - 1
        while i >= 0 {
            if pairs[i].0 == key { return pairs[i].1 }
            i -= 1
        }
        return nil
    }

    /// A short name for the value's kind, for error messages.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

public struct JSONParseError: Error, Equatable, CustomStringConvertible, Sendable {
    public let message: String
    public let offset: Int
    public var description: String { "\(message) at byte \(offset)" }
}

public enum JSONParser {
    /// Maximum nesting depth; deeper input is rejected instead of overflowing the stack.
    public static let maxDepth = 128

    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        var p = Cursor(base: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        p.skipSpace()
        let value = try p.parseValue(depth: 0)
        p.skipSpace()
        if p.pos != p.count { throw p.error("unexpected data after the JSON value") }
        return value
    }

    public static func parse(_ string: String) throws(JSONParseError) -> JSONValue {
        var s = string
        let result: Result<JSONValue, JSONParseError> = s.withUTF8 { buf in
            do throws(JSONParseError) { return .success(try parse(UnsafeRawBufferPointer(buf))) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

private struct Cursor {
    let base: UnsafePointer<UInt8>?
    let count: Int
    var pos = 0

    init(base: UnsafePointer<UInt8>?, count: Int) {
        self.base = base
        self.count = count
    }

    @inline(__always) func peek() -> UInt8? { pos < count ? base![pos] : nil }

    func error(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: pos) }

    @inline(__always) mutating func skipSpace() {
        while pos < count {
            let c = base![pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 } else { return }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard let c = peek() else { throw error("unexpected end of input") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character '\(printable(c))'")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard pos + n <= count else { throw error("invalid literal") }
        let w = word.utf8Start
        for i in 0..<n where base![pos + i] != w[i] { throw error("invalid literal") }
        pos += n
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > JSONParser.maxDepth { throw error("nesting deeper than \(JSONParser.maxDepth)") }
        pos += 1
        var pairs: [(String, JSONValue)] = []
        skipSpace()
        if peek() == UInt8(ascii: "}") { pos += 1; return .object(pairs) }
        pairs.reserveCapacity(12)
        while true {
            skipSpace()
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            skipSpace()
            guard peek() == UInt8(ascii: ":") else { throw error("expected ':' after key") }
            pos += 1
            skipSpace()
            let value = try parseValue(depth: depth)
            pairs.append((key, value))
            skipSpace()
            switch peek() {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "}"): pos += 1; return .object(pairs)
            case nil: throw error("unterminated object")
            default: throw error("expected ',' or '}' in object")
            }
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > JSONParser.maxDepth { throw error("nesting deeper than \(JSONParser.maxDepth)") }
        pos += 1
        var items: [JSONValue] = []
        skipSpace()
        if peek() == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try parseValue(depth: depth))
            skipSpace()
            switch peek() {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "]"): pos += 1; return .array(items)
            case nil: throw error("unterminated array")
            default: throw error("expected ',' or ']' in array")
            }
        }
    }

    mutating func parseString() throws(JSONParseError) -> String {
        pos += 1  // opening quote
        let start = pos
        // Fast path: no escapes. Input is already validated UTF-8 by the caller when it matters;
        // String(decoding:) repairs anything else rather than trapping.
        while pos < count {
            let c = base![pos]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(start: base! + start, count: pos - start), as: UTF8.self)
                pos += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw error("control character in string") }
            pos += 1
        }
        if pos >= count { throw JSONParseError(message: "unterminated string", offset: start - 1) }
        // Slow path: decode escapes into a byte buffer.
        var out = [UInt8](UnsafeBufferPointer(start: base! + start, count: pos - start))
        while pos < count {
            let c = base![pos]
            if c == UInt8(ascii: "\"") {
                pos += 1
                return String(decoding: out, as: UTF8.self)
            }
            if c < 0x20 { throw error("control character in string") }
            if c != UInt8(ascii: "\\") { out.append(c); pos += 1; continue }
            pos += 1
            guard let e = peek() else { break }
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard pos + 1 < count, base![pos] == UInt8(ascii: "\\"), base![pos + 1] == UInt8(ascii: "u") else {
                        throw error("lone surrogate in \\u escape")
                    }
                    pos += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid surrogate pair in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("lone surrogate in \\u escape")
                }
                appendUTF8(scalar, to: &out)
            default:
                pos -= 1
                throw error("invalid escape '\\\(printable(e))'")
            }
        }
        throw JSONParseError(message: "unterminated string", offset: start - 1)
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard pos + 4 <= count else { throw error("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = base![pos]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - 48)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - 87)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - 55)
            default: throw error("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = pos
        if peek() == UInt8(ascii: "-") { pos += 1 }
        guard let first = peek(), first >= 48, first <= 57 else { throw error("invalid number") }
        // Integers (the common case: indexes, milliseconds) are accumulated directly.
        var intValue: Int64 = 0
        var digits = 0
        var simple = true
        if first == 48 {
            pos += 1
            if let n = peek(), n >= 48, n <= 57 { throw error("leading zero in number") }
        } else {
            while let c = peek(), c >= 48, c <= 57 {
                if digits < 18 { intValue = intValue * 10 + Int64(c - 48) } else { simple = false }
                digits += 1
                pos += 1
            }
        }
        if peek() == UInt8(ascii: ".") {
            simple = false
            pos += 1
            guard let c = peek(), c >= 48, c <= 57 else { throw error("invalid number: digit expected after '.'") }
            while let c = peek(), c >= 48, c <= 57 { pos += 1 }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            simple = false
            pos += 1
            if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { pos += 1 }
            guard let c = peek(), c >= 48, c <= 57 else { throw error("invalid number: digit expected in exponent") }
            while let c = peek(), c >= 48, c <= 57 { pos += 1 }
        }
        if simple {
            return base![start] == UInt8(ascii: "-") ? -Double(intValue) : Double(intValue)
        }
        let text = String(decoding: UnsafeBufferPointer(start: base! + start, count: pos - start), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw JSONParseError(message: "number out of range", offset: start) }
        return d
    }
}

@inline(__always) func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
    switch scalar {
    case 0..<0x80: out.append(UInt8(scalar))
    case 0x80..<0x800:
        out.append(UInt8(0xC0 | (scalar >> 6)))
        out.append(UInt8(0x80 | (scalar & 0x3F)))
    case 0x800..<0x10000:
        out.append(UInt8(0xE0 | (scalar >> 12)))
        out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (scalar & 0x3F)))
    default:
        out.append(UInt8(0xF0 | (scalar >> 18)))
        out.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
        out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (scalar & 0x3F)))
    }
}

private func printable(_ c: UInt8) -> String {
    (0x21...0x7E).contains(c) ? String(UnicodeScalar(c)) : String(format: "0x%02X", c)
}

// String(format:) needs Foundation; keep Core free of it with a tiny formatter.
private extension String {
    init(format: String, _ byte: UInt8) {
        let hex = Array("0123456789ABCDEF")
        self = "0x" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xF)])
    }
}

extension JSONValue {
    /// The value written back as JSON text.
    public var jsonText: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d): return d == Double(Int64(exactly: d) ?? 0) && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .string(let s): return jsonQuoted(s)
        case .array(let items): return "[" + items.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let pairs): return "{" + pairs.map { "\(jsonQuoted($0.0)):\($0.1.jsonText)" }.joined(separator: ",") + "}"
        }
    }
}

/// JSON text for a string value (used when writing JSON out: summaries, JSONL listings).
public func jsonQuoted(_ s: String) -> String {
    var out = "\""
    out.reserveCapacity(s.utf8.count + 2)
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 || u.value == 0x7F || u.value == 0x2028 || u.value == 0x2029 {
                let h = Array("0123456789abcdef")
                let v = Int(u.value)
                out += "\\u" + String([h[(v >> 12) & 0xF], h[(v >> 8) & 0xF], h[(v >> 4) & 0xF], h[v & 0xF]])
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    out += "\""
    return out
}

import Testing
@testable import FlywheelCore

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let v = try JSONParser.parse(#"{"a":1,"b":-2.5e1,"c":"x\"y\\z\n\u00e9\ud83d\ude00","d":[true,false,null],"e":{},"f":[]}"#)
        #expect(v["a"] == .number(1))
        #expect(v["b"] == .number(-25))
        #expect(v["c"] == .string("x\"y\\z\né😀"))
        #expect(v["d"] == .array([.bool(true), .bool(false), .null]))
        #expect(v["e"] == .object([]))
        #expect(v["f"] == .array([]))
    }

    @Test func keepsChineseTextAsIs() throws {
        let v = try JSONParser.parse(#"{"content":"不对,是78 不對"}"#)
        #expect(v["content"] == .string("不对,是78 不對"))
    }

    @Test func lastDuplicateKeyWins() throws {
        #expect(try JSONParser.parse(#"{"a":1,"a":2}"#)["a"] == .number(2))
    }

    @Test(arguments: [
        "", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "{a:1}", "'x'", "tru", "nul", "01", "1.", "-", "1e",
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "{\"a\":1} x", "\"tab\there\"", "NaN", "[1 2]",
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func rejectsDeepNestingWithoutCrashing() {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
    }

    @Test func numbers() throws {
        #expect(try JSONParser.parse("0") == .number(0))
        #expect(try JSONParser.parse("-0.5") == .number(-0.5))
        #expect(try JSONParser.parse("1E3") == .number(1000))
        #expect(try JSONParser.parse("123456789012345678901234") == .number(123456789012345678901234))
        #expect(throws: JSONParseError.self) { try JSONParser.parse("1e999") }
    }

    @Test func quotingRoundTrips() throws {
        let s = "a\"b\\c\n\t\u{1}\u{7f}不对😀"
        #expect(try JSONParser.parse(jsonQuoted(s)) == .string(s))
        #expect(jsonQuoted("\u{1b}[31m") == "\"\\u001b[31m\"")
    }
}

@Suite struct UTF8ValidationTests {
    func check(_ bytes: [UInt8]) -> Int? { bytes.withUnsafeBytes { firstInvalidUTF8Offset($0) } }

    @Test func acceptsValidText() {
        #expect(check(Array("plain ascii text that is longer than eight bytes".utf8)) == nil)
        #expect(check(Array("不对,是78 😀 é".utf8)) == nil)
        #expect(check([]) == nil)
    }

    @Test func findsInvalidSequences() {
        #expect(check([0x61, 0xFF]) == 1)
        #expect(check([0xC0, 0x80]) == 0)  // overlong
        #expect(check([0xE0, 0x80, 0x80]) == 0)  // overlong
        #expect(check([0xED, 0xA0, 0x80]) == 0)  // surrogate
        #expect(check([0xF4, 0x90, 0x80, 0x80]) == 0)  // above U+10FFFF
        #expect(check(Array("12345678".utf8) + [0xE4, 0xB8]) == 8)  // truncated
    }
}

@Suite struct TimestampTests {
    @Test func parsesRFC3339() {
        #expect(Timestamp.parseMillis("1970-01-01T00:00:00Z") == 0)
        #expect(Timestamp.parseMillis("2026-05-01T00:00:07Z") == 1_777_593_607_000)
        #expect(Timestamp.parseMillis("2026-05-01T00:00:07.25Z") == 1_777_593_607_250)
        #expect(Timestamp.parseMillis("2026-05-01T08:00:07+08:00") == 1_777_593_607_000)
        #expect(Timestamp.parseMillis("2024-02-29T12:00:00Z") != nil)
    }

    @Test(arguments: ["2026-05-01", "2026-05-01T00:00:07", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
                      "2026-05-01T24:00:00Z", "2026-05-01T00:00:00+0800", "yesterday", "2026-05-01T00:00:00Zjunk"])
    func rejectsMalformed(_ s: String) {
        #expect(Timestamp.parseMillis(s) == nil)
    }

    @Test func formatsBack() {
        #expect(Timestamp.format(millis: 1_777_593_607_000) == "2026-05-01T00:00:07Z")
        #expect(Timestamp.format(millis: 1_777_593_607_250) == "2026-05-01T00:00:07.250Z")
        #expect(Timestamp.format(millis: 0) == "1970-01-01T00:00:00Z")
    }
}

import Testing
@testable import FlywheelCollect

@Suite struct LogfmtTests {
    @Test func plainValuesStayBareOthersAreJSONStrings() {
        #expect(LogfmtLogHandler.quote("file.jsonl") == "file.jsonl")
        #expect(LogfmtLogHandler.quote("") == "\"\"")
        #expect(LogfmtLogHandler.quote("two words") == "\"two words\"")
        #expect(LogfmtLogHandler.quote("a=\"b\"\n\u{1b}") == "\"a=\\\"b\\\"\\n\\u001b\"")
        #expect(LogfmtLogHandler.quote("中文 ok") == "\"中文 ok\"")
    }
}

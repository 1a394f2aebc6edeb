import FlywheelCore
import Foundation
import Logging

/// A swift-log handler writing one logfmt line per message to stderr:
/// `ts=2026-11-23T01:20:00.123Z level=info msg="analysis done" sessions=12 signals=3`.
/// Machine-readable (every value is key=value, quoted when it has spaces) and still easy to read.
public struct LogfmtLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        var fields = ["ts=\(Self.timestamp())", "level=\(level)", "msg=\(Self.quote(message.description))"]
        let all = metadata.merging(extra ?? [:]) { _, new in new }
        for key in all.keys.sorted() { fields.append("\(key)=\(Self.quote("\(all[key]!)"))") }
        write(fields.joined(separator: " "))
    }

    static func quote(_ s: String) -> String {
        if !s.isEmpty && !s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline || ($0.asciiValue.map { $0 < 0x20 } ?? false) }) {
            return s
        }
        // Quoted values are JSON strings: the same escapes, so any JSON-aware log reader can unquote them.
        return jsonQuoted(s)
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }
}

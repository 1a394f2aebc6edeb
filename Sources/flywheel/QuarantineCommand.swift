import ArgumentParser
import FlywheelCore
import FlywheelStore
import Foundation

struct QuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "List lines that could not be ingested, with their source, line number and reason.")

    @OptionGroup var database: DatabaseOptions

    @Option(name: .long, help: "How many entries to list.")
    var limit = 100

    @Option(name: .long, help: "List entries with an id greater than this (for paging).")
    var after: Int64 = 0

    @Option(name: .long, help: "Only entries from this source (as listed).")
    var source: String?

    @Option(name: .long, help: "table or jsonl.")
    var format: OutputFormat = .table

    @Option(name: .long, help: ArgumentHelp("Write entry ID's raw bytes, exactly as received, to standard output.", valueName: "ID"))
    var raw: Int64?

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            if let id = raw {
                guard let entry = try store.quarantineEntry(id: id) else { throw CLIError("no quarantine entry \(id)") }
                FileHandle.standardOutput.write(Data(entry.raw))
                return
            }
            let entries = try store.quarantineEntries(limit: limit, afterID: after, source: source)
            switch format {
            case .jsonl:
                for e in entries {
                    let text = String(validating: e.raw, as: UTF8.self)
                    var fields = ["\"id\":\(e.id)", "\"source\":\(jsonQuoted(e.source))",
                                  "\"line\":\(e.line.map(String.init) ?? "null")", "\"reason_kind\":\(jsonQuoted(e.reasonKind))",
                                  "\"reason\":\(jsonQuoted(e.reason))", "\"received_at\":\(jsonQuoted(Timestamp.format(millis: e.receivedAt)))"]
                    if let text { fields.append("\"raw\":\(jsonQuoted(text))") } else { fields.append("\"raw_base64\":\(jsonQuoted(Data(e.raw).base64EncodedString()))") }
                    print("{" + fields.joined(separator: ",") + "}")
                }
            case .table:
                if entries.isEmpty {
                    print(after == 0 ? "The quarantine is empty." : "No more entries.")
                    return
                }
                for e in entries {
                    print("#\(e.id)  \(e.source):\(e.line.map(String.init) ?? "?")  [\(e.reasonKind)] \(e.reason)")
                    print("    \(preview(e.raw))")
                }
                if entries.count == limit {
                    print("… more entries: flywheel quarantine --after \(entries.last!.id)")
                }
            }
        }
    }

    /// A one-line, terminal-safe view of raw bytes: control characters and invalid UTF-8 are escaped.
    private func preview(_ raw: [UInt8], limit: Int = 160) -> String {
        var out = ""
        var i = 0
        var shown = 0
        while i < raw.count && shown < limit {
            let b = raw[i]
            if b >= 0x20 && b < 0x7F {
                out.append(Character(UnicodeScalar(b)))
                i += 1
            } else if b >= 0x80, let (ch, len) = decodeScalar(raw, i) {
                out.unicodeScalars.append(ch)
                i += len
            } else {
                out += String(format: "\\x%02x", b)
                i += 1
            }
            shown += 1
        }
        if i < raw.count { out += "… (\(raw.count) bytes)" }
        return out
    }

    private func decodeScalar(_ b: [UInt8], _ i: Int) -> (UnicodeScalar, Int)? {
        let len: Int
        switch b[i] {
        case 0xC2...0xDF: len = 2
        case 0xE0...0xEF: len = 3
        case 0xF0...0xF4: len = 4
        default: return nil
        }
        guard i + len <= b.count, let s = String(validating: b[i..<(i + len)], as: UTF8.self), let u = s.unicodeScalars.first else { return nil }
        // Keep bidi overrides and other invisible format characters visible as escapes.
        if u.properties.generalCategory == .format || u.properties.generalCategory == .control { return nil }
        return (u, len)
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, jsonl
}

import Foundation
import Testing

/// Compares `text` with the reviewed snapshot `directory/name.txt`, line by line, and records an issue listing
/// the lines that differ. With FLYWHEEL_RECORD_SNAPSHOTS=1 it writes the snapshot instead (read the diff before
/// committing). Shared by every test target that snapshots text (console screens, image previews).
public func assertTextSnapshot(_ text: String, named name: String, in directory: URL, what: String = "text",
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
    let file = directory.appendingPathComponent(name + ".txt")
    if ProcessInfo.processInfo.environment["FLYWHEEL_RECORD_SNAPSHOTS"] == "1" {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try (text + "\n").write(to: file, atomically: true, encoding: .utf8)
        return
    }
    guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
        Issue.record("no snapshot \(file.path); record it with FLYWHEEL_RECORD_SNAPSHOTS=1", sourceLocation: sourceLocation)
        return
    }
    let want = expected.hasSuffix("\n") ? String(expected.dropLast()) : expected
    if want != text {
        let a = want.components(separatedBy: "\n"), b = text.components(separatedBy: "\n")
        let diff = (0..<max(a.count, b.count)).compactMap { i -> String? in
            let l = i < a.count ? a[i] : "<none>", r = i < b.count ? b[i] : "<none>"
            return l == r ? nil : "line \(i + 1):\n  want |\(l)|\n  got  |\(r)|"
        }
        Issue.record("\(what) \(name) differs from its snapshot:\n\(diff.joined(separator: "\n"))\n--- full \(what) ---\n\(text)",
                     sourceLocation: sourceLocation)
    }
}

import Foundation
import Testing

/// The built `flywheel` binary: beside the test bundle, else under .build/debug.
func flywheelBinary() -> String {
    let runner = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
    var candidates = [runner.appendingPathComponent("flywheel").path,
                      runner.deletingLastPathComponent().appendingPathComponent("flywheel").path]
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    candidates.append(root.appendingPathComponent(".build/debug/flywheel").path)
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
}

struct Output {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutBytes: Data
}

@discardableResult
func flywheel(_ args: [String], stdin: Data? = nil, env: [String: String] = [:]) throws -> Output {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: flywheelBinary())
    p.arguments = args
    var environment = ProcessInfo.processInfo.environment
    environment.removeValue(forKey: "FLYWHEEL_DB")
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    let out = Pipe(), err = Pipe(), inp = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = inp
    try p.run()
    if let stdin { inp.fileHandleForWriting.write(stdin) }
    try inp.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self), stdoutBytes: o)
}

func tempDir() -> String {
    let dir = NSTemporaryDirectory() + "flywheel-cli-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

let good = [
    #"{"type":"turn","event_id":"c-t0","session_id":"c","turn_index":0,"role":"user","content":"总金额是多少?","request_id":"c-r1","ts":"2026-05-01T00:00:00Z"}"#,
    #"{"type":"turn","event_id":"c-t1","session_id":"c","turn_index":1,"role":"assistant","content":"87","request_id":"c-r1","ts":"2026-05-01T00:00:02Z","response_ms":2000}"#,
]

func lastJSON(_ out: String) throws -> [String: Any] {
    let last = out.split(separator: "\n").last.map(String.init) ?? ""
    return try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] ?? [:]
}

@Suite(.serialized) struct CLITests {
    @Test func ingestJSONSummaryAndIdempotence() throws {
        let dir = tempDir()
        let file = dir + "/e.jsonl"
        try (good.joined(separator: "\n") + "\nnot json\n").write(toFile: file, atomically: true, encoding: .utf8)
        let db = dir + "/db.sqlite"
        let first = try flywheel(["ingest", "--json", "--db", db, file])
        #expect(first.status == 0)
        let s1 = try lastJSON(first.stdout)
        #expect(s1["ingested"] as? Int == 2)
        #expect(s1["duplicates"] as? Int == 0)
        #expect(s1["quarantined"] as? Int == 1)
        let second = try flywheel(["ingest", "--json", "--db", db, file])
        let s2 = try lastJSON(second.stdout)
        #expect(s2["ingested"] as? Int == 0)
        #expect(s2["duplicates"] as? Int == 2)
        let strict = try flywheel(["ingest", "--strict", "--db", db, file])
        #expect(strict.status == 2)
        let stats = try flywheel(["stats", "--json", "--db", db])
        let tables = try lastJSON(stats.stdout)["tables"] as? [String: Int]
        #expect(tables?["events"] == 2)
        #expect(tables?["turns"] == 2)
        #expect(tables?["quarantine"] == 1)
    }

    @Test func readsStandardInput() throws {
        let dir = tempDir()
        let r = try flywheel(["ingest", "--json", "--db", dir + "/db.sqlite", "-"], stdin: Data((good.joined(separator: "\n") + "\n").utf8))
        #expect(r.status == 0)
        #expect(try lastJSON(r.stdout)["ingested"] as? Int == 2)
    }

    @Test func unreadableInputExitsOneButKeepsTheRest() throws {
        let dir = tempDir()
        let file = dir + "/e.jsonl"
        try good.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let r = try flywheel(["ingest", "--json", "--db", dir + "/db.sqlite", dir + "/missing.jsonl", file])
        #expect(r.status == 1)
        #expect(r.stderr.contains("missing.jsonl"))
        #expect(try lastJSON(r.stdout)["ingested"] as? Int == 2)
    }

    @Test func usageErrorsAreUsageErrors() throws {
        let r = try flywheel(["ingest", "--db", tempDir() + "/db.sqlite"])
        #expect(r.status == 64)
    }

    @Test func databaseFromEnvironment() throws {
        let dir = tempDir()
        let db = dir + "/sub/env.sqlite"
        let r = try flywheel(["ingest", "-"], stdin: Data(good[0].utf8), env: ["FLYWHEEL_DB": db])
        #expect(r.status == 0)
        #expect(FileManager.default.fileExists(atPath: db))
        let xdg = try flywheel(["stats"], env: ["XDG_DATA_HOME": dir + "/xdg"])
        #expect(xdg.status == 0)
        #expect(FileManager.default.fileExists(atPath: dir + "/xdg/flywheel/flywheel.sqlite"))
    }

    @Test func quarantineListsAndReturnsRawBytes() throws {
        let dir = tempDir()
        let db = dir + "/db.sqlite"
        var bytes = Data(#"{"type":"turn","content":""#.utf8)
        bytes.append(contentsOf: [0xFF, 0x1B])
        bytes.append(Data("[31m\"}\n".utf8))
        try flywheel(["ingest", "--db", db, "-"], stdin: bytes)
        let list = try flywheel(["quarantine", "--db", db])
        #expect(list.stdout.contains("stdin:1"))
        #expect(list.stdout.contains("not_utf8"))
        #expect(!list.stdout.contains("\u{1B}"))  // escape sequences are never printed raw
        #expect(list.stdout.contains("\\xff\\x1b"))
        let jsonl = try flywheel(["quarantine", "--format", "jsonl", "--db", db])
        let entry = try JSONSerialization.jsonObject(with: Data(jsonl.stdout.utf8)) as? [String: Any]
        #expect(entry?["line"] as? Int == 1)
        #expect(entry?["raw_base64"] as? String == bytes.dropLast().base64EncodedString())
        let raw = try flywheel(["quarantine", "--db", db, "--raw", "1"])
        #expect(raw.stdoutBytes == bytes.dropLast())
    }

    @Test func demoBuildsAndRefusesToReplaceARealDatabase() throws {
        let dir = tempDir()
        let real = dir + "/real.sqlite"
        try flywheel(["ingest", "--db", real, "-"], stdin: Data(good[0].utf8))
        let refused = try flywheel(["demo", "--db", real])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("not a demo database"))
        let demo = dir + "/demo.sqlite"
        let first = try flywheel(["demo", "--db", demo])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("turns"))
        let again = try flywheel(["demo", "--db", demo])  // rebuilt fresh, not doubled
        #expect(again.status == 0)
        let stats = try lastJSON(try flywheel(["stats", "--json", "--db", demo]).stdout)["tables"] as? [String: Int]
        #expect((stats?["sessions"] ?? 0) >= 400)
        #expect(stats?["quarantine"] == 11)
    }
}

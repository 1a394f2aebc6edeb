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

    @Test func analyzeIsIdempotentAndListingsKeepTheirContract() throws {
        let dir = tempDir()
        let db = dir + "/demo.sqlite"
        #expect(try flywheel(["demo", "--db", db]).status == 0)   // ingests and analyses
        let again = try flywheel(["analyze", "--json", "--db", db])
        #expect(again.status == 0)
        let summary = try lastJSON(again.stdout)
        #expect(summary["new_signals"] as? Int == 0)
        #expect(summary["new_samples"] as? Int == 0)
        let all = try lastJSON(try flywheel(["analyze", "--all", "--json", "--db", db]).stdout)
        #expect((all["sessions"] as? Int ?? 0) > 400)
        #expect(all["new_signals"] as? Int == 0)

        let signals = try flywheel(["signals", "--format", "jsonl", "--db", db]).stdout.split(separator: "\n")
        #expect(signals.count > 100)
        var kinds = Set<String>()
        for line in signals {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            for key in ["request_id", "session_id", "signal", "confidence", "evidence"] { #expect(o[key] != nil, "signal lacks \(key)") }
            let c = o["confidence"] as? Double ?? -1
            #expect(c >= 0 && c <= 1)
            kinds.insert(o["signal"] as? String ?? "")
        }
        #expect(kinds == ["correction", "repeated_question", "slow_response", "error_log"])

        let samples = try flywheel(["samples", "--format", "jsonl", "--db", db]).stdout.split(separator: "\n")
        #expect(samples.count > 100)
        var sources = Set<String>()
        for line in samples {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            for key in ["sample_id", "request_id", "source", "quality", "state", "prompt", "wrong", "correct", "category"] {
                #expect(o.keys.contains(key), "sample lacks \(key)")
            }
            sources.insert(o["source"] as? String ?? "")
            if o["state"] as? String == "needs_answer" { #expect(o["correct"] is NSNull) }
        }
        #expect(sources == ["user_correction", "implicit_correction", "thumbs_down", "error_log"])
        let filtered = try flywheel(["samples", "--state", "needs_answer", "--format", "jsonl", "--db", db]).stdout.split(separator: "\n")
        #expect(!filtered.isEmpty && filtered.count < samples.count)
        #expect(try flywheel(["samples", "--state", "bogus", "--db", db]).status == 64)
        let table = try flywheel(["signals", "--db", db, "--limit", "5"]).stdout
        #expect(table.split(separator: "\n").count == 7)  // header, rule, five rows
    }

    @Test func llmFailuresDoNotStopAnalysisAndTheKeyIsNeverPrinted() throws {
        let dir = tempDir()
        let db = dir + "/demo.sqlite"
        #expect(try flywheel(["demo", "--db", db]).status == 0)
        // Nothing listens on port 9 of loopback: every call fails fast; the run still finishes.
        let r = try flywheel(["analyze", "--db", db, "--all", "--llm-recheck", "--llm-url", "http://127.0.0.1:9", "--llm-timeout", "1", "--llm-attempts", "1"],
                             env: ["FLYWHEEL_LLM_API_KEY": "sk-secret-should-not-appear"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("failed"))
        #expect(!(r.stdout + r.stderr).contains("sk-secret-should-not-appear"))
        let samples = try flywheel(["samples", "--format", "jsonl", "--source", "implicit_correction", "--db", db]).stdout
        #expect(samples.contains("\"status\":\"failed\""))
        #expect(!samples.contains("sk-secret"))
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

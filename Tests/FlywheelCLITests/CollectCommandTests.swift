import Foundation
import FlywheelStore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `flywheel collect` as a user runs it: the real binary, real files, real signals, HTTP on 127.0.0.1.
@Suite(.serialized) struct CollectCommandTests {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("sample-data/events/chat-2026-05-week1.jsonl").path

    /// Starts the binary in the background; the caller signals and waits.
    func start(_ args: [String], stdin: Pipe? = nil) throws -> (Process, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: flywheelBinary())
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "FLYWHEEL_DB")
        env.removeValue(forKey: "FLYWHEEL_TOKEN")
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        p.standardInput = stdin ?? FileHandle.nullDevice
        try p.run()
        return (p, err)
    }

    func eventually(_ what: String, timeout: Double = 20, _ check: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? check()) == true { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        Issue.record("timed out waiting for \(what)")
    }

    @Test func onceIngestsTheInboxAnalysesAndExits() throws {
        let dir = tempDir()
        try FileManager.default.createDirectory(atPath: dir + "/in", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.sample, toPath: dir + "/in/a.jsonl")
        try "not json\n".write(toFile: dir + "/in/b.jsonl", atomically: true, encoding: .utf8)
        try "ignored: not .jsonl\n".write(toFile: dir + "/in/notes.txt", atomically: true, encoding: .utf8)
        let r = try flywheel(["collect", "--once", "--db", dir + "/db.sqlite", "--watch", dir + "/in"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("msg=analysis"))
        let lines = try String(contentsOfFile: Self.sample, encoding: .utf8).split(separator: "\n").count
        let store = try Store.open(path: dir + "/db.sqlite")
        #expect(try store.figures(idleBefore: 0).events == lines)
        #expect(try store.figures(idleBefore: 0).quarantined == 1)
        #expect(try store.signalCountsByKind().isEmpty == false)
        // Again: nothing new, nothing doubled.
        #expect(try flywheel(["collect", "--once", "--db", dir + "/db.sqlite", "--watch", dir + "/in"]).status == 0)
        #expect(try store.figures(idleBefore: 0).events == lines)
    }

    @Test func aPipelineIsIngestedAsItTricklesAndTheCollectorExitsWithIt() throws {
        let dir = tempDir()
        let db = dir + "/db.sqlite"
        let input = Pipe()
        let (p, err) = try start(["collect", "--db", db, "--poll", "0.1", "-"], stdin: input)
        let lines = try String(contentsOfFile: Self.sample, encoding: .utf8).split(separator: "\n")
        input.fileHandleForWriting.write(Data((lines[0] + "\n").utf8))
        // The first line is stored while the producer is still running.
        try eventually("the first trickled line") { try Store.open(path: db).figures(idleBefore: 0).events == 1 }
        input.fileHandleForWriting.write(Data((lines[1...].joined(separator: "\n") + "\n").utf8))
        try input.fileHandleForWriting.close()
        p.waitUntilExit()
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "\(log)")
        #expect(try Store.open(path: db).figures(idleBefore: 0).events == lines.count)
        #expect((try FileManager.default.contentsOfDirectory(atPath: dir + "/stdin-spool")).isEmpty)
    }

    @Test func httpIngestAndAGracefulStop() throws {
        let dir = tempDir()
        let db = dir + "/db.sqlite"
        let port = 20_000 + Int(getpid() % 20_000)
        let (p, err) = try start(["collect", "--db", db, "--listen", "127.0.0.1:\(port)", "--token", "t0ken", "--interval", "3600"])
        defer { if p.isRunning { p.terminate() } }
        let body = try Data(contentsOf: URL(fileURLWithPath: Self.sample)).prefix(4000)
        let complete = body.prefix(through: body.lastIndex(of: 0x0A)!)
        var status = 0
        try eventually("the server to answer") {
            status = try post("http://127.0.0.1:\(port)/v1/events", complete, token: "t0ken").status
            return status == 200
        }
        #expect(try post("http://127.0.0.1:\(port)/v1/events", complete, token: "wrong").status == 401)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "\(log)")
        #expect(log.contains("msg=\"collector stopped\""))
        let n = complete.split(separator: 0x0A).count
        #expect(try Store.open(path: db).figures(idleBefore: 0).events == n)
    }

    @Test func startUpErrorsAreClear() throws {
        let dir = tempDir()
        let open = try flywheel(["collect", "--db", dir + "/db.sqlite", "--listen", "0.0.0.0:18091"])
        #expect(open.status == 1 && open.stderr.contains("refusing to listen on 0.0.0.0:18091 without a token"))
        let none = try flywheel(["collect", "--db", dir + "/db.sqlite"])
        #expect(none.status == 64 && none.stderr.contains("nothing to collect from"))
        let missing = try flywheel(["collect", "--db", dir + "/db.sqlite", "--watch", dir + "/nope", "--once"])
        #expect(missing.status == 1 && missing.stderr.contains("no such folder"))
    }
}

/// A blocking POST through URLSession.
func post(_ url: String, _ body: Data, token: String?) throws -> (status: Int, body: String) {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = "POST"
    request.httpBody = body
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: (Int, String)?
    nonisolated(unsafe) var failure: Error?
    URLSession.shared.dataTask(with: request) { data, response, error in
        if let error { failure = error } else {
            result = ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self))
        }
        done.signal()
    }.resume()
    done.wait()
    if let failure { throw failure }
    return result!
}

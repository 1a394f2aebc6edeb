import FlywheelStore
import FlywheelTestSupport
import Foundation
import Logging
import Testing
@testable import FlywheelCollect
@testable import FlywheelIngest

// Every test runs a real server on 127.0.0.1, port 0, over a file database, and talks to it with a small
// HTTP/1.1 client on plain sockets (blocking calls run on a thread of their own, never on Swift concurrency's
// pool, which the server's handlers share, nor on GCD's, which on Linux has only as many threads as cores).

@Suite struct HTTPIngestTests {
    static let token = "s3cret-token"
    var ndjson: [UInt8] { Array((specExampleLines.joined(separator: "\n") + "\n").utf8) }

    // MARK: POST /v1/events

    @Test func ndjsonBodyIsStored() async throws {
        try await withServer { s in
            let r = try await s.post(ndjson)
            #expect(r.status == 200)
            #expect(r.header("content-type")?.hasPrefix("application/json") == true)
            let j = try r.json()
            #expect(j["format"] as? String == "ndjson")
            #expect(j["lines"] as? Int == 8)
            #expect(j["ingested"] as? Int == 8)
            #expect(j["duplicates"] as? Int == 0)
            #expect(j["quarantined"] as? Int == 0)
            #expect((j["errors"] as? [Any])?.isEmpty == true)
            #expect(try s.count("events") == 8)
            #expect(try s.count("sessions") == 1)
            #expect(s.metrics.value("flywheel_ingested_events_total") == 8)
        }
    }

    @Test func jsonArrayBodyIsStored() async throws {
        // Pretty-printed across lines, with a byte order mark: still one element per event.
        let body = "\u{FEFF}[\n  " + specExampleLines.joined(separator: ",\n  ") + "\n]\n"
        try await withServer { s in
            let r = try await s.post(Array(body.utf8))
            #expect(r.status == 200)
            let j = try r.json()
            #expect(j["format"] as? String == "json_array")
            #expect(j["lines"] as? Int == 8)
            #expect(j["ingested"] as? Int == 8)
            #expect(try s.count("events") == 8)
        }
    }

    @Test func arrayElementsAreSlicedVerbatim() throws {
        let elements = [#"{"a" : "x,]}\"[" , "b":[1,{"c":2}]}"#, "42", #""s""#, "[ ]", "null"]
        let body = Array((" [ " + elements.joined(separator: " ,\n\t") + " ] \n").utf8)
        let ranges = try body.withUnsafeBytes { try BodySplitter.arrayElements($0).get() }
        #expect(ranges.map { String(decoding: body[$0], as: UTF8.self) } == elements)
        #expect(try Array("[]".utf8).withUnsafeBytes { try BodySplitter.arrayElements($0).get() }.isEmpty)
        for bad in ["[1,", "[1,]", "[,1]", #"["abc]"#, "[{]", "[1] x", "[}]", "[1 2"] {
            let r = Array(bad.utf8).withUnsafeBytes { BodySplitter.arrayElements($0) }
            if case .success(let got) = r {
                // "[1 2" is one element "1 2": the structure holds and the element is quarantined when decoded.
                #expect(bad == "[1 2" && got.count == 1, "\(bad) should not split")
            }
        }
    }

    @Test func goodLinesAreKeptWhenSomeAreBad() async throws {
        var body: [UInt8] = Array((specExampleLines[0] + "\n").utf8)
        body += Array("{not json\n\n".utf8)
        body += Array(#"{"type":"turn","event_id":"x1"}"# .utf8) + [0x0A]
        body += [0xFF, 0xFE, 0x00, 0x41, 0x0D, 0x0A]
        body += Array((specExampleLines[1] + "\r\n").utf8)
        try await withServer { s in
            let r = try await s.post(body)
            #expect(r.status == 207)
            let j = try r.json()
            #expect(j["lines"] as? Int == 6)
            #expect(j["blank"] as? Int == 1)
            #expect(j["ingested"] as? Int == 2)
            #expect(j["quarantined"] as? Int == 3)
            let errors = try #require(j["errors"] as? [[String: Any]])
            #expect(errors.map { $0["line"] as? Int } == [2, 4, 5])
            #expect(errors.map { $0["kind"] as? String } == ["not_json", "missing_field", "not_utf8"])
            #expect(errors.allSatisfy { ($0["message"] as? String)?.isEmpty == false })
            #expect(try s.count("events") == 2)
            let q = try s.store.quarantineEntries(limit: 10)
            #expect(q.map(\.source) == ["http", "http", "http"])
            #expect(q.map(\.line) == [2, 4, 5])
            #expect(q[2].raw == [0xFF, 0xFE, 0x00, 0x41])
            #expect(s.metrics.value("flywheel_quarantined_lines_total") == 3)
            #expect(s.metrics.value("flywheel_http_rejected_total") == 0)
        }
    }

    @Test func badArrayElementsAreQuarantinedByPosition() async throws {
        let body = "[" + specExampleLines[0] + #", 42, {"type":"nope","event_id":"n1","ts":"2026-05-01T00:00:00Z"}, "# + specExampleLines[2] + "]"
        try await withServer { s in
            let r = try await s.post(Array(body.utf8))
            #expect(r.status == 207)
            let j = try r.json()
            #expect(j["lines"] as? Int == 4)
            #expect(j["ingested"] as? Int == 2)
            let errors = try #require(j["errors"] as? [[String: Any]])
            #expect(errors.map { $0["line"] as? Int } == [2, 3])
            #expect(errors.map { $0["kind"] as? String } == ["not_object", "unknown_type"])
            let q = try s.store.quarantineEntries(limit: 10)
            #expect(q.map { String(decoding: $0.raw, as: UTF8.self) } == ["42", #"{"type":"nope","event_id":"n1","ts":"2026-05-01T00:00:00Z"}"#])
        }
    }

    @Test func aBrokenArrayIs400AndKeptWhole() async throws {
        let body = Array(("[" + specExampleLines[0] + ", {\"type\":\"turn\",\"content\":\"unterminated").utf8)
        try await withServer { s in
            let r = try await s.post(body)
            #expect(r.status == 400)
            let j = try r.json()
            let error = try #require(j["error"] as? String)
            #expect(error.contains("not a JSON array") && error.contains("unterminated string") && error.contains("quarantine"))
            #expect(j["ingested"] as? Int == 0)
            #expect(j["quarantined"] as? Int == 1)
            #expect(try s.count("events") == 0)
            let q = try s.store.quarantineEntries(limit: 10)
            #expect(q.count == 1 && q.first?.raw == body && q.first?.line == 1 && q.first?.reasonKind == "not_json")
            #expect(s.metrics.value("flywheel_http_rejected_total") == 1)
        }
    }

    @Test func bodiesThatAreNotEventsAreQuarantined() async throws {
        try await withServer { s in
            // A JSON object that is not an event: one NDJSON line, quarantined.
            var r = try await s.post(Array(#"{"hello":"world"}"#.utf8))
            #expect(r.status == 207)
            #expect(try r.json()["quarantined"] as? Int == 1)
            // Binary garbage: every line kept, none stored.
            var garbage = [UInt8](repeating: 0, count: 3000)
            var x: UInt32 = 12345
            for i in garbage.indices { x = x &* 1_103_515_245 &+ 12345; garbage[i] = UInt8(truncatingIfNeeded: x >> 16) }
            r = try await s.post(garbage)
            #expect(r.status == 207)
            let j = try r.json()
            #expect(j["ingested"] as? Int == 0)
            let lines = try #require(j["lines"] as? Int)
            let blank = try #require(j["blank"] as? Int)
            #expect(j["quarantined"] as? Int == lines - blank)
            #expect(try s.count("events") == 0)
            // An empty body is fine and stores nothing.
            r = try await s.post([])
            #expect(r.status == 200)
            #expect(try r.json()["lines"] as? Int == 0)
        }
    }

    @Test func rePostingIsIdempotent() async throws {
        try await withServer { s in
            let first = try await s.post(ndjson)
            let second = try await s.post(ndjson)
            #expect(first.status == 200 && second.status == 200)
            let j = try second.json()
            #expect(j["ingested"] as? Int == 0)
            #expect(j["duplicates"] as? Int == 8)
            #expect(try s.count("events") == 8)
            #expect(s.metrics.value("flywheel_duplicate_events_total") == 8)
        }
    }

    @Test func concurrentClientsLoseNothing() async throws {
        try await withServer { s in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for client in 0..<4 {
                    group.addTask {
                        let conn = try TestHTTPConnection(port: s.port)
                        defer { conn.close() }
                        var ingested = 0
                        for b in 0..<5 {
                            let lines = (0..<50).map { i in
                                #"{"type":"session_end","event_id":"c\#(client)-\#(b)-\#(i)","session_id":"c\#(client)","ts":"2026-05-01T00:00:00Z"}"#
                            }
                            let r = try await conn.request("POST", "/v1/events", headers: [("Authorization", "Bearer " + Self.token)],
                                                           body: Array(lines.joined(separator: "\n").utf8))
                            #expect(r.status == 200)
                            ingested += try r.json()["ingested"] as? Int ?? 0
                        }
                        return ingested
                    }
                }
                var total = 0
                for try await n in group { total += n }
                #expect(total == 1000)
            }
            #expect(try s.count("events") == 1000)
            #expect(try s.count("sessions") == 4)
        }
    }

    @Test func overLongLinesAreQuarantinedByTheirPrefix() async throws {
        try await withServer(ingestOptions: .init(maxLineBytes: 100)) { s in
            let long = #"{"type":"error_log","event_id":"long","kind":"timeout","detail":""# + String(repeating: "x", count: 300) + #"","ts":"2026-05-01T00:00:00Z"}"#
            let r = try await s.post(Array((specExampleLines[2] + "\n" + long + "\n").utf8))
            #expect(r.status == 207)
            let errors = try #require(try r.json()["errors"] as? [[String: Any]])
            #expect(errors.map { $0["kind"] as? String } == ["too_long"])
            #expect(errors.map { $0["line"] as? Int } == [2])
            #expect(try s.store.quarantineEntries(limit: 1).first?.raw.count == 100)
            // The same in a JSON array: the element is cut, its neighbours are stored.
            let a = try await s.post(Array(("[" + #"{"type":"session_end","event_id":"e2","session_id":"s2","ts":"2026-05-01T00:00:00Z"}"# + "," + long.replacingOccurrences(of: "\"long\"", with: "\"long2\"") + "]").utf8))
            #expect(a.status == 207)
            let j = try a.json()
            #expect(j["ingested"] as? Int == 1)
            #expect((j["errors"] as? [[String: Any]])?.first?["line"] as? Int == 2)
        }
    }

    @Test func imageRefsFromClientsStayInsideTheImageFolder() throws {
        let dir = NSTemporaryDirectory() + "flywheel-http-images-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 2, 0, 0, 0, 3, 8, 2, 0, 0, 0]
        FileManager.default.createFile(atPath: dir + "/sub/a.png", contents: Data(png))
        let images = ConfinedImages(directory: dir + "/sub", imageRoot: nil)
        #expect(images.resolve(.init(ref: "a.png")).status == .present)
        for ref in ["../sub/a.png", dir + "/sub/a.png", "x/../../sub/a.png"] {
            let r = images.resolve(.init(ref: ref, sha256: "abc"))
            #expect(r.status == .missing && r.path == nil && r.sha256 == "abc", "\(ref)")
        }
        #expect(ConfinedImages(directory: nil, imageRoot: nil).resolve(.init(ref: "a.png")).path == nil)
        #expect(images.resolve(.init(ref: "https://example.com/a.png")).status == .url)
    }

    // MARK: Limits and authentication

    @Test func oversizeBodiesAre413AndNothingIsStored() async throws {
        try await withServer(maxBodyBytes: 1024) { s in
            var big: [UInt8] = []
            while big.count <= 1024 { big += ndjson }
            // Declared too large by Content-Length: refused before the body is read.
            let r = try await s.post(big)
            #expect(r.status == 413)
            #expect(try r.json()["error"] as? String != nil)
            // Chunked, no length: refused once the limit is passed.
            let c = try await s.send("POST", "/v1/events", token: Self.token, body: big, chunked: true)
            #expect(c.status == 413)
            // The connection still works (the rest of the body was drained) and a small body goes through.
            let small = try await s.post(Array((specExampleLines[0] + "\n").utf8))
            #expect(small.status == 200)
            #expect(try s.count("events") == 1)
            #expect(try s.store.quarantineEntries(limit: 10).isEmpty)
            #expect(s.metrics.value("flywheel_http_rejected_total") == 2)
        }
    }

    @Test func aMissingOrWrongTokenIs401AndNothingIsStored() async throws {
        try await withServer { s in
            for token in [nil, "wrong", Self.token + "x", ""] as [String?] {
                let r = try await s.send("POST", "/v1/events", token: token, body: ndjson)
                #expect(r.status == 401, "token \(token ?? "none")")
                #expect(r.header("www-authenticate")?.hasPrefix("Bearer") == true)
                #expect(try r.json()["error"] as? String != nil)
            }
            let basic = try await s.send("POST", "/v1/events", headers: [("Authorization", "Basic dXNlcjpwYXNz")], body: ndjson)
            #expect(basic.status == 401)
            #expect(try await s.send("GET", "/metrics", token: nil).status == 401)
            #expect(try await s.send("GET", "/metrics", token: "wrong").status == 401)
            #expect(try await s.send("GET", "/nowhere", token: nil).status == 401)
            #expect(try s.count("events") == 0)
            #expect(try s.store.quarantineEntries(limit: 10).isEmpty)
            #expect(s.metrics.value("flywheel_http_rejected_total") == 8)
            // The scheme is case-insensitive; the token is not.
            let lower = try await s.send("POST", "/v1/events", headers: [("Authorization", "bearer " + Self.token)], body: ndjson)
            #expect(lower.status == 200)
        }
    }

    @Test func healthzNeedsNoToken() async throws {
        try await withServer { s in
            let r = try await s.send("GET", "/healthz", token: nil)
            #expect(r.status == 200)
            #expect(try r.json()["status"] as? String == "ok")
            #expect(try await s.send("GET", "/nowhere", token: Self.token).status == 404)
        }
    }

    @Test func metricsShowCountersAndStoreFigures() async throws {
        try await withServer { s in
            _ = try await s.post(ndjson + Array("oops\n".utf8))
            _ = try await s.send("POST", "/v1/events", token: "wrong", body: ndjson)
            let r = try await s.send("GET", "/metrics", token: Self.token)
            #expect(r.status == 200)
            #expect(r.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = r.text
            for line in ["flywheel_ingested_events_total 8", "flywheel_quarantined_lines_total 1", "flywheel_duplicate_events_total 0",
                         "flywheel_http_rejected_total 1", "flywheel_http_requests_total 2", "flywheel_events 8", "flywheel_quarantine_lines 1",
                         "flywheel_sessions 1", "flywheel_llm_calls_total 0", "flywheel_llm_failures_total 0",
                         "# TYPE flywheel_analysis_lag_seconds gauge", "# TYPE flywheel_samples gauge", "# TYPE flywheel_signals gauge",
                         "flywheel_end_users_flagged 0", "flywheel_reservations 0"] {
                #expect(text.split(separator: "\n").contains { $0 == line }, "missing \(line)")
            }
            // The spec's session ended, so it awaits analysis and the lag is its age.
            #expect(text.contains("flywheel_sessions_awaiting_analysis 1"))
        }
    }

    @Test func manyRequestsShareOneKeepAliveConnection() async throws {
        try await withServer { s in
            let conn = try TestHTTPConnection(port: s.port)
            defer { conn.close() }
            for i in 0..<20 {
                let line = #"{"type":"session_end","event_id":"k\#(i)","session_id":"k\#(i)","ts":"2026-05-01T00:00:00Z"}"#
                let r = try await conn.request("POST", "/v1/events", headers: [("Authorization", "Bearer " + Self.token)], body: Array(line.utf8))
                #expect(r.status == 200)
            }
            #expect(try s.count("events") == 20)
        }
    }

    // MARK: Configuration and lifecycle

    @Test func nonLoopbackWithoutATokenIsRefused() throws {
        let store = try Store.inMemory()
        for host in ["0.0.0.0", "::", "192.168.1.5", "example.com"] {
            let config = HTTPIngestConfiguration(host: host, port: 8080, token: nil)
            #expect(throws: HTTPIngestConfigurationError.self) { try HTTPIngestServer(configuration: config, store: store, metrics: CollectorMetrics()) }
        }
        do {
            _ = try HTTPIngestServer(configuration: .init(host: "0.0.0.0", port: 8080), store: store, metrics: CollectorMetrics())
            Issue.record("should refuse")
        } catch let e as HTTPIngestConfigurationError {
            #expect(e == .tokenRequired(address: "0.0.0.0:8080"))
            #expect(e.description.hasPrefix("refusing to listen on 0.0.0.0:8080 without a token: pass --token or set FLYWHEEL_TOKEN"))
        }
        #expect(throws: HTTPIngestConfigurationError.emptyToken) { try HTTPIngestConfiguration(host: "0.0.0.0", token: "").validate() }
        try HTTPIngestConfiguration(host: "0.0.0.0", port: 8080, token: "t").validate()
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"] {
            #expect(HTTPIngestConfiguration.isLoopback(host), "\(host)")
            try HTTPIngestConfiguration(host: host, token: nil).validate()
        }
        #expect(!HTTPIngestConfiguration.isLoopback("128.0.0.1"))
    }

    @Test func listenAddressesAndTokensParse() throws {
        #expect(try HTTPIngestConfiguration.parseListenAddress("0.0.0.0:8080") == ("0.0.0.0", 8080))
        #expect(try HTTPIngestConfiguration.parseListenAddress("[::1]:0") == ("::1", 0))
        #expect(try HTTPIngestConfiguration.parseListenAddress("localhost:9") == ("localhost", 9))
        for bad in ["8080", ":8080", "host:", "host:70000", "::1:80", "[::1]8080", "h:x"] {
            #expect(throws: HTTPIngestConfigurationError.invalidListenAddress(bad)) { try HTTPIngestConfiguration.parseListenAddress(bad) }
        }
        #expect(HTTPIngestConfiguration.resolveToken(flag: "a", environment: ["FLYWHEEL_TOKEN": "b"]) == "a")
        #expect(HTTPIngestConfiguration.resolveToken(flag: nil, environment: ["FLYWHEEL_TOKEN": "b"]) == "b")
        #expect(HTTPIngestConfiguration.resolveToken(flag: nil, environment: ["FLYWHEEL_TOKEN": ""]) == nil)
        let c = try HTTPIngestConfiguration(listen: "0.0.0.0:7000", token: nil, environment: ["FLYWHEEL_TOKEN": "env"])
        #expect(c.host == "0.0.0.0" && c.port == 7000 && c.token == "env")
    }

    @Test func onListeningGetsThePortAndCancellingStopsTheServer() async throws {
        let store = try Store.inMemory()
        let seen = LockedBox<Int?>(nil)
        let server = try HTTPIngestServer(configuration: .init(host: "127.0.0.1", port: 0), store: store, metrics: CollectorMetrics(),
                                          logger: quietLogger(), onListening: { seen.value = $0 })
        let task = Task { try await server.run() }
        let port = try await server.listeningPort()
        #expect(seen.value == port && port > 0)
        // No token configured (loopback): routes are open.
        #expect(try await RunningServer(port: port, store: store, metrics: CollectorMetrics()).send("GET", "/metrics").status == 200)
        task.cancel()
        try await task.value
        #expect(throws: (any Error).self) { try TestHTTPConnection(port: port) }
        await #expect(throws: HTTPIngestServerError.alreadyRunning) { try await server.run() }
    }

    @Test func aTakenPortFailsRunAndListeningPort() async throws {
        try await withServer { s in
            let store = try Store.inMemory()
            let second = try HTTPIngestServer(configuration: .init(host: "127.0.0.1", port: s.port), store: store,
                                              metrics: CollectorMetrics(), logger: quietLogger())
            await #expect(throws: (any Error).self) { try await second.run() }
            await #expect(throws: HTTPIngestServerError.self) { try await second.listeningPort() }
        }
    }
}

// MARK: - Harness

func quietLogger() -> Logger {
    var logger = Logger(label: "flywheel.http.test")
    logger.logLevel = .critical
    return logger
}

struct RunningServer {
    var port: Int
    var store: Store
    var metrics: CollectorMetrics

    func send(_ method: String, _ path: String, token: String? = nil, headers: [(String, String)] = [], body: [UInt8] = [],
              chunked: Bool = false) async throws -> TestHTTPResponse {
        var h = headers
        if let token { h.append(("Authorization", "Bearer " + token)) }
        let conn = try TestHTTPConnection(port: port)
        defer { conn.close() }
        return try await conn.request(method, path, headers: h, body: body, chunked: chunked)
    }

    func post(_ body: [UInt8]) async throws -> TestHTTPResponse {
        try await send("POST", "/v1/events", token: HTTPIngestTests.token, headers: [("Content-Type", "application/x-ndjson")], body: body)
    }

    func count(_ table: String) throws -> Int {
        try store.tableCounts().first { $0.table == table }?.count ?? -1
    }
}

/// Starts a server on 127.0.0.1:0 over a fresh file database, runs `body`, then cancels the server and
/// waits for `run()` to return.
func withServer(token: String? = HTTPIngestTests.token, maxBodyBytes: Int = HTTPIngestConfiguration.defaultMaxBodyBytes,
                ingestOptions: Ingestor.Options = .init(), _ body: (RunningServer) async throws -> Void) async throws {
    let dir = NSTemporaryDirectory() + "flywheel-http-test-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let store = try Store.open(path: dir + "/db.sqlite")
    let metrics = CollectorMetrics()
    let config = HTTPIngestConfiguration(host: "127.0.0.1", port: 0, token: token, maxBodyBytes: maxBodyBytes,
                                         ingestOptions: ingestOptions, imageDirectory: dir)
    let server = try HTTPIngestServer(configuration: config, store: store, metrics: metrics, logger: quietLogger())
    let task = Task { try await server.run() }
    do {
        let port = try await server.listeningPort()
        try await body(RunningServer(port: port, store: store, metrics: metrics))
    } catch {
        task.cancel()
        _ = try? await task.value
        throw error
    }
    task.cancel()
    try await task.value
}

final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var v: T
    init(_ v: T) { self.v = v }
    var value: T {
        get { lock.lock(); defer { lock.unlock() }; return v }
        set { lock.lock(); v = newValue; lock.unlock() }
    }
}

struct TestHTTPResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    func json() throws -> [String: Any] {
        guard let v = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { throw POSIXError(.EBADMSG) }
        return v
    }
}

/// One keep-alive HTTP/1.1 connection on a blocking socket. Each request runs on a thread of its own.
final class TestHTTPConnection: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { Foundation.close(fd); throw POSIXError(.ECONNREFUSED) }
    }

    func close() { Foundation.close(fd) }

    func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [],
                 chunked: Bool = false) async throws -> TestHTTPResponse {
        try await withCheckedThrowingContinuation { c in
            Thread {
                c.resume(with: Result { try self.blockingRequest(method, path, headers: headers, body: body, chunked: chunked) })
            }.start()
        }
    }

    private func blockingRequest(_ method: String, _ path: String, headers: [(String, String)], body: [UInt8],
                                 chunked: Bool) throws -> TestHTTPResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if chunked {
            head += "Transfer-Encoding: chunked\r\n\r\n"
        } else if method == "POST" || !body.isEmpty {
            head += "Content-Length: \(body.count)\r\n\r\n"
        } else {
            head += "\r\n"
        }
        // Head and body in one write: two small writes would wait for a delayed ACK (Nagle).
        if chunked {
            try writeAll(Array(head.utf8))
            var i = 0
            while i < body.count {
                let piece = body[i..<min(i + 500, body.count)]
                try writeAll(Array((String(piece.count, radix: 16) + "\r\n").utf8) + piece + [0x0D, 0x0A])
                i += piece.count
            }
            try writeAll(Array("0\r\n\r\n".utf8))
        } else {
            try writeAll(Array(head.utf8) + body)
        }
        return try readResponse()
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        var off = 0
        try bytes.withUnsafeBytes { b in
            while off < b.count {
                let n = send(fd, b.baseAddress! + off, b.count - off, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    // The server may answer (413, 401) and stop reading before the body is sent: read its answer.
                    if errno == EPIPE || errno == ECONNRESET { return }
                    throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
                }
                off += n
            }
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw POSIXError(n == 0 ? .ECONNRESET : (POSIXErrorCode(rawValue: errno) ?? .EIO)) }
        buffer += chunk[0..<n]
    }

    private func readResponse() throws -> TestHTTPResponse {
        let crlf2: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]
        var headEnd: Int?
        while headEnd == nil {
            if buffer.count >= 4 {
                headEnd = (0...(buffer.count - 4)).first { buffer[$0..<($0 + 4)].elementsEqual(crlf2) }
            }
            if headEnd == nil { try fill() }
        }
        let headText = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw POSIXError(.EBADMSG) }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        while buffer.count < length { try fill() }
        let body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return TestHTTPResponse(status: status, headers: headers, body: body)
    }
}

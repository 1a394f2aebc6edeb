// flywheel-bench http: the HTTP ingest server under load, on loopback.
//
//   flywheel-bench http [--events N] [--batch B] [--clients C] [--workdir DIR] [--keep]
//
// Starts the collector's HTTP ingest server in this process (127.0.0.1, any free port, bearer token on,
// one log line per request, counted but not printed) over a fresh database file, then C client threads,
// each on one keep-alive connection, POST NDJSON batches of B generated turn events (mixed Chinese and
// English sessions, unique event ids) until N events are sent. Request bodies are built before the clock
// starts, so the clients cost a write and a read per batch. Each answer must be 200 with "ingested":B.
// Prints events/s over the whole run, latency per batch (p50, p99, max: from the request's first byte
// written to the answer's last byte read), peak RSS of this process (VmHWM: server, clients and the
// pre-built bodies together), and PASS/MISS against 50,000 events/s.
import FlywheelCollect
import FlywheelCore
import FlywheelStore
import Foundation
import Logging

enum HTTPBench {
    static let targetEventsPerSecond = 50_000.0
}

func httpBenchmark(_ args: [String]) throws {
    func intArg(_ name: String, _ fallback: Int) throws -> Int {
        guard let text = argValue(name, args) else { return fallback }
        guard let v = Int(text.replacingOccurrences(of: "_", with: "")), v > 0 else { throw BenchError("\(name) needs a positive number") }
        return v
    }
    let total = try intArg("--events", 200_000)
    let batch = try intArg("--batch", 500)
    let clients = try intArg("--clients", 4)
    let work = argValue("--workdir", args) ?? NSTemporaryDirectory() + "/flywheel-bench-http-\(getpid())"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { if !args.contains("--keep") { try? FileManager.default.removeItem(atPath: work) } }
    let dbPath = work + "/http.sqlite"
    for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dbPath + s) }

    let token = "bench-\(UInt64.random(in: 0...UInt64.max))"
    let bodies = httpBenchBodies(events: total, batch: batch)
    let warmup = httpBenchBodies(events: clients * 20, batch: 20, idPrefix: "w")
    let bodyBytes = bodies.reduce(0) { $0 + $1.count }

    let store = try Store.open(path: dbPath)
    let metrics = CollectorMetrics()
    let logLines = LineCounter()
    var logger = Logger(label: "flywheel.http") { _ in CountingLogHandler(counter: logLines) }
    logger.logLevel = .info
    let config = HTTPIngestConfiguration(host: "127.0.0.1", port: 0, token: token, imageDirectory: nil)
    let server = try HTTPIngestServer(configuration: config, store: store, metrics: metrics, logger: logger)
    let serverTask = Task { try await server.run() }
    defer {
        serverTask.cancel()
        _ = try? blockingWait { try await serverTask.value }
    }
    let port = try blockingWait { try await server.listeningPort() }

    print("HTTP ingest benchmark: \(total) turn events in NDJSON batches of \(batch), \(clients) keep-alive clients on 127.0.0.1:\(port)")
    print("database: \(dbPath) (fresh); bodies: \(fmt(Double(bodyBytes) / 1e6, 1)) MB, built before timing")
    // Warm-up: every client connects and posts a small batch first (not timed).
    let connections = try (0..<clients).map { _ in try BenchHTTPConnection(port: port, token: token) }
    for (i, c) in connections.enumerated() {
        let r = try c.post(warmup[i])
        guard r.status == 200 else { throw BenchError("warm-up POST answered \(r.status): \(r.body)") }
    }

    let run = BenchRun(batches: bodies.count)
    let expected = "\"ingested\":\(batch),"
    var usageBefore = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usageBefore)
    let started = DispatchTime.now().uptimeNanoseconds
    let done = DispatchSemaphore(value: 0)
    for conn in connections {
        Thread {
            var mine: [Double] = []
            while let i = run.nextBatch() {
                let t0 = DispatchTime.now().uptimeNanoseconds
                do {
                    let r = try conn.post(bodies[i])
                    let t1 = DispatchTime.now().uptimeNanoseconds
                    let partialLast = i == bodies.count - 1 && total % batch != 0
                    guard r.status == 200, partialLast || r.body.contains(expected) else {
                        run.fail("batch \(i) answered \(r.status): \(r.body.prefix(300))")
                        break
                    }
                    mine.append(Double(t1 - t0) / 1e6)
                } catch {
                    run.fail("batch \(i): \(error)")
                    break
                }
            }
            run.add(latencies: mine)
            done.signal()
        }.start()
    }
    for _ in connections { done.wait() }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    var usageAfter = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usageAfter)
    for c in connections { c.close() }
    if let failure = run.failure { throw BenchError(failure) }
    let latencies = run.latencies.sorted()

    let stored = try store.tableCounts().first { $0.table == "events" }?.count ?? 0
    guard stored == total + warmup.count * 20 else { throw BenchError("\(stored) events stored, expected \(total + warmup.count * 20)") }
    func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int((p * Double(latencies.count)).rounded(.up)) - 1)] }
    let rate = Double(total) / seconds
    func cpu(_ u: rusage) -> Double { Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6 }
    let cpuSeconds = cpu(usageAfter) - cpu(usageBefore)
    print("")
    print("events/s        \(fmt(rate).leftPadded(to: 9))   (\(total) events in \(fmt(seconds, 2)) s; target >= \(fmt(HTTPBench.targetEventsPerSecond))): \(rate >= HTTPBench.targetEventsPerSecond ? "PASS" : "MISS")")
    print("batches/s       \(fmt(Double(latencies.count) / seconds).leftPadded(to: 9))")
    print("latency p50     \(fmt(percentile(0.50), 1).leftPadded(to: 9)) ms per batch of \(batch)")
    print("latency p99     \(fmt(percentile(0.99), 1).leftPadded(to: 9)) ms")
    print("latency max     \(fmt(latencies.last ?? 0, 1).leftPadded(to: 9)) ms")
    print("CPU             \(fmt(cpuSeconds, 2).leftPadded(to: 9)) s (server and clients, \(fmt(cpuSeconds / seconds * 100))% of one core; \(ProcessInfo.processInfo.activeProcessorCount) cores)")
    print("peak RSS        \(fmt(peakRSSMB() ?? .nan, 1).leftPadded(to: 9)) MB (this process: server, clients, \(fmt(Double(bodyBytes) / 1e6, 1)) MB of pre-built bodies)")
    print("server log      \(String(logLines.value).leftPadded(to: 9)) lines (one per request, counted not printed)")
    print("stored          \(String(stored).leftPadded(to: 9)) events (\(warmup.count * 20) from the warm-up)")
}

/// NDJSON bodies of `batch` turn events each, `events` in all: sessions of 2-8 turns, 55% Chinese.
func httpBenchBodies(events n: Int, batch: Int, idPrefix: String = "h") -> [[UInt8]] {
    var g = Generator()
    var bodies: [[UInt8]] = []
    var current = ""
    current.reserveCapacity(batch * 300)
    var inBatch = 0
    g.turns(n, sessionPrefix: idPrefix) { turn in
        current += turn.json + "\n"
        inBatch += 1
        if inBatch == batch {
            bodies.append(Array(current.utf8))
            current.removeAll(keepingCapacity: true)
            inBatch = 0
        }
    }
    if inBatch > 0 { bodies.append(Array(current.utf8)) }
    return bodies
}

/// Runs an async call from synchronous code (the benchmark's main thread) and waits for it.
func blockingWait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox<T>()
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

/// What the client threads share: the next batch to send, their latencies, the first failure.
final class BenchRun: @unchecked Sendable {
    private let lock = NSLock()
    private let batches: Int
    private var next = 0
    private(set) var latencies: [Double] = []
    private(set) var failure: String?

    init(batches: Int) { self.batches = batches }

    func nextBatch() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard failure == nil, next < batches else { return nil }
        next += 1
        return next - 1
    }

    func fail(_ why: String) {
        lock.lock(); if failure == nil { failure = why }; lock.unlock()
    }

    func add(latencies l: [Double]) {
        lock.lock(); latencies += l; lock.unlock()
    }
}

final class LineCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

/// A log handler that formats nothing and prints nothing: it counts, so the server's logging calls still run.
struct CountingLogHandler: LogHandler {
    let counter: LineCounter
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        counter.add()
    }
}

/// One keep-alive HTTP/1.1 connection on a blocking socket with TCP_NODELAY: each POST is one write of
/// head and body, and one or a few reads of the answer.
final class BenchHTTPConnection: @unchecked Sendable {
    struct Answer {
        var status: Int
        var body: String
    }

    private let fd: Int32
    private let head: String
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var filled = 0

    init(port: Int, token: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { Foundation.close(fd); throw BenchError("connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }
        self.fd = fd
        head = "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/x-ndjson\r\n"
    }

    func close() { Foundation.close(fd) }

    func post(_ body: [UInt8]) throws -> Answer {
        var request = Array((head + "Content-Length: \(body.count)\r\n\r\n").utf8)
        request += body
        try request.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = send(fd, b.baseAddress! + off, b.count - off, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw BenchError("send: \(String(cString: strerror(errno)))")
                }
                off += n
            }
        }
        return try readAnswer()
    }

    private func readAnswer() throws -> Answer {
        var headEnd = -1
        var scanned = 0
        while headEnd < 0 {
            if filled >= 4 {
                for i in max(0, scanned - 3)..<(filled - 3) where buffer[i] == 0x0D && buffer[i + 1] == 0x0A && buffer[i + 2] == 0x0D && buffer[i + 3] == 0x0A {
                    headEnd = i
                    break
                }
                scanned = filled
            }
            if headEnd < 0 { try fill() }
        }
        let headText = String(decoding: buffer[0..<headEnd], as: UTF8.self)
        let statusLine = headText.prefix { $0 != "\r" }.split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw BenchError("bad status line: \(headText.prefix(80))") }
        var length = 0
        for line in headText.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
            length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        let bodyStart = headEnd + 4
        while filled < bodyStart + length { try fill() }
        let body = String(decoding: buffer[bodyStart..<(bodyStart + length)], as: UTF8.self)
        let used = bodyStart + length
        buffer.withUnsafeMutableBytes { b in _ = memmove(b.baseAddress!, b.baseAddress! + used, filled - used) }
        filled -= used
        return Answer(status: status, body: body)
    }

    private func fill() throws {
        if filled == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + filled, $0.count - filled, 0) }
        if n <= 0 { throw BenchError(n == 0 ? "the server closed the connection" : "recv: \(String(cString: strerror(errno)))") }
        filled += n
    }
}

// HTTP ingest (Hummingbird): producers POST events, monitoring reads /healthz and /metrics.
//
//   POST /v1/events   a JSON array of events, or NDJSON (one event a line). Bearer token. The format is told
//                     by the body (first byte "[" after whitespace: array), not by Content-Type. One body is
//                     one transaction: all of its records are accounted for, or none.
//                     200  every record stored (or a duplicate of a stored event_id: re-posting is a no-op)
//                     207  some records (possibly all) were quarantined, the good ones stored; `errors` lists
//                          the bad ones. A 2xx: nothing to resend, the bad records wait in the quarantine.
//                     400  the body starts with "[" but is not a JSON array; kept whole in the quarantine
//                     401  missing or wrong token (WWW-Authenticate: Bearer)
//                     413  body over `maxBodyBytes` (by Content-Length, or while reading a chunked body);
//                          nothing stored (the rest is read and dropped, so the connection stays usable)
//                     500  the store failed; nothing of the body was stored, the producer should retry
//                     curl sends `Expect: 100-continue` for bodies over 1 MiB, which Hummingbird does not
//                     answer: curl then waits 1 s before sending. `curl -H 'Expect:'` avoids the wait.
//   GET /healthz      200 {"status":"ok"}, no token needed
//   GET /metrics      Prometheus text format 0.0.4. Bearer token.
// Every other route is 404 (Hummingbird's router does not answer 405), after the token check.
//
// The answer to a POST has the field names of `flywheel ingest --json`:
//   {"format":"ndjson","lines":3,"blank":0,"ingested":2,"duplicates":0,"quarantined":1,
//    "errors":[{"line":2,"kind":"not_json","message":"..."}]}
// Note that `errors` here lists the quarantined records (line numbers are 1-based lines of an NDJSON body,
// or 1-based element positions of a JSON array); in `ingest --json` it counts unreadable inputs.
// At most 1,000 are listed; `errors_omitted` says how many more there were.
import FlywheelCore
import FlywheelIngest
import FlywheelStore
import Foundation
import Hummingbird
import Logging

/// Where and how the HTTP ingest server listens.
public struct HTTPIngestConfiguration: Sendable {
    /// Address to bind: an IP address or a host name. Anything but a loopback address needs a token.
    public var host: String
    /// Port to bind; 0 picks any free port (see `HTTPIngestServer.listeningPort()`).
    public var port: Int
    /// The bearer token every route but /healthz requires; nil turns authentication off (loopback only).
    public var token: String?
    /// Bodies larger than this are answered 413 without being stored.
    public var maxBodyBytes: Int
    /// How long a session must be idle to count as completed, for /metrics' analysis lag (milliseconds; the
    /// collector's `--idle`).
    public var sessionIdleMs: Int64
    /// Batch and line limits, and `imageRoot` for relative image refs.
    public var ingestOptions: Ingestor.Options
    /// Relative image refs in posted events are looked up here (absolute refs and refs with `..` never are);
    /// nil reads no image files.
    public var imageDirectory: String?

    public static let defaultMaxBodyBytes = 16 << 20
    /// The environment variable that holds the token when no `--token` is given.
    public static let tokenEnvironmentVariable = "FLYWHEEL_TOKEN"

    public init(host: String = "127.0.0.1", port: Int = 8080, token: String? = nil,
                maxBodyBytes: Int = HTTPIngestConfiguration.defaultMaxBodyBytes, sessionIdleMs: Int64 = 30 * 60 * 1000,
                ingestOptions: Ingestor.Options = Ingestor.Options(),
                imageDirectory: String? = FileManager.default.currentDirectoryPath) {
        self.host = host
        self.port = port
        self.token = token
        self.maxBodyBytes = maxBodyBytes
        self.sessionIdleMs = sessionIdleMs
        self.ingestOptions = ingestOptions
        self.imageDirectory = imageDirectory
    }

    /// From `--listen HOST:PORT` (`[::1]:8080` for IPv6) and `--token`, falling back to `FLYWHEEL_TOKEN`.
    public init(listen: String, token: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let (host, port) = try Self.parseListenAddress(listen)
        self.init(host: host, port: port, token: Self.resolveToken(flag: token, environment: environment))
    }

    /// `--token` wins; else a non-empty `FLYWHEEL_TOKEN`; else nil.
    public static func resolveToken(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let flag { return flag }
        if let env = environment[tokenEnvironmentVariable], !env.isEmpty { return env }
        return nil
    }

    /// Splits `HOST:PORT`; IPv6 hosts go in brackets (`[::1]:8080`).
    public static func parseListenAddress(_ s: String) throws(HTTPIngestConfigurationError) -> (host: String, port: Int) {
        let host: Substring, portText: Substring
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]"), s[s.index(after: close)...].hasPrefix(":") else {
                throw .invalidListenAddress(s)
            }
            host = s[s.index(after: s.startIndex)..<close]
            portText = s[s.index(close, offsetBy: 2)...]
        } else {
            guard let colon = s.lastIndex(of: ":"), !s[..<colon].contains(":") else { throw .invalidListenAddress(s) }
            host = s[..<colon]
            portText = s[s.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { throw .invalidListenAddress(s) }
        return (String(host), port)
    }

    /// True for `localhost`, 127.0.0.0/8, `::1` and IPv4-mapped 127.x addresses.
    public static func isLoopback(_ host: String) -> Bool {
        var h = host
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if h.lowercased() == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, h, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, h, &v6) == 1 else { return false }
        let b = withUnsafeBytes(of: v6) { Array($0) }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true }
        return b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF && b[12] == 127
    }

    /// Refuses settings the server must not start with, above all a non-loopback address without a token.
    public func validate() throws(HTTPIngestConfigurationError) {
        guard (0...65535).contains(port) else { throw .invalidListenAddress("\(host):\(port)") }
        if let token, token.isEmpty { throw .emptyToken }
        if token == nil && !Self.isLoopback(host) { throw .tokenRequired(address: displayAddress) }
        guard maxBodyBytes > 0 else { throw .invalidMaxBodyBytes(maxBodyBytes) }
    }

    var displayAddress: String { host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

public enum HTTPIngestConfigurationError: Error, Equatable, CustomStringConvertible {
    case tokenRequired(address: String)
    case emptyToken
    case invalidListenAddress(String)
    case invalidMaxBodyBytes(Int)

    public var description: String {
        switch self {
        case .tokenRequired(let address):
            return "refusing to listen on \(address) without a token: pass --token or set \(HTTPIngestConfiguration.tokenEnvironmentVariable)"
                + " (only loopback addresses such as 127.0.0.1 may go without one)"
        case .emptyToken:
            return "the token is empty: pass a non-empty --token or \(HTTPIngestConfiguration.tokenEnvironmentVariable)"
        case .invalidListenAddress(let s):
            return "cannot listen on \"\(s)\": expected HOST:PORT with a port from 0 to 65535 (IPv6 as [::1]:8080)"
        case .invalidMaxBodyBytes(let n):
            return "the body size limit must be positive, not \(n)"
        }
    }
}

public enum HTTPIngestServerError: Error, Equatable, CustomStringConvertible {
    case alreadyRunning
    case stoppedBeforeListening(String)

    public var description: String {
        switch self {
        case .alreadyRunning: return "the HTTP ingest server is already running"
        case .stoppedBeforeListening(let why): return "the HTTP ingest server stopped before it was listening: \(why)"
        }
    }
}

/// The HTTP ingest server. Start it with `run()` (in a task, or from a swift-service-lifecycle `Service`
/// whose `run()` calls it); it returns when that task is cancelled or the enclosing ServiceGroup shuts down
/// gracefully, after the requests in flight are answered.
public final class HTTPIngestServer: @unchecked Sendable {
    public let configuration: HTTPIngestConfiguration
    let store: Store
    let metrics: CollectorMetrics
    let logger: Logger
    private let onListening: (@Sendable (_ port: Int) -> Void)?

    private let lock = NSLock()
    private var started = false
    private var boundPort: Int?
    private var stopped: String?
    private var waiters: [CheckedContinuation<Int, Error>] = []

    /// Validates `configuration` (throws `HTTPIngestConfigurationError`); nothing listens until `run()`.
    /// `onListening` gets the bound port once the server accepts connections (before `listeningPort()` returns).
    public init(configuration: HTTPIngestConfiguration, store: Store, metrics: CollectorMetrics,
                logger: Logger = Logger(label: "flywheel.http"), onListening: (@Sendable (_ port: Int) -> Void)? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.onListening = onListening
    }

    /// Listens and serves until cancelled (or a graceful shutdown); throws when it cannot bind.
    public func run() async throws {
        try lock.withLock {
            if started { throw HTTPIngestServerError.alreadyRunning }
            started = true
        }
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestAccounting(server: self))
        if let token = configuration.token { router.add(middleware: BearerAuthentication(token: token, server: self)) }
        router.get("/healthz") { _, _ in Self.json(.ok, #"{"status":"ok"}"#) }
        router.get("/metrics") { _, _ in await self.metricsResponse() }
        router.post("/v1/events") { request, _ in await self.postEvents(request) }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "flywheel"),
            onServerRunning: { channel in self.listening(port: channel.localAddress?.port ?? self.configuration.port) },
            logger: logger)
        defer { work.stop() }
        do {
            try await app.run()
            finish("the server stopped")
        } catch {
            finish("\(error)")
            if Task.isCancelled { return }
            throw error
        }
    }

    /// The port the server listens on (or did), once it does: at once if it already does. Throws if `run()`
    /// ended without listening (the address was in use, say).
    public func listeningPort() async throws -> Int {
        try await withCheckedThrowingContinuation { c in
            lock.lock()
            if let boundPort {
                lock.unlock()
                c.resume(returning: boundPort)
            } else if let stopped {
                lock.unlock()
                c.resume(throwing: HTTPIngestServerError.stoppedBeforeListening(stopped))
            } else {
                waiters.append(c)
                lock.unlock()
            }
        }
    }

    private func listening(port: Int) {
        lock.lock()
        boundPort = port
        let w = waiters
        waiters = []
        lock.unlock()
        logger.info("HTTP ingest listening", metadata: [
            "address": "\(configuration.host):\(port)", "auth": "\(configuration.token == nil ? "none (loopback)" : "bearer token")",
            "max_body_bytes": "\(configuration.maxBodyBytes)",
        ])
        onListening?(port)
        for c in w { c.resume(returning: port) }
    }

    private func finish(_ why: String) {
        lock.lock()
        if boundPort == nil && stopped == nil { stopped = why }
        let w = waiters
        waiters = []
        lock.unlock()
        for c in w { c.resume(throwing: HTTPIngestServerError.stoppedBeforeListening(why)) }
    }

    // MARK: - Routes

    /// Decoding and storing run on these threads, never on an event loop or Swift concurrency's pool: SQLite
    /// calls block, and blocking GCD's pool is no better (on Linux it has only as many threads as cores). While
    /// one thread writes, the others decode the next bodies.
    private let work = HTTPWorkerPool(threads: max(2, ProcessInfo.processInfo.activeProcessorCount), name: "flywheel-http")

    func postEvents(_ request: Request) async -> Response {
        let clock = ContinuousClock()
        let start = clock.now
        let limit = configuration.maxBodyBytes
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            return tooLarge(declared: declared)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            return tooLarge(declared: nil)
        } catch {
            metrics.add("flywheel_http_rejected_total")
            logger.notice("POST /v1/events: could not read the body", metadata: ["error": "\(error)"])
            return Self.error(.badRequest, "could not read the request body: \(error)")
        }
        let store = self.store, options = configuration.ingestOptions, images = configuration.imageDirectory
        let result: Ingestor.BodyReport = await withCheckedContinuation { c in
            self.work.async {
                let r = body.withUnsafeReadableBytes { bytes in
                    Ingestor(store: store, options: options).ingest(body: bytes, sourceName: "http", kind: "http", imageDirectory: images)
                }
                c.resume(returning: r)
            }
        }
        let r = result.report
        let status: HTTPResponse.Status
        if let storeError = r.error {
            status = .internalServerError
            logger.error("POST /v1/events: the store failed, nothing stored", metadata: ["error": "\(storeError)", "bytes": "\(body.readableBytes)"])
            return Self.error(status, "cannot store the events, nothing was stored; retry later: \(storeError)")
        }
        metrics.add("flywheel_ingested_events_total", Double(r.counts.ingested))
        metrics.add("flywheel_duplicate_events_total", Double(r.counts.duplicates))
        metrics.add("flywheel_quarantined_lines_total", Double(r.counts.quarantined))
        if result.malformed != nil {
            status = .badRequest
            metrics.add("flywheel_http_rejected_total")
        } else if r.counts.quarantined > 0 {
            status = Self.multiStatus
        } else {
            status = .ok
        }
        let elapsed = (clock.now - start).components
        let ms = Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15
        logger.log(level: result.malformed == nil ? .info : .notice, "POST /v1/events", metadata: [
            "status": "\(status.code)", "format": "\(result.format.rawValue)", "bytes": "\(body.readableBytes)", "lines": "\(r.lines)",
            "ingested": "\(r.counts.ingested)", "duplicates": "\(r.counts.duplicates)", "quarantined": "\(r.counts.quarantined)",
            "ms": "\(String(format: "%.1f", ms))",
        ])
        return Self.json(status, Self.summaryJSON(result))
    }

    private func tooLarge(declared: Int?) -> Response {
        metrics.add("flywheel_http_rejected_total")
        let size = declared.map { "\($0)-byte body" } ?? "body"
        logger.notice("POST /v1/events: body too large", metadata: ["declared_bytes": "\(declared.map(String.init) ?? "?")"])
        return Self.error(.contentTooLarge, "the \(size) is over the \(configuration.maxBodyBytes)-byte limit; nothing was stored: send smaller batches")
    }

    func metricsResponse() async -> Response {
        let store = self.store, metrics = self.metrics, idle = configuration.sessionIdleMs
        // A thread of its own: a scrape is rare, and must not queue behind posts waiting for the writer.
        let text: Result<String, Error> = await withCheckedContinuation { c in
            Thread {
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                c.resume(returning: Result { metrics.prometheusText(figures: try store.figures(idleBefore: now - idle, now: now), now: now) })
            }.start()
        }
        switch text {
        case .success(let body):
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: body)))
        case .failure(let error):
            logger.error("GET /metrics: cannot read the store", metadata: ["error": "\(error)"])
            return Self.error(.internalServerError, "cannot read the store: \(error)")
        }
    }

    // MARK: - Answers

    static let multiStatus = HTTPResponse.Status(code: 207, reasonPhrase: "Multi-Status")

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        var response = json(status, "{\"error\":\(jsonQuoted(message))}")
        response.headers.append(contentsOf: headers)
        return response
    }

    /// The summary of one POST, with `ingest --json`'s field names.
    static func summaryJSON(_ result: Ingestor.BodyReport) -> String {
        let r = result.report
        var out = "{"
        if let why = result.malformed { out += "\"error\":\(jsonQuoted(why + "; the body was kept whole in the quarantine")),"}
        out += "\"format\":\"\(result.format.rawValue)\",\"lines\":\(r.lines),\"blank\":\(r.blank),\"ingested\":\(r.counts.ingested)"
        out += ",\"duplicates\":\(r.counts.duplicates),\"quarantined\":\(r.counts.quarantined),\"errors\":["
        out += r.problems.map { "{\"line\":\($0.line),\"kind\":\(jsonQuoted($0.kind)),\"message\":\(jsonQuoted($0.message))}" }
            .joined(separator: ",")
        out += "]"
        if r.counts.quarantined > r.problems.count { out += ",\"errors_omitted\":\(r.counts.quarantined - r.problems.count)" }
        return out + "}"
    }
}

/// Counts every request answered, and refusals by status.
struct RequestAccounting: RouterMiddleware {
    typealias Context = BasicRequestContext
    let server: HTTPIngestServer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        defer { server.metrics.add("flywheel_http_requests_total") }
        return try await next(request, context)
    }
}

/// Requires `Authorization: Bearer <token>` on every route but /healthz.
struct BearerAuthentication: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: [UInt8]
    let server: HTTPIngestServer

    init(token: String, server: HTTPIngestServer) {
        self.token = Array(token.utf8)
        self.server = server
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        let header = request.headers[.authorization]
        let presented: Substring?
        if let header, header.count > 7, header.prefix(7).lowercased() == "bearer " {
            presented = header.dropFirst(7).drop(while: { $0 == " " })
        } else {
            presented = nil
        }
        if let presented, Self.constantTimeEqual(Array(presented.utf8), token) {
            return try await next(request, context)
        }
        server.metrics.add("flywheel_http_rejected_total")
        let why = header == nil ? "missing bearer token" : presented == nil ? "the Authorization header is not a bearer token" : "wrong token"
        server.logger.notice("\(request.method) \(request.uri.path): 401 \(why)")
        return HTTPIngestServer.error(.unauthorized, "\(why): send Authorization: Bearer <token>",
                                      headers: [.wwwAuthenticate: presented == nil ? #"Bearer realm="flywheel""# : #"Bearer realm="flywheel", error="invalid_token""#])
    }

    /// Compares in time that depends on the lengths only, not on where the bytes differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }
}

import Foundation

/// A tiny HTTP/1.1 server on 127.0.0.1 for tests: it answers each request with what the test's handler
/// returns (after an optional delay), and records what it received.
public final class StubHTTPServer: @unchecked Sendable {
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var headers: [String: String]
        public var body: String
    }

    public struct Response: Sendable {
        public var status: Int
        public var body: String
        public var delay: TimeInterval
        public init(status: Int = 200, body: String, delay: TimeInterval = 0) {
            self.status = status
            self.body = body
            self.delay = delay
        }
    }

    public private(set) var port: UInt16 = 0
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    private var listener: Int32 = -1
    private let lock = NSLock()
    private var received: [Request] = []
    private let handler: @Sendable (Int, Request) -> Response

    /// `handler` gets the 0-based request number and the request.
    public init(handler: @escaping @Sendable (Int, Request) -> Response) throws {
        self.handler = handler
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }
        port = UInt16(bigEndian: addr.sin_port)
        let t = Thread { [self] in acceptLoop() }
        t.start()
    }

    public var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Idempotent: a second close could hit a descriptor number reused by someone else.
    public func stop() {
        lock.lock()
        let fd = listener
        listener = -1
        lock.unlock()
        guard fd >= 0 else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    deinit { stop() }

    private func acceptLoop() {
        lock.lock()
        let l = listener
        lock.unlock()
        while true {
            let fd = accept(l, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            let t = Thread { [self] in serve(fd) }
            t.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var data = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int?
        var contentLength = 0
        while true {
            let n = read(fd, &buf, buf.count)
            if n <= 0 { return }
            data += buf[0..<n]
            if headerEnd == nil, let r = findHeaderEnd(data) {
                headerEnd = r
                let head = String(decoding: data[0..<r], as: UTF8.self)
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let h = headerEnd, data.count >= h + 4 + contentLength { break }
        }
        let h = headerEnd!
        let head = String(decoding: data[0..<h], as: UTF8.self).split(separator: "\r\n").map(String.init)
        let requestLine = head.first?.split(separator: " ").map(String.init) ?? []
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            if let c = line.firstIndex(of: ":") {
                headers[line[..<c].lowercased()] = line[line.index(after: c)...].trimmingCharacters(in: .whitespaces)
            }
        }
        let request = Request(method: requestLine.first ?? "", path: requestLine.count > 1 ? requestLine[1] : "", headers: headers,
                              body: String(decoding: data[(h + 4)...], as: UTF8.self))
        lock.lock()
        let index = received.count
        received.append(request)
        lock.unlock()
        let response = handler(index, request)
        if response.delay > 0 { Thread.sleep(forTimeInterval: response.delay) }
        let body = Array(response.body.utf8)
        let text = "HTTP/1.1 \(response.status) X\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let out = Array(text.utf8) + body
        _ = out.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    private func findHeaderEnd(_ d: [UInt8]) -> Int? {
        guard d.count >= 4 else { return nil }
        for i in 0...(d.count - 4) where d[i] == 13 && d[i + 1] == 10 && d[i + 2] == 13 && d[i + 3] == 10 { return i }
        return nil
    }
}

/// A chat-completions response body whose message content is `content`.
public func chatCompletion(_ content: String) -> String {
    var escaped = ""
    for u in content.unicodeScalars {
        switch u {
        case "\"": escaped += "\\\""
        case "\\": escaped += "\\\\"
        case "\n": escaped += "\\n"
        default: escaped.unicodeScalars.append(u)
        }
    }
    return #"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":""# + escaped + #""},"finish_reason":"stop"}]}"#
}

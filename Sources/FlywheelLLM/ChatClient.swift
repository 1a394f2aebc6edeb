import CCurl
import FlywheelCore
import Foundation

/// FlywheelLLM talks to any OpenAI-compatible `/v1/chat/completions` endpoint (OpenAI, vLLM, Ollama,
/// llama.cpp server) through libcurl. The rest of the product depends only on `ChatCompleting`.
public protocol ChatCompleting: Sendable {
    /// Sends messages and returns the assistant's text. Throws `LLMError`.
    func complete(system: String?, user: String) throws -> String
}

public struct LLMConfiguration: Sendable, Equatable {
    public var baseURL: String
    public var model: String
    /// Never stored in the database and never printed.
    public var apiKey: String?
    public var timeoutSeconds: Double = 60
    public var maxAttempts = 4
    public var initialBackoffSeconds: Double = 0.5

    public init(baseURL: String, model: String, apiKey: String?, timeoutSeconds: Double = 60, maxAttempts: Int = 4, initialBackoffSeconds: Double = 0.5) {
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
        self.timeoutSeconds = timeoutSeconds
        self.maxAttempts = maxAttempts
        self.initialBackoffSeconds = initialBackoffSeconds
    }

    /// From flags and the environment: `--llm-url`, else FLYWHEEL_LLM_URL, else OPENAI_BASE_URL;
    /// FLYWHEEL_LLM_MODEL; FLYWHEEL_LLM_API_KEY, else OPENAI_API_KEY. Nil when no endpoint is configured.
    public static func resolve(url: String?, model: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> LLMConfiguration? {
        func env(_ k: String) -> String? { environment[k].flatMap { $0.isEmpty ? nil : $0 } }
        guard let base = url ?? env("FLYWHEEL_LLM_URL") ?? env("OPENAI_BASE_URL") else { return nil }
        return LLMConfiguration(baseURL: base, model: model ?? env("FLYWHEEL_LLM_MODEL") ?? "gpt-4o-mini",
                                apiKey: env("FLYWHEEL_LLM_API_KEY") ?? env("OPENAI_API_KEY"))
    }

    /// The completions URL: a base ending in /v1 gets /chat/completions, anything else /v1/chat/completions.
    public var completionsURL: String {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/chat/completions") { return base }
        if base.hasSuffix("/v1") { return base + "/chat/completions" }
        return base + "/v1/chat/completions"
    }
}

public enum LLMError: Error, Equatable, CustomStringConvertible {
    case transport(String)
    case http(status: Int, body: String)
    case badResponse(String)

    public var description: String {
        switch self {
        case .transport(let m): return "transport error: \(m)"
        case let .http(status, body): return "HTTP \(status): \(body.prefix(200))"
        case .badResponse(let m): return "bad response: \(m)"
        }
    }

    /// 429, 5xx and transport failures (timeouts, refused connections) are worth retrying.
    var isRetryable: Bool {
        switch self {
        case .transport: return true
        case .http(let status, _): return status == 429 || status >= 500
        case .badResponse: return false
        }
    }
}

private let curlInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

/// The libcurl client. Each call uses its own easy handle, so it is safe from several threads.
public final class CurlChatClient: ChatCompleting, @unchecked Sendable {
    public let configuration: LLMConfiguration
    /// How many HTTP requests were made (including retries), for metrics.
    public private(set) var requestCount = 0
    private let lock = NSLock()
    /// Ask for JSON output (`response_format: json_object`) until a server refuses it with a 400.
    private var jsonMode = true

    public init(configuration: LLMConfiguration) {
        _ = curlInit
        self.configuration = configuration
    }

    public func complete(system: String?, user: String) throws -> String {
        do {
            return try complete(system: system, user: user, json: wantsJSON)
        } catch LLMError.http(let status, let body) where status == 400 && wantsJSON {
            // A server without JSON mode: remember, and ask again plainly.
            lock.lock()
            jsonMode = false
            lock.unlock()
            _ = body
            return try complete(system: system, user: user, json: false)
        }
    }

    private var wantsJSON: Bool {
        lock.lock()
        defer { lock.unlock() }
        return jsonMode
    }

    private func complete(system: String?, user: String, json: Bool) throws -> String {
        var messages: [String] = []
        if let system { messages.append("{\"role\":\"system\",\"content\":\(jsonQuoted(system))}") }
        messages.append("{\"role\":\"user\",\"content\":\(jsonQuoted(user))}")
        let format = json ? ",\"response_format\":{\"type\":\"json_object\"}" : ""
        let body = "{\"model\":\(jsonQuoted(configuration.model)),\"temperature\":0\(format),\"messages\":[\(messages.joined(separator: ","))]}"
        var delay = configuration.initialBackoffSeconds
        var lastError = LLMError.transport("no attempt made")
        for attempt in 1...max(1, configuration.maxAttempts) {
            do {
                let (status, text) = try post(body)
                guard (200..<300).contains(status) else { throw LLMError.http(status: status, body: text) }
                return try Self.messageContent(text)
            } catch let error as LLMError {
                lastError = error
                guard error.isRetryable, attempt < configuration.maxAttempts else { throw error }
                Thread.sleep(forTimeInterval: delay)
                delay *= 2
            }
        }
        throw lastError
    }

    /// `choices[0].message.content` of a chat completion response.
    static func messageContent(_ text: String) throws -> String {
        guard let v = try? JSONParser.parse(text) else { throw LLMError.badResponse("not JSON: \(text.prefix(120))") }
        guard case .array(let choices)? = v["choices"], let first = choices.first,
              case .string(let content)? = first["message"]?["content"] else {
            throw LLMError.badResponse("no choices[0].message.content")
        }
        return content
    }

    private final class Sink {
        var data = Data()
    }

    private func post(_ body: String) throws -> (Int, String) {
        lock.lock()
        requestCount += 1
        lock.unlock()
        guard let h = curl_easy_init() else { throw LLMError.transport("curl_easy_init failed") }
        defer { curl_easy_cleanup(h) }
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        headers = curl_slist_append(headers, "Content-Type: application/json")
        if let key = configuration.apiKey { headers = curl_slist_append(headers, "Authorization: Bearer \(key)") }
        defer { curl_slist_free_all(headers) }
        let sink = Sink()
        let sinkPtr = Unmanaged.passRetained(sink)
        defer { sinkPtr.release() }
        flywheel_curl_setopt_string(h, CURLOPT_URL, configuration.completionsURL)
        flywheel_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headers)
        flywheel_curl_setopt_string(h, CURLOPT_COPYPOSTFIELDS, body)
        flywheel_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(configuration.timeoutSeconds * 1000))
        flywheel_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(min(configuration.timeoutSeconds, 10) * 1000))
        flywheel_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        flywheel_curl_setopt_pointer(h, CURLOPT_WRITEDATA, sinkPtr.toOpaque())
        flywheel_curl_setopt_write(h, CURLOPT_WRITEFUNCTION) { ptr, size, n, user in
            let count = size * n
            guard let ptr, let user else { return 0 }
            Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue().data.append(UnsafeRawPointer(ptr).assumingMemoryBound(to: UInt8.self), count: count)
            return count
        }
        let rc = curl_easy_perform(h)
        guard rc == CURLE_OK else { throw LLMError.transport(String(cString: curl_easy_strerror(rc))) }
        var status = 0
        flywheel_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return (status, String(decoding: sink.data, as: UTF8.self))
    }
}

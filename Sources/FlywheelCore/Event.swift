/// The ingest event contract (`shared/spec/events.md`) as Swift values, and its validating decoder.
///
/// Decoding is strict about the fields the product relies on and lenient about everything else:
/// unknown fields are allowed (the raw line is stored verbatim, so they are kept), and an optional
/// field that is `null` counts as absent.

public enum EventType: String, Sendable, CaseIterable {
    case turn
    case sessionEnd = "session_end"
    case feedback
    case recognition
    case errorLog = "error_log"
}

public enum Role: String, Sendable { case user, assistant }

public enum FeedbackKind: String, Sendable, CaseIterable {
    case thumbsUp = "thumbs_up"
    case thumbsDown = "thumbs_down"
    case correction
    case tags
}

public enum ErrorLogKind: String, Sendable, CaseIterable {
    case formatError = "format_error"
    case timeout
    case retry
    case exception
}

/// A reference to an image as the producer sent it.
public struct ImageRef: Equatable, Sendable {
    public var ref: String
    public var sha256: String?
    public init(ref: String, sha256: String? = nil) {
        self.ref = ref
        self.sha256 = sha256
    }
    /// True when the reference is a URL (shown as a link, never fetched).
    public var isURL: Bool {
        let lower = ref.prefix(8).lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("data:")
    }
}

public struct Turn: Equatable, Sendable {
    public var sessionID: String
    public var userID: String?
    public var turnIndex: Int
    public var role: Role
    public var content: String
    public var requestID: String?
    public var image: ImageRef?
    public var responseMs: Int?
    public var model: String?
    public var promptVersion: String?
    public var taskType: String?
}

public struct SessionEnd: Equatable, Sendable {
    public var sessionID: String
    public var userID: String?
}

public struct Feedback: Equatable, Sendable {
    public var sessionID: String?
    public var requestID: String
    public var userID: String?
    public var kind: FeedbackKind
    public var correctedResponse: String?
    public var isCorrect: Bool?
    public var wrongTags: [String]
    public var missingTags: [String]
}

public struct PredictedTag: Equatable, Sendable {
    public var tag: String
    public var score: Double?
}

public struct Recognition: Equatable, Sendable {
    public var requestID: String
    public var sessionID: String?
    public var userID: String?
    public var image: ImageRef
    public var model: String?
    public var promptVersion: String?
    public var tags: [PredictedTag]
}

public struct ErrorLog: Equatable, Sendable {
    public var requestID: String
    public var sessionID: String?
    public var kind: ErrorLogKind
    public var detail: String?
}

public enum EventBody: Equatable, Sendable {
    case turn(Turn)
    case sessionEnd(SessionEnd)
    case feedback(Feedback)
    case recognition(Recognition)
    case errorLog(ErrorLog)
}

public struct Event: Equatable, Sendable {
    public var eventID: String
    public var type: EventType
    /// Milliseconds since the Unix epoch, UTC.
    public var ts: Int64
    public var body: EventBody

    public var sessionID: String? {
        switch body {
        case .turn(let t): return t.sessionID
        case .sessionEnd(let s): return s.sessionID
        case .feedback(let f): return f.sessionID
        case .recognition(let r): return r.sessionID
        case .errorLog(let e): return e.sessionID
        }
    }

    public var requestID: String? {
        switch body {
        case .turn(let t): return t.requestID
        case .sessionEnd: return nil
        case .feedback(let f): return f.requestID
        case .recognition(let r): return r.requestID
        case .errorLog(let e): return e.requestID
        }
    }
}

/// Why a line was refused. The message is what the quarantine shows a person.
public struct EventDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case notUTF8 = "not_utf8"
        case notJSON = "not_json"
        case notObject = "not_object"
        case missingField = "missing_field"
        case wrongType = "wrong_type"
        case invalidValue = "invalid_value"
        case unknownType = "unknown_type"
        case tooLong = "too_long"
    }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { "\(kind.rawValue): \(message)" }
}

public enum EventDecoder {
    /// Decodes one line of NDJSON (without its newline). Validates UTF-8 first.
    public static func decode(line: UnsafeRawBufferPointer) throws(EventDecodingError) -> Event {
        if let bad = firstInvalidUTF8Offset(line) {
            throw EventDecodingError(.notUTF8, "invalid UTF-8 at byte \(bad)")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            throw EventDecodingError(.notJSON, "not valid JSON: \(error.description)")
        }
        return try decode(value)
    }

    public static func decode(line: String) throws(EventDecodingError) -> Event {
        var s = line
        let r: Result<Event, EventDecodingError> = s.withUTF8 { buf in
            do throws(EventDecodingError) { return .success(try decode(line: UnsafeRawBufferPointer(buf))) } catch { return .failure(error) }
        }
        return try r.get()
    }

    public static func decode(_ value: JSONValue) throws(EventDecodingError) -> Event {
        guard case .object = value else {
            throw EventDecodingError(.notObject, "expected a JSON object, got \(article(value.kindName))")
        }
        let f = Fields(value)
        let typeName = try f.requiredString("type")
        let eventID = try f.requiredString("event_id")
        if eventID.isEmpty { throw EventDecodingError(.invalidValue, "`event_id` must not be empty") }
        let tsText = try f.requiredString("ts")
        guard let ts = Timestamp.parseMillis(tsText) else {
            throw EventDecodingError(.invalidValue, "`ts` is not an RFC 3339 timestamp: \(quotedPrefix(tsText))")
        }
        guard let type = EventType(rawValue: typeName) else {
            throw EventDecodingError(.unknownType, "unknown event type \(quotedPrefix(typeName)); expected one of turn, session_end, feedback, recognition, error_log")
        }
        let body: EventBody
        switch type {
        case .turn:
            let roleName = try f.requiredString("role")
            guard let role = Role(rawValue: roleName) else {
                throw EventDecodingError(.invalidValue, "`role` must be user or assistant, got \(quotedPrefix(roleName))")
            }
            let index = try f.requiredInt("turn_index")
            if index < 0 { throw EventDecodingError(.invalidValue, "`turn_index` must not be negative") }
            let responseMs = try f.optionalInt("response_ms")
            if let ms = responseMs, ms < 0 { throw EventDecodingError(.invalidValue, "`response_ms` must not be negative") }
            body = .turn(Turn(
                sessionID: try f.requiredString("session_id"),
                userID: try f.optionalString("user_id"),
                turnIndex: index,
                role: role,
                content: try f.requiredString("content"),
                requestID: try f.optionalString("request_id"),
                image: try f.optionalImage("image"),
                responseMs: responseMs,
                model: try f.optionalString("model"),
                promptVersion: try f.optionalString("prompt_version"),
                taskType: try f.optionalString("task_type")))
        case .sessionEnd:
            body = .sessionEnd(SessionEnd(sessionID: try f.requiredString("session_id"), userID: try f.optionalString("user_id")))
        case .feedback:
            let kindName = try f.requiredString("kind")
            guard let kind = FeedbackKind(rawValue: kindName) else {
                throw EventDecodingError(.invalidValue, "unknown feedback `kind` \(quotedPrefix(kindName)); expected thumbs_up, thumbs_down, correction or tags")
            }
            let corrected = try f.optionalString("corrected_response")
            if kind == .correction && corrected == nil {
                throw EventDecodingError(.missingField, "feedback of kind correction needs `corrected_response`")
            }
            body = .feedback(Feedback(
                sessionID: try f.optionalString("session_id"),
                requestID: try f.requiredString("request_id"),
                userID: try f.optionalString("user_id"),
                kind: kind,
                correctedResponse: corrected,
                isCorrect: try f.optionalBool("is_correct"),
                wrongTags: try f.optionalStringArray("wrong_tags") ?? [],
                missingTags: try f.optionalStringArray("missing_tags") ?? []))
        case .recognition:
            guard let image = try f.optionalImage("image") else {
                throw EventDecodingError(.missingField, "recognition needs `image`")
            }
            body = .recognition(Recognition(
                requestID: try f.requiredString("request_id"),
                sessionID: try f.optionalString("session_id"),
                userID: try f.optionalString("user_id"),
                image: image,
                model: try f.optionalString("model"),
                promptVersion: try f.optionalString("prompt_version"),
                tags: try f.tags("tags")))
        case .errorLog:
            let kindName = try f.requiredString("kind")
            guard let kind = ErrorLogKind(rawValue: kindName) else {
                throw EventDecodingError(.invalidValue, "unknown error_log `kind` \(quotedPrefix(kindName)); expected format_error, timeout, retry or exception")
            }
            body = .errorLog(ErrorLog(
                requestID: try f.requiredString("request_id"),
                sessionID: try f.optionalString("session_id"),
                kind: kind,
                detail: try f.optionalString("detail")))
        }
        return Event(eventID: eventID, type: type, ts: ts, body: body)
    }
}

/// Typed access to an event object's fields with precise error messages.
private struct Fields {
    let object: JSONValue
    init(_ v: JSONValue) { object = v }

    func value(_ key: String) -> JSONValue? { object[key] }

    func requiredString(_ key: String) throws(EventDecodingError) -> String {
        guard let v = value(key), v != .null else { throw EventDecodingError(.missingField, "missing required field `\(key)`") }
        guard case .string(let s) = v else { throw wrongType(key, "a string", v) }
        return s
    }

    func optionalString(_ key: String) throws(EventDecodingError) -> String? {
        guard let v = value(key) else { return nil }
        switch v {
        case .null: return nil
        case .string(let s): return s
        default: throw wrongType(key, "a string", v)
        }
    }

    func requiredInt(_ key: String) throws(EventDecodingError) -> Int {
        guard let v = value(key), v != .null else { throw EventDecodingError(.missingField, "missing required field `\(key)`") }
        return try int(key, v)
    }

    func optionalInt(_ key: String) throws(EventDecodingError) -> Int? {
        guard let v = value(key), v != .null else { return nil }
        return try int(key, v)
    }

    func int(_ key: String, _ v: JSONValue) throws(EventDecodingError) -> Int {
        guard case .number(let d) = v else { throw wrongType(key, "an integer", v) }
        guard abs(d) < 9e15, d == Double(Int64(d)) else {
            throw EventDecodingError(.wrongType, "`\(key)` must be an integer, got \(d)")
        }
        return Int(d)
    }

    func optionalBool(_ key: String) throws(EventDecodingError) -> Bool? {
        guard let v = value(key) else { return nil }
        switch v {
        case .null: return nil
        case .bool(let b): return b
        default: throw wrongType(key, "a boolean", v)
        }
    }

    func optionalStringArray(_ key: String) throws(EventDecodingError) -> [String]? {
        guard let v = value(key), v != .null else { return nil }
        guard case .array(let items) = v else { throw wrongType(key, "an array of strings", v) }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case .string(let s) = item else { throw wrongType("\(key)[]", "a string", item) }
            out.append(s)
        }
        return out
    }

    func optionalImage(_ key: String) throws(EventDecodingError) -> ImageRef? {
        guard let v = value(key), v != .null else { return nil }
        guard case .object = v else { throw wrongType(key, "an object with `ref`", v) }
        guard let ref = v["ref"], ref != .null else { throw EventDecodingError(.missingField, "`\(key)` needs `ref`") }
        guard case .string(let r) = ref else { throw wrongType("\(key).ref", "a string", ref) }
        if r.isEmpty { throw EventDecodingError(.invalidValue, "`\(key).ref` must not be empty") }
        var sha: String?
        if let s = v["sha256"], s != .null {
            guard case .string(let h) = s else { throw wrongType("\(key).sha256", "a string", s) }
            sha = h.isEmpty ? nil : h.lowercased()
        }
        return ImageRef(ref: r, sha256: sha)
    }

    func tags(_ key: String) throws(EventDecodingError) -> [PredictedTag] {
        guard let v = value(key), v != .null else { throw EventDecodingError(.missingField, "missing required field `\(key)`") }
        guard case .array(let items) = v else { throw wrongType(key, "an array", v) }
        var out: [PredictedTag] = []
        for item in items {
            switch item {
            case .string(let s):
                out.append(PredictedTag(tag: s, score: nil))
            case .object:
                guard case .string(let tag)? = item["tag"] else {
                    throw EventDecodingError(.wrongType, "each entry of `\(key)` needs a string `tag`")
                }
                var score: Double?
                if let s = item["score"], s != .null {
                    guard case .number(let d) = s else { throw wrongType("\(key)[].score", "a number", s) }
                    score = d
                }
                out.append(PredictedTag(tag: tag, score: score))
            default:
                throw wrongType("\(key)[]", "an object {tag, score}", item)
            }
        }
        return out
    }

    func wrongType(_ key: String, _ expected: String, _ got: JSONValue) -> EventDecodingError {
        EventDecodingError(.wrongType, "`\(key)` must be \(expected), got \(article(got.kindName))")
    }
}

private func article(_ kind: String) -> String {
    kind == "null" ? "null" : (kind.first.map { "aeiou".contains($0) } == true ? "an \(kind)" : "a \(kind)")
}

private func quotedPrefix(_ s: String) -> String {
    let limit = 40
    let shown = s.count > limit ? String(s.prefix(limit)) + "…" : s
    return jsonQuoted(shown)
}

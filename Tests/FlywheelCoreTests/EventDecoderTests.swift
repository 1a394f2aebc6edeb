import FlywheelTestSupport
import Testing
@testable import FlywheelCore


@Suite struct EventDecoderTests {
    @Test func decodesEverySpecExample() throws {
        let events = try specExampleLines.map { try EventDecoder.decode(line: $0) }
        #expect(events.map(\.type) == [.turn, .turn, .sessionEnd, .feedback, .feedback, .recognition, .feedback, .errorLog])
        guard case .turn(let user) = events[0].body, case .turn(let assistant) = events[1].body else {
            Issue.record("expected turns")
            return
        }
        #expect(user.content == "这个数字是多少?")
        #expect(user.image == ImageRef(ref: "images/receipt-0001.png", sha256: "<optional hex>"))
        #expect(assistant.responseMs == 911)
        #expect(assistant.promptVersion == "vqa-v3")
        #expect(events[1].ts == 1_777_593_607_000)
        guard case .feedback(let correction) = events[4].body else { Issue.record("expected feedback"); return }
        #expect(correction.kind == .correction)
        #expect(correction.correctedResponse == "78")
        guard case .recognition(let rec) = events[5].body else { Issue.record("expected recognition"); return }
        #expect(rec.tags == [PredictedTag(tag: "car", score: 0.93), PredictedTag(tag: "dog", score: 0.41)])
        guard case .feedback(let tags) = events[6].body else { Issue.record("expected feedback"); return }
        #expect(tags.isCorrect == false)
        #expect(tags.wrongTags == ["dog"])
        #expect(tags.missingTags == ["bicycle"])
        guard case .errorLog(let log) = events[7].body else { Issue.record("expected error log"); return }
        #expect(log.kind == .formatError)
    }

    @Test func unknownFieldsAndNullOptionalsAreAccepted() throws {
        let e = try EventDecoder.decode(line: #"{"type":"turn","event_id":"a","session_id":"s","turn_index":0,"role":"user","content":"hi","ts":"2026-05-01T00:00:00Z","client":"ios","model":null,"extra":{"x":[1]}}"#)
        guard case .turn(let t) = e.body else { Issue.record("expected a turn"); return }
        #expect(t.model == nil)
    }

    static let badLines: [(String, EventDecodingError.Kind)] = [
        ("not json", .notJSON),
        (#"{"type":"turn","event_id":"x""#, .notJSON),
        (#"[{"type":"turn"}]"#, .notObject),
        (#""just a string""#, .notObject),
        ("42", .notObject),
        (#"{"event_id":"a","ts":"2026-05-01T00:00:00Z"}"#, .missingField),
        (#"{"type":"session_end","session_id":"s","ts":"2026-05-01T00:00:00Z"}"#, .missingField),
        (#"{"type":"session_end","event_id":"a","session_id":"s"}"#, .missingField),
        (#"{"type":"session_end","event_id":"a","ts":"2026-05-01T00:00:00Z"}"#, .missingField),
        (#"{"type":"feedback","event_id":"a","request_id":"r","kind":"correction","ts":"2026-05-01T00:00:00Z"}"#, .missingField),
        (#"{"type":"turn","event_id":"a","session_id":"s","turn_index":"zero","role":"user","content":"x","ts":"2026-05-01T00:00:00Z"}"#, .wrongType),
        (#"{"type":"turn","event_id":"a","session_id":"s","turn_index":1.5,"role":"user","content":"x","ts":"2026-05-01T00:00:00Z"}"#, .wrongType),
        (#"{"type":"session_end","event_id":"a","session_id":"s","ts":12345}"#, .wrongType),
        (#"{"type":"session_end","event_id":7,"session_id":"s","ts":"2026-05-01T00:00:00Z"}"#, .wrongType),
        (#"{"type":"feedback","event_id":"a","request_id":"r","kind":"tags","wrong_tags":"dog","ts":"2026-05-01T00:00:00Z"}"#, .wrongType),
        (#"{"type":"turn","event_id":"a","session_id":"s","turn_index":0,"role":"user","content":"x","image":"a.png","ts":"2026-05-01T00:00:00Z"}"#, .wrongType),
        (#"{"type":"turn","event_id":"a","session_id":"s","turn_index":0,"role":"robot","content":"x","ts":"2026-05-01T00:00:00Z"}"#, .invalidValue),
        (#"{"type":"turn","event_id":"a","session_id":"s","turn_index":-1,"role":"user","content":"x","ts":"2026-05-01T00:00:00Z"}"#, .invalidValue),
        (#"{"type":"session_end","event_id":"a","session_id":"s","ts":"May 1st"}"#, .invalidValue),
        (#"{"type":"session_end","event_id":"","session_id":"s","ts":"2026-05-01T00:00:00Z"}"#, .invalidValue),
        (#"{"type":"feedback","event_id":"a","request_id":"r","kind":"love","ts":"2026-05-01T00:00:00Z"}"#, .invalidValue),
        (#"{"type":"error_log","event_id":"a","request_id":"r","kind":"oops","ts":"2026-05-01T00:00:00Z"}"#, .invalidValue),
        (#"{"type":"telemetry","event_id":"a","ts":"2026-05-01T00:00:00Z","cpu":0.9}"#, .unknownType),
    ]

    @Test(arguments: badLines)
    func refusesBadLinesWithAReason(_ line: String, _ kind: EventDecodingError.Kind) {
        do {
            _ = try EventDecoder.decode(line: line)
            Issue.record("accepted a bad line: \(line)")
        } catch {
            #expect(error.kind == kind, "\(line) -> \(error)")
            #expect(!error.message.isEmpty)
        }
    }

    @Test func refusesInvalidUTF8() {
        var bytes = Array(#"{"type":"turn","event_id":"a","content":""#.utf8)
        bytes += [0xFF, 0xFE]
        bytes += Array(#""}"#.utf8)
        let result: Result<Event, EventDecodingError> = bytes.withUnsafeBytes { buf in
            do throws(EventDecodingError) { return .success(try EventDecoder.decode(line: buf)) } catch { return .failure(error) }
        }
        switch result {
        case .success: Issue.record("accepted invalid UTF-8")
        case .failure(let error):
            #expect(error.kind == .notUTF8)
            #expect(error.message.contains("byte 41"))
        }
    }

    @Test func reasonsNameTheField() throws {
        do {
            _ = try EventDecoder.decode(line: Self.badLines[10].0)
            Issue.record("accepted a bad line")
        } catch {
            #expect(error.message == "`turn_index` must be an integer, got a string")
        }
    }
}

@Suite struct ImageHeaderTests {
    @Test func readsPNGDimensions() {
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
        png += [0, 0, 1, 64, 0, 0, 0, 200, 8, 2, 0, 0, 0]
        #expect(ImageHeader.inspect(png)! == ("png", 320, 200))
    }

    @Test func readsJPEGDimensions() {
        // SOI, APP0 (length 16), SOF0 with height 100 and width 150.
        var jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0, 16] + Array(repeating: 0, count: 14)
        jpeg += [0xFF, 0xC0, 0, 17, 8, 0, 100, 0, 150, 3] + Array(repeating: 0, count: 12)
        #expect(ImageHeader.inspect(jpeg)! == ("jpeg", 150, 100))
    }

    @Test func rejectsNonImages() {
        #expect(ImageHeader.inspect(Array("not an image at all, just text".utf8)) == nil)
        #expect(ImageHeader.inspect([]) == nil)
    }

    @Test func contentKey() {
        #expect(ResolvedImage(ref: "a.png", path: "/x/a.png", status: .present, sha256: "ab").key == "sha256:ab")
        #expect(ResolvedImage(ref: "a.png", path: "/x/a.png", status: .missing).key == "missing:/x/a.png")
        #expect(ResolvedImage(ref: "https://h/a.png", path: nil, status: .url).key == "url:https://h/a.png")
        #expect(ImageRef(ref: "HTTPS://h/a.png").isURL)
        #expect(!ImageRef(ref: "images/a.png").isURL)
    }
}

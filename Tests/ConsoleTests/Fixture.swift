import Foundation
import FlywheelAnalyze
import FlywheelCore
import FlywheelIngest
import FlywheelStore
@testable import Console
import TerminalKit

/// A small database built through the real pipeline: a Chinese session with an implicit correction, an
/// English one with explicit feedback, and one full of hostile text.
enum Fixture {
    static let base: Int64 = 1_779_000_000_000  // 2026-05-17T06:40:00Z
    static let now: Int64 = 1_779_100_000_000

    static func turn(_ session: String, _ user: String, _ index: Int, _ role: String, _ content: String, request: Int,
                     at seconds: Int64, ms: Int? = nil, image: String? = nil) -> String {
        var s = #"{"type":"turn","event_id":"\#(session)-t\#(index)","session_id":"\#(session)","user_id":\#(jsonQuoted(user)),"turn_index":\#(index),"role":"\#(role)","content":\#(jsonQuoted(content)),"request_id":"\#(session)-r\#(request)","ts":"\#(Timestamp.format(millis: base + seconds * 1000))""#
        if let ms { s += #","response_ms":\#(ms),"model":"vlm-prod","prompt_version":"vqa-v3""# }
        if let image { s += #","image":{"ref":"\#(image)"}"# }
        return s + "}"
    }

    static func end(_ session: String, at seconds: Int64) -> String {
        #"{"type":"session_end","event_id":"\#(session)-end","session_id":"\#(session)","ts":"\#(Timestamp.format(millis: base + seconds * 1000))"}"#
    }

    static let events: [String] = [
        turn("s-zh", "用户甲", 0, "user", "这张收据的总金额是多少?", request: 1, at: 0, image: "images/receipt-01.png"),
        turn("s-zh", "用户甲", 1, "assistant", "总金额是87元。", request: 1, at: 2, ms: 900),
        turn("s-zh", "用户甲", 2, "user", "不对,是78", request: 2, at: 30),
        turn("s-zh", "用户甲", 3, "assistant", "抱歉,是78元。", request: 2, at: 47, ms: 16_500),
        end("s-zh", at: 60),
        turn("s-en", "u-bob", 0, "user", "What does the sign say?", request: 1, at: 3600, image: "images/sign-02.png"),
        turn("s-en", "u-bob", 1, "assistant", "It says STOP.", request: 1, at: 3601, ms: 800),
        turn("s-en", "u-bob", 2, "user", "thanks", request: 2, at: 3620),
        turn("s-en", "u-bob", 3, "assistant", "You're welcome!", request: 2, at: 3621, ms: 700),
        end("s-en", at: 3700),
        #"{"type":"feedback","event_id":"f1","session_id":"s-en","request_id":"s-en-r1","kind":"correction","corrected_response":"It says SHOP.","ts":"\#(Timestamp.format(millis: base + 3630_000))"}"#,
        turn("s-evil", "u-\u{1b}[31mred", 0, "user", "hi \u{1b}]0;pwned\u{7} \u{202E}evil 😀 ｆｕｌｌ", request: 1, at: 7200),
        turn("s-evil", "u-\u{1b}[31mred", 1, "assistant", "line one\nline two\t\u{1b}[2J done", request: 1, at: 7201, ms: 1200),
        end("s-evil", at: 7300),
        // An image-tagging answer the user corrected: "dog" is wrong, "bicycle" is missing.
        #"{"type":"recognition","event_id":"rec1","request_id":"rec1","user_id":"u9","ts":"\#(Timestamp.format(millis: base + 9000_000))","image":{"ref":"images/receipt-01.png"},"model":"ram-swin-l","prompt_version":"tags-v1","tags":[{"tag":"car","score":0.93},{"tag":"dog","score":0.41}]}"#,
        #"{"type":"feedback","event_id":"f9","request_id":"rec1","user_id":"u9","kind":"tags","is_correct":false,"wrong_tags":["dog"],"missing_tags":["bicycle"],"ts":"\#(Timestamp.format(millis: base + 9030_000))"}"#,
    ]

    /// A file-backed store with the events ingested and analysed at a fixed time.
    static func store() throws -> Store {
        let dir = NSTemporaryDirectory() + "flywheel-console-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try (events.joined(separator: "\n") + "\n").write(toFile: dir + "/e.jsonl", atomically: true, encoding: .utf8)
        // The receipt is a real picture (so its preview is drawn); the sign stays missing (so its reason is).
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("sample-data/images/receipt-0006.png").path
        try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: sample, toPath: dir + "/images/receipt-01.png")
        let s = try Store.open(path: dir + "/db.sqlite")
        let r = Ingestor(store: s).ingest(path: dir + "/e.jsonl")
        precondition(r.counts.quarantined == 0 && r.error == nil, "fixture events must be valid")
        var options = AnalysisOptions()
        options.now = now
        options.all = true
        _ = try AnalysisJob(store: s, options: options).run()
        // Two prompt versions with text, the newer one active (the events name vqa-v3).
        try s.addPromptVersion(name: "vqa-v2", template: "You answer questions about images.\nBe brief.\nAnswer in the user's language.",
                               parent: nil, author: "pm", taskType: "vqa", now: base)
        try s.addPromptVersion(name: "vqa-v3", template: "You answer questions about images.\nRead numbers digit by digit.\nAnswer in the user's language.",
                               parent: "vqa-v2", author: "pm", taskType: "vqa", now: base + 1000)
        try s.activatePromptVersion("vqa-v3")
        return s
    }

    static func state(width: Int = 100, height: Int = 24, reviewer: String = "tester") -> AppState {
        AppState(width: width, height: height, reviewer: reviewer, theme: .builtinDefault, timeZone: TimeZone(identifier: "UTC")!, clock: { now })
    }

    /// Runs keys headlessly against `store` as `reviewer` and returns the final state, the console still open
    /// (what it holds stays held, as it was on screen).
    static func run(_ store: Store, _ keys: String, width: Int = 100, height: Int = 24, reviewer: String = "tester",
                    optimizer: PromptOptimizing? = nil) throws -> AppState {
        Console.runHeadless(state: state(width: width, height: height, reviewer: reviewer),
                            runner: EffectRunner(data: store, optimizer: optimizer, clock: { now }), keys: try KeyScript.parse(keys),
                            leaveOpen: true)
    }

    static func screen(_ store: Store, _ keys: String, width: Int = 100, height: Int = 24, reviewer: String = "tester") throws -> String {
        Console.render(try run(store, keys, width: width, height: height, reviewer: reviewer)).text
    }

    /// Registers a team (which turns role checks on): root (admin), rev (reviewer), adj (reviewer marked
    /// adjudicator), ann (annotator), pm1 (pm).
    static func addTeam(_ store: Store) throws {
        try store.addTeamMember(name: "root", role: .admin, by: "root", now: base)
        for (name, role, adjudicator) in [("rev", TeamRole.reviewer, false), ("adj", .reviewer, true), ("ann", .annotator, false), ("pm1", .pm, false)] {
            try store.addTeamMember(name: name, role: role, adjudicator: adjudicator, by: "root", now: base)
        }
    }
}

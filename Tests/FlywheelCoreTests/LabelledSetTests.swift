import Foundation
import Testing
@testable import FlywheelCore

/// The hand-labelled conversations in Tests/labelled (written independently of the rules).
func loadLabelledSet() throws -> [LabelledConversation] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    let text = try String(contentsOf: root.appendingPathComponent("labelled/signal-conversations.jsonl"), encoding: .utf8)
    return try text.split(separator: "\n").filter { !$0.isEmpty }.map { try LabelledConversation.parse(line: String($0)) }
}

@Suite struct LabelledSetTests {
    @Test func analyserMeetsTheTargetAndBeatsTheSeedRule() throws {
        let set = try loadLabelledSet()
        #expect(set.count >= 100)
        let ours = SignalEvaluation.evaluate(set, predict: SignalEvaluation.analyzerPredictions(SessionAnalyzer()))
        let seed = SignalEvaluation.evaluate(set, predict: SignalEvaluation.seedPredictions)
        #expect(ours.answers >= 150)
        if ProcessInfo.processInfo.environment["FLYWHEEL_EVAL_VERBOSE"] != nil {
            print("ours combined: \(ours.combined)\n  correction: \(ours.correction)\n  repeated: \(ours.repeated)")
            print("  extraction exact: \(ours.extractionExact)/\(ours.extractionTotal)")
            print("seed combined: \(seed.combined)\n  correction: \(seed.correction)\n  repeated: \(seed.repeated)")
            for m in ours.mistakes { print("  MISS " + m) }
        }
        #expect(ours.combined.precision >= 0.95, "\(ours.combined)")
        #expect(ours.combined.recall >= 0.95, "\(ours.combined)")
        #expect(ours.combined.f1 > seed.combined.f1)
    }
}

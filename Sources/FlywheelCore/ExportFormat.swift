// Export formats: turning one reviewed sample into one line of a training file. Pure: no SQL, no I/O (the
// caller resolves the image to a path or a data URL and writes the lines). The shapes follow
// ../shared/spec/exports.md.

/// The export file formats of `flywheel export`.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// Chat fine-tuning JSONL: `{"messages":[user (image_url + text), assistant]}` per line.
    case openaiChat = "openai-chat"
    /// TRL conversational preference pairs: `prompt`, `chosen`, `rejected`, `images`.
    case dpo
    /// One line per image for tagging models: image and corrected tags.
    case tags
    /// A flat RFC 4180 table.
    case csv

    /// What the format needs of a sample (applied before de-duplication, so the first exportable copy is kept).
    public var requirements: ExportRequirements {
        switch self {
        case .openaiChat: return ExportRequirements(taskTypes: .exceptTags, question: true, wrongAnswer: false)
        case .dpo: return ExportRequirements(taskTypes: .exceptTags, question: true, wrongAnswer: true)
        case .tags: return ExportRequirements(taskTypes: .onlyTags, question: false, wrongAnswer: false)
        case .csv: return ExportRequirements(taskTypes: .all, question: false, wrongAnswer: false)
        }
    }

    /// Samples that show the same picture with the same question are one example: the key ignores the question
    /// for tags (one line per image).
    public var dedupByQuestion: Bool { self != .tags }

    public var fileExtension: String { self == .csv ? "csv" : "jsonl" }
}

public struct ExportRequirements: Sendable, Equatable {
    public enum TaskTypes: Sendable, Equatable { case all, exceptTags, onlyTags }
    public var taskTypes: TaskTypes
    /// A non-blank question.
    public var question: Bool
    /// A non-blank wrong answer (the rejected side of a pair).
    public var wrongAnswer: Bool
}

/// One tag of an image-tagging sample and its review verdict.
public struct SampleTag: Sendable, Equatable {
    public var tag: String
    /// The model's score; nil for a tag the model missed.
    public var score: Double?
    /// unreviewed, correct, wrong or missing.
    public var verdict: String
    public init(tag: String, score: Double?, verdict: String) {
        self.tag = tag
        self.score = score
        self.verdict = verdict
    }

    /// The corrected tag set: the model's tags minus those marked wrong, plus those marked missing; the
    /// model's (scored) tags first, highest score first, then the missing ones by name. The one rule the
    /// export, the review log and the console all use.
    public static func corrected(_ tags: [SampleTag]) -> [SampleTag] {
        let found = tags.filter { $0.verdict != "wrong" && $0.verdict != "missing" && $0.score != nil }
            .sorted { ($0.score!, $1.tag) > ($1.score!, $0.tag) }
        let added = tags.filter { $0.verdict != "wrong" && ($0.verdict == "missing" || $0.score == nil) }.sorted { $0.tag < $1.tag }
        return found + added
    }
}

/// What a line of an export is made of.
public struct ExportSample: Sendable, Equatable {
    public var id: Int64
    public var source: String
    public var quality: String
    public var state: String
    public var taskType: String
    public var category: String
    public var question: String?
    public var wrongAnswer: String?
    public var correctAnswer: String?
    public var sessionID: String?
    public var requestID: String?
    public var createdAt: Int64
    public var tags: [SampleTag]
    /// How far the end user the sample came from is trusted (1 for samples not from an end user).
    public var weight: Double

    public init(id: Int64, source: String, quality: String, state: String, taskType: String, category: String, question: String?,
                wrongAnswer: String?, correctAnswer: String?, sessionID: String?, requestID: String?, createdAt: Int64, tags: [SampleTag] = [],
                weight: Double = 1) {
        self.weight = weight
        self.id = id
        self.source = source
        self.quality = quality
        self.state = state
        self.taskType = taskType
        self.category = category
        self.question = question
        self.wrongAnswer = wrongAnswer
        self.correctAnswer = correctAnswer
        self.sessionID = sessionID
        self.requestID = requestID
        self.createdAt = createdAt
        self.tags = tags
    }

    /// What decides the split: the session, so a conversation never lands on both sides; a sample without one
    /// goes by its request, else by itself.
    public var splitKey: String {
        if let s = sessionID, !s.isEmpty { return "s:" + s }
        if let r = requestID, !r.isEmpty { return "r:" + r }
        return "id:\(id)"
    }
}

public enum ExportLine {
    /// `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":…}},{"type":"text","text":…}]},
    /// {"role":"assistant","content":…}]}`. Without an image the user content holds the text part only.
    public static func openAIChat(_ s: ExportSample, imageURL: String?) -> String {
        var parts: [String] = []
        if let imageURL { parts.append("{\"type\":\"image_url\",\"image_url\":{\"url\":\(jsonQuoted(imageURL))}}") }
        parts.append("{\"type\":\"text\",\"text\":\(jsonQuoted(s.question ?? ""))}")
        return "{\"messages\":[{\"role\":\"user\",\"content\":[\(parts.joined(separator: ","))]},"
            + "{\"role\":\"assistant\",\"content\":\(jsonQuoted(s.correctAnswer ?? ""))}]}"
    }

    /// TRL's conversational preference form (what vision DPO reads): `prompt` is one user message with an
    /// `{"type":"image"}` placeholder per image and the question, `chosen`/`rejected` one assistant message each,
    /// `images` the pictures in placeholder order.
    public static func dpo(_ s: ExportSample, imageURL: String?) -> String {
        var parts: [String] = []
        if imageURL != nil { parts.append("{\"type\":\"image\"}") }
        parts.append("{\"type\":\"text\",\"text\":\(jsonQuoted(s.question ?? ""))}")
        func assistant(_ text: String?) -> String {
            "[{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\(jsonQuoted(text ?? ""))}]}]"
        }
        return "{\"prompt\":[{\"role\":\"user\",\"content\":[\(parts.joined(separator: ","))]}],"
            + "\"chosen\":\(assistant(s.correctAnswer)),\"rejected\":\(assistant(s.wrongAnswer)),"
            + "\"images\":[\(imageURL.map(jsonQuoted) ?? "")]}"
    }

    /// `{"image":…,"tags":[…],"scores":{tag:score}}`: the corrected tags, and the model's score for those it found.
    public static func tags(_ s: ExportSample, imageURL: String) -> String {
        let kept = correctedTags(s.tags)
        let scores = kept.compactMap { t in t.score.map { "\(jsonQuoted(t.tag)):\(jsonNumber($0))" } }
        return "{\"image\":\(jsonQuoted(imageURL)),\"tags\":[\(kept.map { jsonQuoted($0.tag) }.joined(separator: ","))],"
            + "\"scores\":{\(scores.joined(separator: ","))}}"
    }

    /// The corrected tags (see `SampleTag.corrected`).
    public static func correctedTags(_ tags: [SampleTag]) -> [SampleTag] { SampleTag.corrected(tags) }

    public static let csvHeader = ["sample_id", "split", "source", "quality", "state", "category", "task_type", "session_id",
                                   "request_id", "image", "question", "wrong_answer", "correct_answer", "tags", "created_at", "weight"]

    /// One CSV record (without the line end), fields as in `csvHeader`; tags are the corrected tags joined by "; ".
    public static func csv(_ s: ExportSample, split: String, image: String?) -> String {
        [String(s.id), split, s.source, s.quality, s.state, s.category, s.taskType, s.sessionID ?? "", s.requestID ?? "", image ?? "",
         s.question ?? "", s.wrongAnswer ?? "", s.correctAnswer ?? "", correctedTags(s.tags).map(\.tag).joined(separator: "; "),
         Timestamp.format(millis: s.createdAt), String(format: "%.4f", s.weight)].map(csvField).joined(separator: ",")
    }

    /// RFC 4180: a field holding a comma, a quote, CR or LF is quoted and its quotes doubled.
    public static func csvField(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func jsonNumber(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return String(d)
    }
}

/// The deterministic train/validation split.
public enum ExportSplit {
    /// A value in [0, 1) from the seed and the key (FNV-1a 64 then a SplitMix64 finaliser): the same on every
    /// machine and run, independent of row order.
    public static func fraction(seed: UInt64, key: String) -> Double {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<8 {
            h = (h ^ ((seed >> (8 * UInt64(i))) & 0xff)) &* 0x0000_0100_0000_01b3
        }
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        var z = h &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(UInt64(1) << 53)
    }

    /// "train" when the key's fraction is below `ratio`, else "validation".
    public static func side(seed: UInt64, key: String, ratio: Double) -> String {
        fraction(seed: seed, key: key) < ratio ? "train" : "validation"
    }

    /// `out.jsonl` -> `out-train.jsonl`: the split's name before the extension (appended when there is none).
    public static func path(_ base: String, split: String) -> String {
        let slash = base.lastIndex(of: "/").map { base.index(after: $0) } ?? base.startIndex
        let name = base[slash...]
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return String(base[..<dot]) + "-" + split + String(base[dot...])
        }
        return base + "-" + split
    }

    /// `out.jsonl` -> `out.jsonl.manifest.json`: beside the data, and distinct for every --out.
    public static func manifestPath(_ base: String) -> String { base + ".manifest.json" }
}

/// The key two samples share when they are the same example: the question trimmed, lower-cased, with runs of
/// white space made one space (full-width spaces included).
public func normalizedExportQuestion(_ q: String?) -> String {
    guard let q else { return "" }
    var out = ""
    out.reserveCapacity(q.utf8.count)
    var pendingSpace = false
    for u in q.lowercased().unicodeScalars {
        if u.properties.isWhitespace {
            pendingSpace = !out.isEmpty
        } else {
            if pendingSpace { out.unicodeScalars.append(" "); pendingSpace = false }
            out.unicodeScalars.append(u)
        }
    }
    return out
}

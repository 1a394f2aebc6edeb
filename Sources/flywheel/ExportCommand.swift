import ArgumentParser
import Crypto
import FlywheelCore
import FlywheelStore
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write approved and fixed samples as a training file, with a manifest.",
        discussion: """
            Formats: openai-chat (chat fine-tuning JSONL), dpo (TRL preference pairs), tags (one line per image, \
            corrected tags), csv (RFC 4180). Each (image, question) is exported once (the oldest sample); synthetic \
            samples only with --include-synthetic. --split writes PATH-train and PATH-validation, by session. \
            The manifest (PATH.manifest.json) holds the counts, the filter and each file's SHA-256. Once users are \
            registered, only the \(rolesThatMay(.export)) role may export.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions

    @Option(name: .long, help: "openai-chat, dpo, tags or csv.")
    var format: String

    @Option(name: .long, help: ArgumentHelp("The file to write (with --split, the name the split files are made from).", valueName: "PATH"))
    var out: String

    @Option(name: .long, help: ArgumentHelp("Only samples created at or after this date (YYYY-MM-DD or RFC 3339).", valueName: "DATE"))
    var since: String?

    @Option(name: .long, help: "Only these error categories (comma-separated).")
    var category: String?

    @Option(name: .long, help: "Only samples of at least this quality: low, medium, high.")
    var minQuality: String?

    @Option(name: .long, help: ArgumentHelp("Share of sessions for training (e.g. 0.9); the rest is validation.", valueName: "RATIO"))
    var split: Double?

    @Option(name: .long, help: "Seed of the split (the same seed gives the same split).")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Images as base64 data URLs instead of file paths (openai-chat, dpo, tags).")
    var embedImages = false

    @Flag(name: .long, help: "Export synthetic (augmented) samples too.")
    var includeSynthetic = false

    @Flag(name: .long, help: "Print a one-line JSON summary.")
    var json = false

    @Flag(name: .long, help: .hidden)
    var reportPeakRss = false

    var exportFormat: ExportFormat { ExportFormat(rawValue: format)! }
    var categories: [String] { category.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [] }

    func validate() throws {
        guard ExportFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be one of \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let bad = categories.first(where: { ErrorCategory(rawValue: $0) == nil }) {
            throw ValidationError("--category: unknown value \"\(bad)\"; expected \(ErrorCategory.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let minQuality, SampleQuality(rawValue: minQuality) == nil { throw ValidationError("--min-quality must be low, medium or high") }
        if let split, !(split > 0 && split < 1) { throw ValidationError("--split must be between 0 and 1, e.g. 0.9") }
        if since != nil && sinceMillis == nil { throw ValidationError("--since must be a date (2026-05-01) or an RFC 3339 time") }
        if embedImages && exportFormat == .csv { throw ValidationError("--embed-images does not apply to csv") }
        if out.isEmpty || out.hasSuffix("/") { throw ValidationError("--out must name a file") }
    }

    var sinceMillis: Int64? {
        guard let since else { return nil }
        return Timestamp.parseMillis(since) ?? Timestamp.parseMillis(since + "T00:00:00Z")
    }

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            _ = try actor.authorized(.export, in: store)
            let started = Date()
            let format = exportFormat
            let filter = ExportFilter(format: format, since: sinceMillis, categories: categories,
                                      minQuality: minQuality.flatMap(SampleQuality.init(rawValue:)), includeSynthetic: includeSynthetic)
            let splits = split == nil ? ["all"] : ["train", "validation"]
            var files: [String: ExportFileWriter] = [:]
            for name in splits {
                let path = split == nil ? out : ExportSplit.path(out, split: name)
                files[name] = try ExportFileWriter(path: path, lineEnd: format == .csv ? "\r\n" : "\n")
            }
            defer { for f in files.values { f.discard() } }
            if format == .csv {
                for f in files.values { f.write(ExportLine.csvHeader.joined(separator: ",")) }
            }
            var tally = ExportTally(splits: splits)
            var progress: ProgressBar?
            let images = ImageEmbedder(embed: embedImages)
            let plan = try store.forEachExportSample(filter, plan: { plan in
                if isatty(2) != 0 && !json { progress = ProgressBar(total: plan.unique) }
            }) { row in
                defer { progress?.advance() }
                let s = row.sample
                let side = split.map { ExportSplit.side(seed: seed, key: s.splitKey, ratio: $0) } ?? "all"
                var image: String?
                if let i = row.image {
                    switch images.reference(i) {
                    case .ok(let ref): image = ref
                    case .skip(let reason): tally.skip(reason); return
                    }
                } else if format == .tags {
                    tally.skip("no_image"); return
                }
                let line: String
                switch format {
                case .openaiChat: line = ExportLine.openAIChat(s, imageURL: image)
                case .dpo: line = ExportLine.dpo(s, imageURL: image)
                case .tags: line = ExportLine.tags(s, imageURL: image!)
                case .csv: line = ExportLine.csv(s, split: side, image: image)
                }
                try files[side]!.writeChecked(line)
                tally.count(split: side, category: s.category, source: s.source)
            }
            progress?.finish()
            var fileEntries: [[String: Any]] = []
            for name in splits {
                let f = files[name]!
                let digest = try f.commit()
                fileEntries.append(["split": name, "path": f.path, "rows": tally.bySplit[name]?.samples ?? 0, "bytes": f.bytes, "sha256": digest])
            }
            let manifestPath = ExportSplit.manifestPath(out)
            var filterJSON: [String: Any] = [
                "states": ["approved", "fixed"], "categories": categories, "include_synthetic": includeSynthetic,
                "embed_images": embedImages, "since": sinceMillis.map { Timestamp.format(millis: $0) as Any } ?? NSNull(),
                "min_quality": minQuality.map { $0 as Any } ?? NSNull(), "split": split.map { $0 as Any } ?? NSNull(),
                "seed": split == nil ? NSNull() as Any : seed as Any,
                "dedup": format.dedupByQuestion ? "image+question" : "image",
            ]
            if format == .dpo { filterJSON["requires"] = ["question", "wrong_answer"] } else if format == .openaiChat { filterJSON["requires"] = ["question"] }
            let manifest: [String: Any] = [
                "format": format.rawValue,
                "created_at": Timestamp.format(millis: Int64(Date().timeIntervalSince1970 * 1000)),
                "database": database.path,
                "filter": filterJSON,
                "counts": [
                    "samples": tally.total, "matched": plan.matched, "duplicates": plan.duplicates, "skipped": tally.skipped,
                    "by_split": tally.bySplit.mapValues { $0.samples }, "by_category": tally.byCategory, "by_source": tally.bySource,
                ] as [String: Any],
                "splits": tally.bySplit.mapValues { ["samples": $0.samples, "by_category": $0.byCategory, "by_source": $0.bySource] },
                "files": fileEntries,
            ]
            let data = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            guard FileManager.default.createFile(atPath: manifestPath, contents: data + Data("\n".utf8)) else {
                throw CLIError("cannot write \(manifestPath)")
            }
            let seconds = Date().timeIntervalSince(started)
            let rate = seconds > 0 ? Double(tally.total) / seconds : 0
            if json {
                var summary = "{\"format\":\(jsonQuoted(format.rawValue)),\"samples\":\(tally.total),\"matched\":\(plan.matched),"
                    + "\"duplicates\":\(plan.duplicates),\"skipped\":\(tally.skipped.values.reduce(0, +)),"
                    + "\"by_split\":{\(splits.map { "\(jsonQuoted($0)):\(tally.bySplit[$0]?.samples ?? 0)" }.joined(separator: ","))},"
                    + "\"files\":[\(fileEntries.map { jsonQuoted($0["path"] as! String) }.joined(separator: ","))],"
                    + "\"manifest\":\(jsonQuoted(manifestPath)),\"seconds\":\(String(format: "%.3f", seconds))"
                if reportPeakRss { summary += ",\"peak_rss_kib\":\(peakRSSKiB() ?? -1)" }
                print(summary + "}")
            } else {
                let perSplit = splits.count > 1 ? " (" + splits.map { "\($0) \(tally.bySplit[$0]?.samples ?? 0)" }.joined(separator: ", ") + ")" : ""
                print("exported \(tally.total) samples\(perSplit) as \(format.rawValue) in \(String(format: "%.2f", seconds)) s (\(Int(rate)) rows/s)")
                var notes = ["\(plan.duplicates) duplicates of an (image, question) left out"]
                for (reason, n) in tally.skipped.sorted(by: { $0.key < $1.key }) { notes.append("\(n) skipped: \(reason.replacingOccurrences(of: "_", with: " "))") }
                print(notes.joined(separator: "; "))
                for e in fileEntries { print("  \(e["path"]!)  \(e["rows"]!) rows  sha256 \(e["sha256"]!)") }
                print("  \(manifestPath)  manifest")
                if tally.total == 0 { printErr("nothing to export: approve or fix samples in `flywheel console` (or widen the filter)") }
            }
        }
    }
}

/// Counts for the manifest: per split, category and source (a handful of keys whatever the number of samples).
struct ExportTally {
    struct Split { var samples = 0; var byCategory: [String: Int] = [:]; var bySource: [String: Int] = [:] }
    var total = 0
    var bySplit: [String: Split]
    var byCategory: [String: Int] = [:]
    var bySource: [String: Int] = [:]
    var skipped: [String: Int] = [:]

    init(splits: [String]) { bySplit = Dictionary(uniqueKeysWithValues: splits.map { ($0, Split()) }) }

    mutating func count(split: String, category: String, source: String) {
        total += 1
        byCategory[category, default: 0] += 1
        bySource[source, default: 0] += 1
        bySplit[split, default: Split()].samples += 1
        bySplit[split]!.byCategory[category, default: 0] += 1
        bySplit[split]!.bySource[source, default: 0] += 1
    }

    mutating func skip(_ reason: String) { skipped[reason, default: 0] += 1 }
}

/// Image references for the export: the file's path (or the URL) as recorded, or with `embed` a base64 data URL.
struct ImageEmbedder {
    enum Result { case ok(String), skip(String) }
    var embed: Bool
    /// Hosted trainers take images up to about 10 MB.
    static let maxEmbedBytes = 10 * 1024 * 1024

    func reference(_ image: ExportImage) -> Result {
        if image.status == "url" { return .ok(image.ref) }
        guard embed else { return .ok(image.path ?? image.ref) }
        guard image.status == "present", let path = image.path else { return .skip("image_unavailable") }
        guard let data = FileManager.default.contents(atPath: path) else { return .skip("image_unavailable") }
        guard data.count <= Self.maxEmbedBytes else { return .skip("image_too_large") }
        let mime: String
        switch (image.format ?? (path as NSString).pathExtension).lowercased() {
        case "png": mime = "image/png"
        case "jpeg", "jpg": mime = "image/jpeg"
        case "webp": mime = "image/webp"
        case "gif": mime = "image/gif"
        default: return .skip("image_format")
        }
        return .ok("data:\(mime);base64," + data.base64EncodedString())
    }
}

/// A file written through a 256 KiB buffer and hashed as it goes, under a temporary name until `commit`
/// renames it into place (a failed export leaves no half file).
final class ExportFileWriter {
    let path: String
    let tempPath: String
    let fd: Int32
    let lineEnd: [UInt8]
    var buffer: [UInt8] = []
    var hasher = SHA256()
    private(set) var bytes = 0
    var committed = false
    var failure: String?

    init(path: String, lineEnd: String) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        tempPath = path + ".partial-\(getpid())"
        fd = open(tempPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))") }
        self.lineEnd = Array(lineEnd.utf8)
        buffer.reserveCapacity(1 << 18 + 4096)
    }

    func write(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(contentsOf: lineEnd)
        if buffer.count >= 1 << 18 { flush() }
    }

    func writeChecked(_ line: String) throws {
        write(line)
        if let failure { throw CLIError(failure) }
    }

    func flush() {
        guard !buffer.isEmpty, failure == nil else { buffer.removeAll(keepingCapacity: true); return }
        hasher.update(data: buffer)
        buffer.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = "cannot write \(path): \(String(cString: strerror(errno)))"
                    return
                }
                off += n
            }
        }
        bytes += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, closes and renames the file into place; returns its SHA-256 (hex).
    func commit() throws -> String {
        flush()
        if let failure { throw CLIError(failure) }
        guard fsync(fd) == 0 || errno == EINVAL, close(fd) == 0 else { throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))") }
        guard rename(tempPath, path) == 0 else { throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))") }
        committed = true
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Removes the temporary file unless committed.
    func discard() {
        guard !committed else { return }
        close(fd)
        unlink(tempPath)
    }
}

/// `[#####.....]  45%  450000/1000000  12345 rows/s` on stderr, redrawn at most ten times a second.
struct ProgressBar {
    let total: Int
    var done = 0
    let start = Date()
    var lastDraw = Date.distantPast

    init(total: Int) { self.total = total; draw() }

    mutating func advance() {
        done += 1
        if done & 255 == 0, Date().timeIntervalSince(lastDraw) >= 0.1 { draw() }
    }

    mutating func draw() {
        lastDraw = Date()
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let width = 30, filled = Int(fraction * Double(width))
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Int(Double(done) / elapsed) : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(String(format: "%3d", Int(fraction * 100)))%  \(done)/\(total)  \(rate) rows/s".utf8))
    }

    mutating func finish() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

/// This process's peak resident set (VmHWM), in KiB (Linux).
func peakRSSKiB() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
    return Int(line.split(separator: " ").dropFirst().first ?? "")
}

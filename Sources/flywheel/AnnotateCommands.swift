import ArgumentParser
import FlywheelCore
import FlywheelIngest
import FlywheelStore
import Foundation

enum AnnotationKindOption: String, ExpressibleByArgument, CaseIterable {
    case vqa, tags
}


struct SeedImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-images",
        abstract: "Register a folder of images as annotation tasks (cold start).",
        discussion: """
            Each PNG, JPEG, GIF or WebP file (recognised by its first bytes, whatever its name) is hashed and \
            measured exactly as ingest does and gets one open annotation task of the kind; other files are skipped \
            and counted. Running it again adds only what is new: one task per image and kind. Once users are \
            registered, only the \(rolesThatMay(.queueAnnotation)) role may queue tasks; each run that adds some is audited.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions

    @Argument(help: ArgumentHelp("The folder of images.", valueName: "DIR"))
    var dir: String

    @Option(name: .long, help: "vqa (answer a question about the image) or tags (list its tags).")
    var kind: AnnotationKindOption = .vqa

    @Option(name: .long, help: ArgumentHelp("The question of vqa tasks (default: \"What does this image show?\").", valueName: "TEXT"))
    var question: String?

    @Flag(name: .long, help: "Also look in subfolders.")
    var recursive = false

    func validate() throws {
        if question != nil && kind == .tags { throw ValidationError("--question applies to --kind vqa only") }
        if let question, question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("--question is empty") }
    }

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let who = try actor.authorized(.queueAnnotation, in: store)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw CLIError("\(dir) is not a folder")
            }
            let root = URL(fileURLWithPath: dir).standardizedFileURL.path
            let files = try listFiles(root)
            var images: [ResolvedImage] = []
            var skipped = 0, unreadable = 0
            for path in files {
                guard let head = readHead(path) else { unreadable += 1; continue }
                guard Self.isImage(head) else { skipped += 1; continue }
                let image = ImageResolver.inspect(path: path, ref: path)
                guard image.status == .present else { unreadable += 1; continue }
                images.append(image)
            }
            let q = kind == .vqa ? (question?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "What does this image show?") : nil
            let now = nowMillis()
            let result = try annotationCall { try store.registerSeedImages(images, kind: kind.rawValue, question: q, now: now) }
            if result.newTasks > 0 || result.newImages > 0 {
                try store.recordAudit(actor: who, guarded: .queueAnnotation, action: "seed_images", entity: "annotation_task", entityID: root,
                                      before: nil, after: "{\"kind\":\(jsonQuoted(kind.rawValue)),\"images\":\(images.count),"
                                          + "\"new_images\":\(result.newImages),\"new_tasks\":\(result.newTasks)}",
                                      note: "seeded \(result.newTasks) \(kind.rawValue) tasks from \(root)", now: now)
            }
            print("\(images.count) images found (\(result.newImages) new to the store): \(result.newTasks) new \(kind.rawValue) annotation tasks")
            if skipped > 0 { print("skipped \(skipped) files that are not PNG, JPEG, GIF or WebP images") }
            if unreadable > 0 { print("could not read \(unreadable) files") }
        }
    }

    /// Regular, non-hidden files of the folder (and its subfolders with --recursive), sorted by path.
    func listFiles(_ root: String) throws -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        var folders = [root]
        while let folder = folders.popLast() {
            let names: [String]
            do { names = try fm.contentsOfDirectory(atPath: folder) } catch { throw CLIError("cannot read \(folder): \(error.localizedDescription)") }
            for name in names where !name.hasPrefix(".") {
                let path = folder + "/" + name
                var isDir: ObjCBool = false
                guard fm.fileExists(atPath: path, isDirectory: &isDir) else { continue }
                if isDir.boolValue {
                    if recursive { folders.append(path) }
                } else {
                    out.append(path)
                }
            }
        }
        return out.sorted()
    }

    func readHead(_ path: String) -> [UInt8]? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        return (try? h.read(upToCount: 16)).map { Array($0 ?? Data()) }
    }

    /// PNG, JPEG, GIF or WebP by magic bytes.
    static func isImage(_ b: [UInt8]) -> Bool {
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return true }
        if b.starts(with: [0xFF, 0xD8, 0xFF]) { return true }
        if b.starts(with: Array("GIF87a".utf8)) || b.starts(with: Array("GIF89a".utf8)) { return true }
        if b.count >= 12, b.starts(with: Array("RIFF".utf8)), Array(b[8..<12]) == Array("WEBP".utf8) { return true }
        return false
    }
}

struct AnnotateQueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotate-queue",
        abstract: "Queue answered turns nobody gave feedback on as annotation tasks.",
        discussion: """
            --from-turns queues assistant answers of analysed sessions with no feedback, no signal and no sample \
            as vqa tasks: the question is the user's turn, the suggestion the assistant's answer. Once users are \
            registered, only the \(rolesThatMay(.queueAnnotation)) role may queue tasks; each run that adds some is audited.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions

    @Flag(name: .long, help: "Queue answered turns without feedback or signals.")
    var fromTurns = false

    @Option(name: .long, help: "At most this many new tasks.")
    var limit = 100

    func validate() throws {
        guard fromTurns else { throw ValidationError("nothing to queue: pass --from-turns") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let who = try actor.authorized(.queueAnnotation, in: store)
            let now = nowMillis()
            let n = try store.queueUnlabelledTurns(limit: limit, now: now)
            if n > 0 {
                try store.recordAudit(actor: who, guarded: .queueAnnotation, action: "annotate_queue", entity: "annotation_task", entityID: "from_turns",
                                      before: nil, after: "{\"kind\":\"vqa\",\"new_tasks\":\(n),\"limit\":\(limit)}",
                                      note: "queued \(n) answered turns without feedback", now: now)
            }
            print("queued \(n) answered turns without feedback as vqa annotation tasks")
        }
    }
}

struct AnnotationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "annotations", abstract: "Show annotation progress and the next open tasks.")

    @OptionGroup var database: DatabaseOptions

    @Option(name: .long, help: "How many labels are wanted (for the progress line).")
    var goal = 200

    @Option(name: .long, help: "List this many of the next open tasks.")
    var limit = 10

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let p = try store.annotationProgress(goal: goal)
            var line = "annotation: \(p.done)/\(p.goal) done, \(p.open) open, \(p.skipped) skipped; last hour \(p.lastHour)"
            if let rate = p.perHour {
                line += String(format: ", %.1f per hour", rate)
                let left = p.goal - p.done
                if left > 0 && rate > 0 { line += String(format: " (goal in about %.1f h)", Double(left) / rate) }
            }
            print(line)
            let counts = try store.annotationCounts()
            if counts.isEmpty {
                print("No annotation tasks yet: flywheel seed-images DIR, or flywheel annotate-queue --from-turns.")
                return
            }
            var table = TextTable(headers: ["kind", "origin", "status", "tasks"], widths: [5, 15, 7, 6])
            for c in counts { table.add([c.kind, c.origin, c.status, String(c.count)]) }
            print(table.render())
            let next = try store.nextAnnotationTasks(after: nil, limit: limit)
            guard limit > 0, !next.isEmpty else { return }
            print("\nnext open tasks:")
            var tasks = TextTable(headers: ["id", "kind", "image", "question"], widths: [6, 5, 40, 50])
            for t in next { tasks.add([String(t.id), t.kind, t.imageRef ?? "-", t.question ?? "-"]) }
            print(tasks.render())
        }
    }
}

struct AugmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "augment",
        abstract: "Derive synthetic samples from reviewed ones by rewording their questions.",
        discussion: """
            Each approved or fixed sample with a question gets up to --per-sample rewrites (Chinese or English \
            templates, after the question's language), each a new approved sample with the same answer, marked \
            synthetic and linked to its source. Running it again creates no rewrite twice. Once users are \
            registered, only the \(rolesThatMay(.augment)) role may augment; each run that creates samples is audited.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions

    @Option(name: .long, help: "Rewrites per source sample (at most 6).")
    var perSample = 2

    @Option(name: .long, help: "At most this many source samples per run.")
    var limit = 1000

    func validate() throws {
        guard (1...6).contains(perSample) else { throw ValidationError("--per-sample must be 1 to 6") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let who = try actor.authorized(.augment, in: store)
            let sources = try store.augmentationSources(below: perSample, limit: limit)
            var items: [(sourceID: Int64, question: String, note: String)] = []
            for s in sources {
                for v in Paraphrase.variants(of: s.question, count: perSample) {
                    items.append((s.sampleID, v.question, "paraphrase of sample \(s.sampleID) (template \(v.template))"))
                }
            }
            let now = nowMillis()
            let n = try store.insertSyntheticSamples(items, now: now)
            if n > 0 {
                try store.recordAudit(actor: who, guarded: .augment, action: "augment", entity: "sample", entityID: "synthetic",
                                      before: nil, after: "{\"created\":\(n),\"sources\":\(sources.count),\"per_sample\":\(perSample)}",
                                      note: "\(n) paraphrases of \(sources.count) reviewed samples", now: now)
            }
            print("\(n) synthetic samples from \(sources.count) reviewed samples")
        }
    }
}

func annotationCall<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as AnnotationError {
        throw CLIError(e.description)
    }
}

import ArgumentParser
import FlywheelAnalyze
import FlywheelIngest
import FlywheelLLM
import FlywheelStore
import Foundation

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build a fresh demo database from the bundled sample data, then show it.",
        discussion: """
            Ingests sample-data/events/*.jsonl and sample-data/broken/*.jsonl (which shows the quarantine at \
            work) into a new database. Without --db the demo database is demo.sqlite in the flywheel data \
            directory. An existing database is replaced only if it is itself a demo database.
            """)

    @Option(name: .long, help: ArgumentHelp("Demo database file.", valueName: "PATH"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("The sample-data folder (default: found beside the working directory or the executable).", valueName: "DIR"))
    var data: String?

    @Flag(name: .long, help: "Only build the demo database; do not open the console.")
    var noConsole = false

    @OptionGroup var console: ConsoleOptions

    func run() throws {
        try reportingErrors {
            let dataDir = try locateSampleData()
            let path = DatabaseLocation.resolve(explicit: db, fileName: "demo.sqlite")
            try removeOldDemo(path)
            let store = try Store.open(path: path)
            try store.setMeta("demo", "1")
            let ingestor = Ingestor(store: store)
            var files: [String] = []
            for sub in ["events", "broken"] {
                let dir = dataDir + "/" + sub
                let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
                files += names.filter { $0.hasSuffix(".jsonl") }.sorted().map { dir + "/" + $0 }
            }
            if files.isEmpty { throw CLIError("no .jsonl files under \(dataDir)/events") }
            var total = IngestCounts()
            for file in files {
                let r = ingestor.ingest(path: file)
                if let e = r.error { throw CLIError("cannot read \(file): \(e)") }
                total += r.counts
            }
            print("demo database built: \(total.ingested) events ingested, \(total.quarantined) lines quarantined (from sample-data/broken, on purpose)")
            // Everything works offline; an LLM is used only if one is configured in the environment.
            let config = LLMConfiguration.resolve(url: nil, model: nil)
            let summary = try AnalysisJob(store: store, llm: config.map { CurlChatClient(configuration: $0) }, llmModel: config?.model).run()
            print("analysed \(summary.sessions) sessions: \(summary.newSignals) signals, \(summary.newSamples) training samples")
            try registerDemoPrompts(store: store, dir: dataDir + "/prompts")
            try printStats(store: store, path: path, json: false)
            let q = shellQuote(path)
            // The console opens when there is a terminal to open it in (or --headless asks for a text screen).
            if !noConsole && (console.headless || (isatty(0) == 1 && isatty(1) == 1)) {
                try console.run(store: store)
                if !console.headless { print("demo database: \(path)\nopen it again with: flywheel console --db \(q)") }
                return
            }
            print("\nopen the review console with:\n  flywheel console --db \(q)\nor list from the shell:\n  flywheel samples --db \(q)\n  flywheel signals --db \(q) --kind correction\n  flywheel quarantine --db \(q)")
        }
    }

    /// Template texts for the versions the events name (sample-data/prompts/NAME.txt); each version's parent is
    /// the one before it of the same task type; the newest version of each task type becomes the active one.
    private func registerDemoPrompts(store: Store, dir: String) throws {
        let versions = try store.promptVersions().sorted { ($0.createdAt, $0.name) < ($1.createdAt, $1.name) }
        var added: [String] = []
        for (i, v) in versions.enumerated() {
            guard v.template == nil, let text = try? String(contentsOfFile: dir + "/" + v.name + ".txt", encoding: .utf8) else { continue }
            let parent = versions[..<i].last { $0.taskType == v.taskType }?.name
            try storeCall { try store.addPromptVersion(name: v.name, template: text.trimmingCharacters(in: .whitespacesAndNewlines),
                                                       parent: parent, author: "sample-data", taskType: v.taskType, now: v.createdAt) }
            added.append(v.name)
        }
        var newest: [String: String] = [:]
        for v in versions { newest[v.taskType ?? ""] = v.name }
        for name in newest.values.sorted() { try storeCall { try store.activatePromptVersion(name) } }
        print("prompt versions: \(versions.count) (templates for \(added.joined(separator: ", "))); active: \(newest.values.sorted().joined(separator: ", "))")
    }

    private func locateSampleData() throws -> String {
        if let data {
            guard FileManager.default.fileExists(atPath: data + "/events") else { throw CLIError("\(data) has no events/ folder") }
            return data
        }
        var candidates = [FileManager.default.currentDirectoryPath + "/sample-data"]
        // Walk up from the executable (.build/debug/flywheel -> repository root).
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir.path + "/sample-data")
            dir = dir.deletingLastPathComponent()
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/events") }) else {
            throw CLIError("cannot find the sample-data folder; pass --data DIR")
        }
        return URL(fileURLWithPath: found).standardizedFileURL.path
    }

    private func removeOldDemo(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        // Check in a scope of its own so the connection is closed before the files go.
        let isDemo = try { try Store.open(path: path).metaValue("demo") == "1" }()
        guard isDemo else {
            throw CLIError("\(path) exists and is not a demo database; refusing to replace it")
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}

import ArgumentParser
import FlywheelAnalyze
import FlywheelCollect
import FlywheelIngest
import FlywheelLLM
import FlywheelStore
import Foundation
import Logging

struct CollectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "The background collector: follow an inbox folder, take events over HTTP and stdin, analyse on a schedule.",
        discussion: """
            Sources: --watch DIR (every *.jsonl in DIR, followed as lines are appended and files appear; read \
            offsets are committed with the events, so kill -9 and a restart lose and duplicate nothing), \
            --listen HOST:PORT (POST /v1/events, GET /healthz, GET /metrics; a bearer token from --token or \
            FLYWHEEL_TOKEN is required on all but /healthz, and on any non-loopback address), and - for stdin. \
            Every --interval it analyses newly completed sessions and runs pending LLM extractions \
            (--llm-concurrency at once, at most --llm-rpm per minute). SIGINT/SIGTERM finish the current batch, \
            commit, and exit 0. --once processes what is there and exits. Logs are logfmt lines on stderr, one per \
            batch.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var llm: LLMOptions

    @Option(name: .long, help: ArgumentHelp("Folder of *.jsonl files to follow (repeatable).", valueName: "DIR"))
    var watch: [String] = []

    @Option(name: .long, help: ArgumentHelp("Serve HTTP ingest on this address, e.g. 127.0.0.1:8080.", valueName: "HOST:PORT"))
    var listen: String?

    @Option(name: .long, help: ArgumentHelp("Bearer token for HTTP (default: $FLYWHEEL_TOKEN).", valueName: "TOKEN"))
    var token: String?

    @Option(name: .long, help: ArgumentHelp("Largest HTTP body accepted, in bytes; larger gets 413.", valueName: "BYTES"))
    var maxBody: Int = 16 << 20

    @Option(name: .long, help: "Seconds between scheduled analyses.")
    var interval: Double = 300

    @Option(name: .long, help: "Seconds between looks at the watched folders.")
    var poll: Double = 0.5

    @Option(name: .long, help: "Idle time after which a session without session_end counts as complete (e.g. 30m).")
    var idle: String = "30m"

    @Option(name: .long, help: "Answers slower than this many milliseconds get a slow_response signal.")
    var slowMs: Int = 15_000

    @Option(name: .long, help: "LLM requests in flight at once.")
    var llmConcurrency: Int = 2

    @Option(name: .long, help: "At most this many LLM requests per minute (0: no limit).")
    var llmRpm: Int = 60

    @Option(name: .long, help: "At most this many LLM extractions per scheduled run.")
    var llmLimit: Int = 200

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(name: .long, help: ArgumentHelp("Folder where stdin is spooled before ingest (default: stdin-spool beside the database).", valueName: "DIR"))
    var spool: String?

    @Flag(name: .long, help: "Process what is there now (folders, stdin), analyse once, and exit.")
    var once = false

    @Argument(help: ArgumentHelp("- to read events from standard input.", valueName: "-"))
    var inputs: [String] = []

    func validate() throws {
        if inputs.contains(where: { $0 != "-" }) { throw ValidationError("the only input argument is - (stdin); use --watch DIR for folders") }
        if watch.isEmpty && listen == nil && inputs.isEmpty { throw ValidationError("nothing to collect from: give --watch DIR, --listen HOST:PORT or -") }
        if once && listen != nil { throw ValidationError("--once does not serve HTTP; drop --listen") }
        if interval <= 0 || poll <= 0 { throw ValidationError("--interval and --poll must be positive") }
        if Duration.parseMillis(idle) == nil { throw ValidationError("--idle: expected a duration like 30m, 2h, 90s or 1800") }
        if llmConcurrency < 1 || llmRpm < 0 || llmLimit < 0 || maxBody < 1 { throw ValidationError("--llm-concurrency, --llm-rpm, --llm-limit and --max-body must be positive") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical") }
    }

    func run() throws {
        try reportingErrors {
            var logger = Logger(label: "flywheel.collect") { LogfmtLogHandler(label: $0) }
            logger.logLevel = Logger.Level(rawValue: logLevel)!
            let store = try database.open()
            for dir in watch {
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                    throw CLIError("--watch \(dir): no such folder")
                }
            }
            var options = CollectorOptions()
            options.watchDirectories = watch
            options.readStdin = inputs.contains("-")
            options.stopWhenStdinEnds = options.readStdin && watch.isEmpty && listen == nil
            // stdin is spooled beside the database, so a restart finds what was read but not yet ingested.
            options.spoolDirectory = spool ?? ((store.path.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? NSTemporaryDirectory()) + "/stdin-spool")
            options.interval = interval
            options.pollInterval = poll
            options.analysis.idleMs = Duration.parseMillis(idle)!
            options.analysis.slowMs = slowMs
            options.analysis.llmConcurrency = llmConcurrency
            options.analysis.llmRequestsPerMinute = llmRpm == 0 ? nil : llmRpm
            options.analysis.llmLimit = llmLimit
            let config = llm.configuration
            let metrics = CollectorMetrics()
            let collector = Collector(store: store, options: options, llm: config.map { CurlChatClient(configuration: $0) },
                                      llmModel: config?.model, metrics: metrics, logger: logger)
            let watchers = watch.map { InboxWatcher(store: store, directory: $0, metrics: metrics, logger: logger) }
            logger.info("collector starting", metadata: [
                "db": "\(store.path ?? ":memory:")", "watch": "\(watch.joined(separator: ","))", "stdin": "\(options.readStdin)",
                "llm": "\(config?.model ?? "none")", "once": "\(once)",
            ])
            if once {
                collector.runOnce(watchers: watchers)
                logger.info("collector done")
                return
            }
            let stop = StopFlag()
            // HTTP: validated (a non-loopback address needs a token) and bound before anything else runs, so
            // a bad address or a port in use is an error at start-up, not a log line later.
            var serverTask: Task<Void, Never>?
            let serverDone = DispatchSemaphore(value: 0)
            let serverError = ErrorBox()
            if let listen {
                var config: HTTPIngestConfiguration
                do { config = try HTTPIngestConfiguration(listen: listen, token: token) } catch { throw CLIError("--listen: \(error)") }
                config.maxBodyBytes = maxBody
                config.sessionIdleMs = options.analysis.idleMs
                let ready = DispatchSemaphore(value: 0)
                let server: HTTPIngestServer
                let (log, host, auth) = (logger, config.host, config.token == nil ? "none" : "required")
                do {
                    server = try HTTPIngestServer(configuration: config, store: store, metrics: metrics, logger: logger, onListening: { port in
                        log.info("listening", metadata: ["address": "\(host):\(port)", "token": "\(auth)"])
                        ready.signal()
                    })
                } catch { throw CLIError("\(error)") }
                serverTask = Task.detached {
                    do { try await server.run() } catch { serverError.set(error); stop.set() }
                    ready.signal()
                    serverDone.signal()
                }
                ready.wait()
                if let e = serverError.value { throw CLIError("cannot serve HTTP on \(listen): \(e)") }
            }
            // Signals only set the flag; every loop commits the batch in hand and returns.
            var sources: [DispatchSourceSignal] = []
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler {
                    logger.info("stopping: finishing the current batch", metadata: ["signal": "\(sig == SIGINT ? "SIGINT" : "SIGTERM")"])
                    stop.set()
                }
                source.resume()
                sources.append(source)
            }
            collector.run(watchers: watchers, stop: stop)
            if let serverTask {
                // Requests in flight are answered before the server goes.
                serverTask.cancel()
                serverDone.wait()
            }
            withExtendedLifetime(sources) {}
            if let e = serverError.value { throw CLIError("HTTP server failed: \(e)") }
            logger.info("collector stopped")
        }
    }
}

/// An error set from another thread.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: Error?
    func set(_ e: Error) { lock.withLock { if error == nil { error = e } } }
    var value: Error? { lock.withLock { error } }
}

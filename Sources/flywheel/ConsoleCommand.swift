import ArgumentParser
import Console
import FlywheelCore
import FlywheelLLM
import FlywheelStore
import Foundation
import TerminalKit
import TerminalNcurses

extension NcursesTerminal: TerminalDevice {}

/// Options shared by `flywheel console` and `flywheel demo`.
struct ConsoleOptions: ParsableArguments {
    /// --user: the reviewer written with every decision, checked against their role once users are registered.
    @OptionGroup var actor: ActorOptions

    @Option(name: .long, help: ArgumentHelp("Colour theme: a name from themes/ (dark, light, high-contrast) or a .toml file.", valueName: "NAME"))
    var theme: String = "dark"

    @Option(name: .long, help: ArgumentHelp("Colours: auto (detect; NO_COLOR turns them off), 256, 8 or none.", valueName: "MODE"))
    var colors: String = "auto"

    @Option(name: .long, help: ArgumentHelp("Seed labels the annotate screen counts toward.", valueName: "N"))
    var goal: Int = 1000

    @Flag(name: .long, help: "Run without a terminal: feed --keys, print the final screen as text, exit.")
    var headless = false

    @Option(name: .long, help: ArgumentHelp("Screen size in headless mode.", valueName: "COLSxROWS"))
    var size: String = "120x40"

    @OptionGroup var llm: LLMOptions

    @Option(name: .long, help: ArgumentHelp("Keys for headless mode: characters, and <Enter> <Esc> <Tab> <Up> <Down> <Left> <Right> <PgUp> <PgDn> <BS> <Home> <End> <Del> <Space> <lt> <C-x>.", valueName: "KEYS"))
    var keys: String = ""

    func validate() throws {
        guard ["auto", "256", "8", "none"].contains(colors) else { throw ValidationError("--colors must be auto, 256, 8 or none") }
        _ = try parsedSize()
        do { _ = try KeyScript.parse(keys) } catch { throw ValidationError("--keys: \(error)") }
        if !headless && !keys.isEmpty { throw ValidationError("--keys needs --headless") }
        if goal < 1 { throw ValidationError("--goal must be at least 1") }
    }

    func parsedSize() throws -> (Int, Int) {
        let parts = size.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), (20...1000).contains(w), (6...500).contains(h) else {
            throw ValidationError("--size must be COLSxROWS, e.g. 120x40 (20-1000 columns, 6-500 rows)")
        }
        return (w, h)
    }

    /// The console's user. Once roles are enforced they must be registered: the console refuses to start
    /// otherwise (exit 77), rather than open screens whose every action would be refused.
    func reviewer(in store: Store) throws -> String {
        let name = try actor.name()
        if try store.rolesEnforced(), try store.teamMember(named: name) == nil {
            throw CLIError("'\(name)' is not a registered user and may not use the console: an admin can add them with "
                           + "flywheel user add \(name) --role ROLE (\(TeamRole.allCases.map(\.rawValue).joined(separator: ", "))), "
                           + "or pass --user NAME", exitCode: exitNoPermission)
        }
        return name
    }

    func loadTheme() throws -> Theme {
        var dirs: [String] = []
        if let env = ProcessInfo.processInfo.environment["FLYWHEEL_THEMES"] { dirs.append(env) }
        dirs.append(FileManager.default.currentDirectoryPath + "/themes")
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            dirs.append(dir.path + "/themes")
            dir = dir.deletingLastPathComponent()
        }
        do { return try Theme.load(theme, searchPaths: dirs) } catch { throw CLIError("\(error)") }
    }

    /// Opens the console on `store`: headless (prints the final screen) or in the terminal.
    func run(store: Store) throws {
        let reviewer = try reviewer(in: store)
        let theme = try loadTheme()
        // The prompts screen's `o` runs the same optimisation as `flywheel optimize`, off the UI thread.
        let optimizer: PromptOptimizing? = llm.configuration.map { config in
            let client = CurlChatClient(configuration: config)
            return { name in
                try runPromptOptimization(store: store, client: client, model: config.model, promptName: name, taskType: nil, newName: nil,
                                          now: nowMillis(), actor: reviewer).candidate.name
            }
        }
        let runner = EffectRunner(data: store, optimizer: optimizer)
        if headless {
            let (w, h) = try parsedSize()
            let keys = try KeyScript.parse(keys)
            let state = AppState(width: w, height: h, reviewer: reviewer, theme: theme, annotationGoal: goal)
            let final = Console.runHeadless(state: state, runner: runner, keys: keys)
            print(Console.render(final).text)
            return
        }
        let forced: ColorSupport?
        switch colors {
        case "256": forced = .full256
        case "8": forced = .basic8
        case "none": forced = ColorSupport.none
        default: forced = nil
        }
        let terminal: NcursesTerminal
        do { terminal = try NcursesTerminal(forceColors: forced) } catch { throw CLIError("\(error) (use --headless to run without a terminal)") }
        defer { terminal.stop() }
        let depth: ColorDepth = terminal.colorSupport == .full256 ? .full256 : terminal.colorSupport == .basic8 ? .basic8 : ColorDepth.none
        runner.previewDepth = depth == .full256 ? .full256 : depth == .basic8 ? .basic8 : .mono
        let state = AppState(width: terminal.size.width, height: terminal.size.height, reviewer: reviewer, theme: theme.adapted(to: depth), depth: depth, annotationGoal: goal)
        Console.runInteractive(state: state, runner: runner, terminal: terminal)
    }
}

struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The review console: browse sessions and flagged turns, approve, reject or fix training samples.",
        discussion: """
            Keyboard only; ? shows the keys. Decisions are written at once to the append-only review log with \
            your name (--user, else $USER). Once users are registered (flywheel user add) the console opens only \
            for a registered user, and each action is checked against their role (flywheel user roles). With --headless the same app runs on an in-memory screen: it feeds \
            --keys, waits for each key's queries and writes, prints the final screen and exits.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var options: ConsoleOptions

    func run() throws {
        try reportingErrors {
            try options.run(store: try database.open())
        }
    }
}

import ArgumentParser
import FlywheelCore
import FlywheelStore
import Foundation

@main
struct Flywheel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flywheel",
        abstract: "Turn what users of a multimodal AI product say and do into reviewed training data.",
        subcommands: [IngestCommand.self, AnalyzeCommand.self, SignalsCommand.self, SamplesCommand.self, QuarantineCommand.self,
                      StatsCommand.self, EvalSignalsCommand.self, DemoCommand.self, ConsoleCommand.self, CollectCommand.self,
                      PromptCommand.self, OptimizeCommand.self, PatternsCommand.self, PlanCommand.self, ABCommand.self, MetricsCommand.self, ExportCommand.self,
                      SeedImagesCommand.self, AnnotateQueueCommand.self, AnnotationsCommand.self, AugmentCommand.self,
                      UserCommand.self, SettingsCommand.self, AuditCommand.self, ReviewCommand.self, DisputesCommand.self,
                      AdjudicateCommand.self, ReservationsCommand.self, AgreementCommand.self, EndUsersCommand.self])
}

/// `--db` on every command; else FLYWHEEL_DB; else the XDG data directory.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Database file (default: $FLYWHEEL_DB, else $XDG_DATA_HOME/flywheel/flywheel.sqlite).", valueName: "PATH"))
    var db: String?

    var path: String { DatabaseLocation.resolve(explicit: db) }

    func open() throws -> Store {
        do {
            return try Store.open(path: path)
        } catch {
            throw CLIError("\(error)")
        }
    }
}

/// `--user` on every command that acts for a person: who is acting, checked against their role once users are
/// registered (`flywheel user add`), and written to the audit log.
struct ActorOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Who is acting: a registered user once there are any (default: $USER, else the login name).", valueName: "NAME"))
    var user: String?

    /// The acting user's name: --user, else $USER, else the name of the process's user id.
    func name() throws -> String {
        if let user {
            let name = user.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw CLIError("--user is empty: pass a user name") }
            return name
        }
        let env = ProcessInfo.processInfo.environment["USER"]?.trimmingCharacters(in: .whitespaces) ?? ""
        if !env.isEmpty { return env }
        if let pw = getpwuid(geteuid()), let login = pw.pointee.pw_name.map({ String(cString: $0) }), !login.isEmpty { return login }
        throw CLIError("no user name: pass --user NAME (or set $USER)")
    }

    /// The acting user, after checking they may take `action` (anyone may while no user is registered). Guarded
    /// commands call this before doing any work.
    func authorized(_ action: TeamAction, in store: Store) throws -> String {
        let name = try name()
        try store.authorize(name, action)
        return name
    }
}

/// The exit status of a refused action: EX_NOPERM from sysexits.h.
let exitNoPermission: Int32 = 77

/// A runtime failure: printed as `flywheel: message` with exit status 1 (usage errors exit 64).
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32 = 1
    init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }
    var description: String { message }
}

extension ParsableCommand {
    /// Runs `body`, turning the errors a command reports into `flywheel: message` on stderr and an exit status:
    /// CLIError its own, PermissionError 77 (EX_NOPERM), TeamError, ReviewError and HoldError 1.
    func reportingErrors(_ body: () throws -> Void) throws {
        let message: String, status: Int32
        do {
            try body()
            return
        } catch let error as CLIError {
            (message, status) = (error.message, error.exitCode)
        } catch let error as PermissionError {
            (message, status) = (error.description, exitNoPermission)
        } catch let error as TeamError {
            (message, status) = (error.description, 1)
        } catch let error as ReviewError {
            (message, status) = (error.description, 1)
        } catch let error as HoldError {
            (message, status) = (error.description, 1)
        }
        FileHandle.standardError.write(Data("flywheel: \(message)\n".utf8))
        throw ExitCode(status)
    }
}

func printErr(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

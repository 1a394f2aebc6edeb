import ArgumentParser
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
                      SeedImagesCommand.self, AnnotateQueueCommand.self, AnnotationsCommand.self, AugmentCommand.self])
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
    /// Runs `body`, turning CLIError into a message on stderr and an exit status.
    func reportingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("flywheel: \(error.message)\n".utf8))
            throw ExitCode(error.exitCode)
        }
    }
}

func printErr(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

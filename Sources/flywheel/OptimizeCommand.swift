import ArgumentParser
import FlywheelCore
import FlywheelLLM
import FlywheelStore
import Foundation

/// What the LLM needs to be told when none is configured (exactly this wording, also for the console).
let llmSetupHint = "set FLYWHEEL_LLM_URL (or pass --llm-url) and FLYWHEEL_LLM_MODEL (and FLYWHEEL_LLM_API_KEY if needed)"

/// The outcome of one optimisation: the candidate stored, and what it was made from.
struct PromptOptimizationOutcome: Sendable {
    var parent: PromptVersion
    var candidate: PromptVersion
    var examples: [SampleRow]
    var cap: Int
}

/// One optimisation, from choosing the base version to storing the candidate: the base is `promptName`, else
/// the active version of `taskType` (any task type's when nil); its examples are up to 10 reviewed error
/// samples of its task type; the reply, if accepted, is stored as a candidate whose parent is the base,
/// named `newName` or BASE-opt-N (the first N free). Nothing is stored on any failure. Throws CLIError
/// with a one-line message, or PermissionError before any LLM call when `actor` may not optimise (the candidate
/// is then stored and audited as theirs). Blocking: the console runs it off its UI thread.
func runPromptOptimization(store: Store, client: ChatCompleting, model: String, promptName: String?, taskType: String?,
                           newName: String?, now: Int64, actor: String, exampleLimit: Int = 10) throws -> PromptOptimizationOutcome {
    try store.authorize(actor, .optimize)
    let base: PromptVersion
    if let promptName {
        guard let v = try store.promptVersion(named: promptName) else { throw CLIError(PromptStoreError.notFound(promptName).description) }
        base = v
    } else {
        guard let v = try store.activePromptVersion(taskType: taskType) else {
            throw CLIError("no active prompt version\(taskType.map { " for task type \($0)" } ?? ""): activate one with flywheel prompt activate NAME, or pass --prompt NAME")
        }
        base = v
    }
    guard let current = base.template else { throw CLIError(PromptStoreError.noTemplate(base.name).description) }
    let type = taskType ?? base.taskType
    let name: String
    if let newName {
        if let existing = try store.promptVersion(named: newName), existing.template != nil {
            throw CLIError(PromptStoreError.duplicate(newName).description)
        }
        name = newName
    } else {
        var n = 1
        while try store.promptVersion(named: "\(base.name)-opt-\(n)") != nil { n += 1 }
        name = "\(base.name)-opt-\(n)"
    }
    let samples = try store.optimizationExamples(taskType: type, limit: exampleLimit)
    guard !samples.isEmpty else {
        throw CLIError("no approved error samples\(type.map { " of task type \($0)" } ?? "") to learn from: approve or fix some in the review console (flywheel console) first")
    }
    let examples = samples.map {
        OptimizationExample(question: $0.question ?? "", wrongAnswer: $0.wrongAnswer ?? "", correctAnswer: $0.correctAnswer ?? "", category: $0.category)
    }
    let prompt: String
    do {
        prompt = try PromptOptimizer.optimize(current: current, examples: examples, using: client)
    } catch let e as PromptOptimizationError {
        throw CLIError(e.description)
    }
    try storeCall { try store.addPromptVersion(name: name, template: prompt, parent: base.name, author: "llm:\(model)", taskType: base.taskType, now: now,
                                              actor: actor) }
    guard let candidate = try store.promptVersion(named: name) else { throw CLIError("\(name) was not stored") }
    return PromptOptimizationOutcome(parent: base, candidate: candidate, examples: samples, cap: PromptOptimizer.lengthCap(for: current))
}

struct OptimizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimize",
        abstract: "Ask the LLM for a better prompt from reviewed mistakes; store it as a candidate version.",
        discussion: """
            Takes the active prompt (or --prompt) and up to 10 approved or fixed error samples of its task type, \
            most frequent error categories first, and sends the seed design's meta-prompt to the configured \
            OpenAI-compatible endpoint: keep the core requirements, add instructions that avoid these errors, at \
            most 150% of the original length, output only the prompt. A longer reply is rejected. The new \
            version is a candidate whose parent is the prompt it came from; `flywheel prompt activate` puts it \
            in use. Endpoint: --llm-url or FLYWHEEL_LLM_URL, FLYWHEEL_LLM_MODEL, FLYWHEEL_LLM_API_KEY. Once users \
            are registered, only the \(rolesThatMay(.optimize)) role may run it; the candidate is audited as theirs.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var actor: ActorOptions
    @OptionGroup var llm: LLMOptions

    @Option(name: .long, help: ArgumentHelp("The version to improve (default: the active one).", valueName: "NAME"))
    var prompt: String?

    @Option(name: .long, help: ArgumentHelp("Task type whose active version and samples to use (default: the prompt's).", valueName: "TYPE"))
    var taskType: String?

    @Option(name: .long, help: ArgumentHelp("Name of the new candidate (default: PARENT-opt-N).", valueName: "NAME"))
    var name: String?

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            let who = try actor.authorized(.optimize, in: store)
            guard let config = llm.configuration else {
                throw CLIError(llm.noLlm ? "--no-llm: optimize needs an LLM; \(llmSetupHint)" : "no LLM endpoint configured: \(llmSetupHint)")
            }
            let client = CurlChatClient(configuration: config)
            let tty = isatty(2) != 0
            if tty { FileHandle.standardError.write(Data("asking \(config.model) at \(config.completionsURL)…".utf8)) }
            defer { if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
            let o = try runPromptOptimization(store: store, client: client, model: config.model, promptName: prompt, taskType: taskType,
                                              newName: name, now: nowMillis(), actor: who)
            var counts: [(String, Int)] = []
            for s in o.examples {
                if let i = counts.firstIndex(where: { $0.0 == s.category }) { counts[i].1 += 1 } else { counts.append((s.category, 1)) }
            }
            let template = o.candidate.template ?? ""
            print("\(o.candidate.name): new candidate from \(o.parent.name) (task type \(o.parent.taskType ?? "none")), "
                  + "\(template.count) characters (limit \(o.cap)), from \(o.examples.count) reviewed sample\(o.examples.count == 1 ? "" : "s"): "
                  + counts.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
            print(TextDiff.unified(o.parent.template ?? "", template, nameA: o.parent.name, nameB: o.candidate.name), terminator: "")
            print("side by side: flywheel prompt diff \(o.parent.name) \(o.candidate.name) --side-by-side")
            print("activate it with: flywheel prompt activate \(o.candidate.name)")
        }
    }
}

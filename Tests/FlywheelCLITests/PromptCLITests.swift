import FlywheelCore
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// No LLM from the environment the tests run in.
private let noLLMEnv = ["FLYWHEEL_LLM_URL": "", "OPENAI_BASE_URL": "", "FLYWHEEL_LLM_MODEL": "", "FLYWHEEL_LLM_API_KEY": "", "OPENAI_API_KEY": ""]

private let v1 = """
    You answer questions about the image the user sends.
    Reply in the language the user writes in.
    """

/// A database with vqa-v1 active and reviewed samples: 3 number_misread (approved), 1 hallucination (fixed),
/// 1 pending (not used).
private func optimisationDB() throws -> String {
    let db = tempDir() + "/db.sqlite"
    let store = try Store.open(path: db)
    try store.addPromptVersion(name: "vqa-v1", template: v1, parent: nil, author: "ana", taskType: "vqa", now: 1_000)
    try store.activatePromptVersion("vqa-v1")
    func s(_ r: String, _ q: String, _ w: String, _ c: String?, _ cat: ErrorCategory) -> NewSample {
        NewSample(source: .userCorrection, quality: .high, state: c == nil ? .needsAnswer : .pending, taskType: "vqa", question: q, wrongAnswer: w,
                  correctAnswer: c, category: cat, sessionID: "s", requestID: r, questionTurnID: nil, answerTurnID: nil, imageID: nil,
                  evidence: nil, extraction: nil, model: nil, promptVersion: "vqa-v1")
    }
    _ = try store.insertSamples([
        s("r1", "总金额是多少?", "87.40", "78.40", .numberMisread),
        s("r2", "What is the meter reading?", "21986", "21968", .numberMisread),
        s("r3", "这个数字是多少?", "87", "78", .numberMisread),
        s("r4", "What colour is the car?", "The car is red and parked next to a bakery that sells fresh bread.", nil, .unknown),
        s("r5", "Pending question?", "x", "y", .numberMisread),
    ], now: 2_000)
    let rows = try store.samples(limit: 10)
    for row in rows where ["r1", "r2", "r3"].contains(row.requestID ?? "") {
        _ = try store.review(sampleID: row.id, decision: .approve, reviewer: "ana", now: 3_000)
    }
    let r4 = rows.first { $0.requestID == "r4" }!.id
    _ = try store.review(sampleID: r4, decision: .fix(correctAnswer: "blue"), reviewer: "ana", now: 3_000)
    _ = try store.review(sampleID: r4, decision: .recategorize("hallucination"), reviewer: "ana", now: 3_000)
    return db
}

@Suite(.serialized) struct PromptCLITests {
    @Test func addListShowDiffActivate() throws {
        let dir = tempDir()
        let db = dir + "/db.sqlite"
        try (v1 + "\n").write(toFile: dir + "/v1.txt", atomically: true, encoding: .utf8)
        let v2 = v1 + "\nCopy digits exactly as printed."
        try v2.write(toFile: dir + "/v2.txt", atomically: true, encoding: .utf8)

        let add1 = try flywheel(["prompt", "add", "vqa-v1", "--file", dir + "/v1.txt", "--author", "ana", "--task-type", "vqa", "--db", db])
        #expect(add1.status == 0)
        #expect(add1.stdout.hasPrefix("added vqa-v1 as a candidate: \(v1.count) characters, task type vqa, parent none\n"))
        // The task type comes from the parent, the author from $USER.
        let add2 = try flywheel(["prompt", "add", "vqa-v2", "--file", dir + "/v2.txt", "--parent", "vqa-v1", "--db", db], env: ["USER": "ben"])
        #expect(add2.status == 0)
        #expect(add2.stdout.contains("task type vqa, parent vqa-v1"))

        let dup = try flywheel(["prompt", "add", "vqa-v1", "--file", dir + "/v2.txt", "--db", db])
        #expect(dup.status == 1)
        #expect(dup.stderr == "flywheel: prompt version vqa-v1 already exists with a template: choose another name\n")
        let orphan = try flywheel(["prompt", "add", "vqa-v9", "--file", dir + "/v2.txt", "--parent", "vqa-v0", "--db", db])
        #expect(orphan.status == 1)
        #expect(orphan.stderr.contains("unknown parent prompt version vqa-v0"))
        #expect(try flywheel(["prompt", "add", "vqa-v9", "--file", dir + "/missing.txt", "--db", db]).stderr.contains("cannot read"))

        let list = try flywheel(["prompt", "list", "--db", db])
        #expect(list.status == 0)
        let rows = list.stdout.split(separator: "\n").map(String.init)
        #expect(rows[0].hasPrefix("name"))
        #expect(rows[2].hasPrefix("vqa-v2 ") && rows[2].contains("candidate") && rows[2].contains("ben"))
        #expect(rows[3].hasPrefix("vqa-v1 "))

        let show = try flywheel(["prompt", "show", "vqa-v2", "--db", db])
        #expect(show.stdout.contains("parent:     vqa-v1\n"))
        #expect(show.stdout.contains("author:     ben\n"))
        #expect(show.stdout.hasSuffix("\n\n" + v2 + "\n"))
        #expect(try flywheel(["prompt", "show", "nope", "--db", db]).status == 1)

        let diff = try flywheel(["prompt", "diff", "vqa-v1", "vqa-v2", "--db", db])
        #expect(diff.stdout == """
            --- vqa-v1
            +++ vqa-v2
            @@ -1,2 +1,3 @@
             You answer questions about the image the user sends.
             Reply in the language the user writes in.
            +Copy digits exactly as printed.

            """)
        let wide = try flywheel(["prompt", "diff", "vqa-v1", "vqa-v2", "--side-by-side", "--width", "81", "--db", db])
        let sbs = wide.stdout.split(separator: "\n").map(String.init)
        #expect(sbs[0].hasPrefix("vqa-v1") && sbs[0].hasSuffix("vqa-v2"))
        #expect(sbs.allSatisfy { $0.count <= 81 })
        #expect(sbs.contains { $0.hasPrefix(String(repeating: " ", count: 39) + " > Copy digits exactly as printed.") })
        #expect(try flywheel(["prompt", "diff", "vqa-v1", "vqa-v1", "--db", db]).stdout == "vqa-v1 and vqa-v1 have the same template\n")

        #expect(try flywheel(["prompt", "activate", "vqa-v1", "--db", db]).stdout == "vqa-v1 is now active\n")
        #expect(try flywheel(["prompt", "activate", "vqa-v2", "--db", db]).stdout == "vqa-v2 is now active; retired vqa-v1\n")
        let json = try flywheel(["prompt", "list", "--format", "json", "--db", db])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(objects.map { $0["name"] as? String } == ["vqa-v2", "vqa-v1"])
        #expect(objects.map { $0["status"] as? String } == ["active", "retired"])
        #expect(objects[0]["template"] as? String == v2)
        #expect(objects[0]["parent"] as? String == "vqa-v1")
        #expect(objects[1]["parent"] is NSNull)
        #expect(objects[1]["seen_in_events"] as? Bool == false)
        #expect(try flywheel(["prompt", "activate", "nope", "--db", db]).status == 1)
    }

    @Test func demoHasTemplatesForTheVersionsInItsEvents() throws {
        let db = tempDir() + "/demo.sqlite"
        let demo = try flywheel(["demo", "--db", db, "--no-console"])
        #expect(demo.stdout.contains("active: extract-v1, tags-v2, vqa-v3"))
        let list = try flywheel(["prompt", "list", "--format", "json", "--db", db])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: objects.map { ($0["name"] as! String, $0) })
        #expect(Set(byName.keys) == ["vqa-v1", "vqa-v2", "vqa-v3", "extract-v1", "tags-v1", "tags-v2"])
        #expect(byName["vqa-v3"]?["status"] as? String == "active")
        #expect(byName["vqa-v3"]?["parent"] as? String == "vqa-v2")
        #expect(byName["vqa-v2"]?["status"] as? String == "retired")
        #expect(byName["tags-v1"]?["status"] as? String == "retired")
        #expect(byName["vqa-v3"]?["template"] is String)
        #expect(byName["tags-v2"]?["template"] is NSNull)
        #expect(objects.allSatisfy { $0["seen_in_events"] as? Bool == true })
        let show = try flywheel(["prompt", "show", "tags-v2", "--db", db])
        #expect(show.stdout.contains("template:   none (only seen in events): add one with flywheel prompt add tags-v2 --file F"))
        // A version without text cannot be optimised; the LLM is not called.
        let server = try StubHTTPServer { _, _ in .init(body: chatCompletion("x")) }
        defer { server.stop() }
        let r = try flywheel(["optimize", "--prompt", "tags-v2", "--llm-url", server.baseURL, "--db", db])
        #expect(r.status == 1)
        #expect(r.stderr == "flywheel: tags-v2 has no template text: add one with flywheel prompt add tags-v2 --file F\n")
        // The demo has no reviewed samples yet.
        let none = try flywheel(["optimize", "--llm-url", server.baseURL, "--db", db])
        #expect(none.status == 1)
        #expect(none.stderr.contains("no approved error samples of task type vqa"))
        #expect(server.requests.isEmpty)
    }

    @Test func optimizeWithoutAnEndpointSaysWhatToConfigure() throws {
        let db = try optimisationDB()
        let r = try flywheel(["optimize", "--db", db], env: noLLMEnv)
        #expect(r.status == 1)
        #expect(r.stderr == "flywheel: no LLM endpoint configured: set FLYWHEEL_LLM_URL (or pass --llm-url) and FLYWHEEL_LLM_MODEL (and FLYWHEEL_LLM_API_KEY if needed)\n")
        #expect(try Store.open(path: db).promptVersions().count == 1)
    }

    @Test func optimizeStoresACandidateAndPrintsTheDiff() throws {
        let db = try optimisationDB()
        let better = v1 + "\nCopy every digit exactly as printed, in order."
        #expect(better.count <= v1.count * 3 / 2)
        let server = try StubHTTPServer { _, _ in .init(body: chatCompletion("```\n" + better + "\n```")) }
        defer { server.stop() }
        let r = try flywheel(["optimize", "--llm-url", server.baseURL, "--llm-model", "stub-model", "--db", db], env: noLLMEnv)
        try #require(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "vqa-v1-opt-1: new candidate from vqa-v1 (task type vqa), \(better.count) characters (limit \(v1.count * 3 / 2)), "
                + "from 4 reviewed samples: number_misread 3, hallucination 1")
        #expect(lines[1] == "--- vqa-v1")
        #expect(lines[2] == "+++ vqa-v1-opt-1")
        #expect(lines.contains("+Copy every digit exactly as printed, in order."))
        #expect(lines.contains("activate it with: flywheel prompt activate vqa-v1-opt-1"))

        // What was sent: the meta-prompt with the current prompt and the reviewed mistakes, newest first within a
        // category, round-robin from the most frequent category; the pending sample is not among them.
        let body = try #require(server.requests.first?.body)
        let request = try JSONParser.parse(body)
        guard case .array(let messages)? = request["messages"], case .string(let user)? = messages.last?["content"] else {
            Issue.record("no user message in \(body)")
            return
        }
        #expect(request["model"] == .string("stub-model"))
        #expect(user.contains(v1))
        // The three number_misread samples were created together: the newest is the last inserted (r3).
        #expect(user.contains("1. [number_misread]\n   Question: 这个数字是多少?\n   Wrong answer: 87\n   Correct answer: 78"))
        #expect(user.contains("2. [hallucination]\n   Question: What colour is the car?"))
        #expect(user.contains("Correct answer: blue"))
        #expect(user.contains("no more than \(v1.count * 3 / 2) characters"))
        #expect(!user.contains("Pending question?"))

        let store = try Store.open(path: db)
        let candidate = try #require(try store.promptVersion(named: "vqa-v1-opt-1"))
        #expect(candidate.template == better)
        #expect(candidate.parent == "vqa-v1")
        #expect(candidate.status == "candidate")
        #expect(candidate.taskType == "vqa")
        #expect(candidate.author == "llm:stub-model")
        #expect(try store.activePromptVersion(taskType: "vqa")?.name == "vqa-v1")

        // Again: the next free name; or a chosen one.
        #expect(try flywheel(["optimize", "--llm-url", server.baseURL, "--db", db], env: noLLMEnv).stdout.hasPrefix("vqa-v1-opt-2: "))
        let named = try flywheel(["optimize", "--llm-url", server.baseURL, "--name", "vqa-v2", "--db", db], env: noLLMEnv)
        #expect(named.stdout.hasPrefix("vqa-v2: new candidate from vqa-v1"))
        let taken = try flywheel(["optimize", "--llm-url", server.baseURL, "--name", "vqa-v2", "--db", db], env: noLLMEnv)
        #expect(taken.status == 1)
        #expect(taken.stderr.contains("vqa-v2 already exists"))
        #expect(server.requests.count == 3)  // the taken name was refused before asking
    }

    @Test func tooLongReplyIsRejectedAndNothingStored() throws {
        let db = try optimisationDB()
        let long = String(repeating: "Always double-check every digit. ", count: 10)
        let server = try StubHTTPServer { _, _ in .init(body: chatCompletion(long)) }
        defer { server.stop() }
        let r = try flywheel(["optimize", "--llm-url", server.baseURL, "--db", db], env: noLLMEnv)
        #expect(r.status == 1)
        let length = long.trimmingCharacters(in: .whitespaces).count
        #expect(r.stderr == "flywheel: the LLM's prompt is \(length) characters, over the limit of \(v1.count * 3 / 2) (150% of the current prompt): rejected, nothing stored\n")
        #expect(try Store.open(path: db).promptVersions().map(\.name) == ["vqa-v1"])
    }

    @Test func httpErrorIsReported() throws {
        let db = try optimisationDB()
        let server = try StubHTTPServer { _, _ in .init(status: 500, body: #"{"error":"model not loaded"}"#) }
        defer { server.stop() }
        let r = try flywheel(["optimize", "--llm-url", server.baseURL, "--llm-attempts", "1", "--db", db], env: noLLMEnv)
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("flywheel: LLM request failed: HTTP 500: {\"error\":\"model not loaded\"}"))
        #expect(try Store.open(path: db).promptVersions().count == 1)
    }

    @Test func optimizeNeedsAnActiveVersion() throws {
        let db = tempDir() + "/db.sqlite"
        let r = try flywheel(["optimize", "--llm-url", "http://127.0.0.1:9", "--task-type", "vqa", "--db", db], env: noLLMEnv)
        #expect(r.status == 1)
        #expect(r.stderr == "flywheel: no active prompt version for task type vqa: activate one with flywheel prompt activate NAME, or pass --prompt NAME\n")
        #expect(try flywheel(["optimize", "--llm-url", "http://127.0.0.1:9", "--prompt", "nope", "--db", db]).stderr.contains("no prompt version named nope"))
    }
}

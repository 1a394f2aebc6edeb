import FlywheelStore
import Foundation
import Testing

// End to end: the real `flywheel console` (ncursesw) runs in a detached tmux session of fixed size on a
// private socket; the test types keys with `send-keys`, reads the screen with `capture-pane -p`, and
// checks what the decisions wrote to the database. Synchronisation is by polling the screen, never by
// sleeping for a fixed time.

/// The first executable called `name` on PATH, or nil.
private func onPath(_ name: String) -> String? {
    let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
    return dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

private struct TmuxFailure: Error, CustomStringConvertible {
    var description: String
}

/// One private tmux server (its own socket) that holds one session running one command.
private final class TmuxConsole {
    let tmux: String
    let socket: String
    let session = "e2e"
    let config: String
    let dir: String
    /// Where the server listens, once started.
    private var socketPath = ""
    /// The last screen `capture()` read, for failure messages.
    private(set) var lastScreen = ""

    init(tmux: String, dir: String) throws {
        self.tmux = tmux
        self.dir = dir
        socket = "flywheel-e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        // Our own config instead of ~/.tmux.conf: no status bar (the pane gets every row), /bin/sh runs the
        // pane's command, and the pane stays after its command ends, so a crash's output can still be read.
        config = dir + "/tmux.conf"
        try "set-option -g status off\nset-option -g default-shell /bin/sh\nset-option -g remain-on-exit on\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
    }

    /// Runs `tmux -L socket -f config ARGS`; returns (status, stdout, stderr).
    ///
    /// Not through Foundation's Process: it starts children with the calling thread's signal mask, and a
    /// Swift Testing worker thread blocks nearly every signal. A tmux server started that way never sees
    /// SIGCHLD or SIGTERM, and passes the blocked mask on to the console (SIGWINCH, SIGHUP blocked); the
    /// tmux client's exit was not noticed by Process.waitUntilExit either. So: posix_spawn with an empty
    /// signal mask and default handlers, output to files, and waitpid on that one child.
    @discardableResult
    func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let outPath = dir + "/tmux.out", errPath = dir + "/tmux.err"
        var env = ProcessInfo.processInfo.environment
        env["LANG"] = "C.UTF-8"
        env.removeValue(forKey: "LC_ALL")
        env.removeValue(forKey: "TMUX")  // never talk to a tmux the tests themselves might run in
        let argv = [tmux, "-u", "-L", socket, "-f", config] + args
        let envp = env.map { "\($0.key)=\($0.value)" }
        func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] { strings.map { strdup($0) } + [nil] }
        let cArgv = cStrings(argv), cEnvp = cStrings(envp)
        defer { (cArgv + cEnvp).forEach { free($0) } }

        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        var attr: posix_spawnattr_t? = nil
        #else
        var actions = posix_spawn_file_actions_t()
        var attr = posix_spawnattr_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var pid = pid_t()
        let spawned = posix_spawn(&pid, tmux, &actions, &attr, cArgv, cEnvp)
        guard spawned == 0 else { throw TmuxFailure(description: "cannot start \(tmux): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw TmuxFailure(description: "waitpid: \(String(cString: strerror(errno)))") }
        }
        // WIFEXITED / WEXITSTATUS are macros Swift cannot import.
        let exit: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return (exit, out, err)
    }

    func start(width: Int, height: Int, command: String) throws {
        let r = try run(["new-session", "-d", "-s", session, "-x", "\(width)", "-y", "\(height)", command])
        guard r.status == 0 else { throw TmuxFailure(description: "tmux new-session failed (\(r.status)): \(r.err)") }
        socketPath = try run(["display-message", "-p", "#{socket_path}"]).out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Keys by name (`a`, `Enter`, `C-u`).
    func send(_ keys: String...) throws {
        let r = try run(["send-keys", "-t", session] + keys)
        guard r.status == 0 else { throw TmuxFailure(description: "tmux send-keys \(keys) failed: \(r.err)\nscreen:\n\(lastScreen)") }
    }

    /// Text typed as is, not looked up as key names.
    func type(_ text: String) throws {
        let r = try run(["send-keys", "-t", session, "-l", text])
        guard r.status == 0 else { throw TmuxFailure(description: "tmux send-keys -l failed: \(r.err)\nscreen:\n\(lastScreen)") }
    }

    func capture() throws -> String {
        let r = try run(["capture-pane", "-p", "-t", session])
        if r.status == 0 { lastScreen = r.out }
        return r.out
    }

    /// Polls the screen until `condition` holds of it; after `timeout` seconds throws with the last screen.
    @discardableResult
    func waitUntil<T>(_ what: String, timeout: Double = 20, _ condition: (String) -> T?) async throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let found = condition(try capture()) { return found }
            if Date() >= deadline {
                throw TmuxFailure(description: "timed out after \(timeout) s waiting for \(what); last screen:\n\(lastScreen)")
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    /// Waits until `text` is on the screen.
    func waitFor(_ text: String, timeout: Double = 20) async throws {
        try await waitUntil("\"\(text)\"", timeout: timeout) { $0.contains(text) ? () : nil }
    }

    /// Stops the server and everything in it; removes the socket file, which tmux 3.3 leaves behind.
    func kill() {
        _ = try? run(["kill-server"])
        if socketPath.hasSuffix("/" + socket) { try? FileManager.default.removeItem(atPath: socketPath) }
    }
}

/// The id on the selected list row (the row that starts with "▸#" right after the left border).
private func selectedSampleID(_ screen: String) -> Int64? {
    for line in screen.split(separator: "\n") {
        var rest = Substring(line)
        if rest.hasPrefix("│") { rest = rest.dropFirst() }
        guard rest.hasPrefix("▸#") else { continue }
        return Int64(rest.dropFirst(2).prefix { $0.isNumber })
    }
    return nil
}

/// N of the "Sample #N" detail title.
private func detailSampleID(_ screen: String) -> Int64? {
    guard let r = screen.range(of: "Sample #") else { return nil }
    return Int64(screen[r.upperBound...].prefix { $0.isNumber })
}

/// The selected row's id once the detail pane shows that same sample (and, if given, it is not `other`).
private func selectedAndShown(_ screen: String, not other: Int64? = nil) -> Int64? {
    guard screen.contains("Review queue"), let id = selectedSampleID(screen), detailSampleID(screen) == id, id != other else { return nil }
    return id
}

private func shellQuoted(_ s: String) -> String {
    "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

@Suite struct ConsoleTmuxTests {
    @Test(.enabled(if: onPath("tmux") != nil, "tmux is not on PATH"), .timeLimit(.minutes(2)))
    func approveAndFixInTheRealConsole() async throws {
        let dir = tempDir()
        let db = dir + "/demo.sqlite"
        let demo = try flywheel(["demo", "--db", db])
        try #require(demo.status == 0, "flywheel demo failed: \(demo.stderr)")

        let sampleImages = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sample-data/images").path
        let tmux = try TmuxConsole(tmux: onPath("tmux")!, dir: dir)
        defer { tmux.kill() }
        // The shell in the pane records the console's exit status in a file. tmux's own record of it
        // (#{pane_dead_status}) is not dependable: tmux built with libutempter (Debian's) misses the SIGCHLD
        // now and then when the pty closes at the moment the child exits (tmux issue #311), and the status
        // then stays empty (a pane running only `sleep 0.3` lost it in 7 and 10 of 30 tries on tmux 3.3a).
        let exitFile = dir + "/console.exit"
        let command = "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color "
            + [flywheelBinary(), "console", "--db", db, "--user", "e2e-tester"].map(shellQuoted).joined(separator: " ")
            + "; echo $? > " + shellQuoted(exitFile)
        try tmux.start(width: 120, height: 35, command: command)
        try await tmux.waitFor("e2e-tester")  // the status line: the console is up

        // Approve the first sample of the review queue.
        try tmux.send("2")
        try await tmux.waitFor("Review queue")
        let first = try await tmux.waitUntil("the selected sample in the review queue") { selectedAndShown($0) }
        // The sample's picture is drawn beside it: chafa's block and line symbols fill the top of the detail
        // panel (the demo's images are on disk), right of the queue's column.
        _ = try await tmux.waitUntil("the image preview beside the sample") { screen -> Bool? in
            let rows = screen.components(separatedBy: "\n").dropFirst(2).prefix(10)
            let symbols = rows.map { row -> Int in
                let detail = row.split(separator: "│", omittingEmptySubsequences: false).dropFirst(3).joined()
                return detail.unicodeScalars.filter { (0x2500...0x259F).contains($0.value) }.count
            }.reduce(0, +)
            return symbols >= 20 ? true : nil
        }
        try tmux.send("a")
        try await tmux.waitFor("#\(first) approved by e2e-tester")

        // The selection moves on; fix that sample with a CJK answer.
        let second = try await tmux.waitUntil("the next sample to be selected") { selectedAndShown($0, not: first) }
        try tmux.send("e")
        try await tmux.waitFor("editing the correct answer")
        try tmux.send("C-u")
        try tmux.type("正确答案 42")
        try await tmux.waitFor("正确答案 42")
        try tmux.send("Enter")
        try await tmux.waitFor("#\(second) fixed by e2e-tester")

        // Annotate: the seeded images wait on screen 6; write the first one's answer, skip the next.
        let seeded = try flywheel(["seed-images", "--db", db, sampleImages])
        try #require(seeded.status == 0, "seed-images failed: \(seeded.stderr)")
        try tmux.send("6")
        try await tmux.waitFor("0/1000 seed labels")
        let task = try await tmux.waitUntil("the first annotation task") { screen -> Int64? in
            guard let r = screen.range(of: "task #") else { return nil }
            return Int64(screen[r.upperBound...].prefix { $0.isNumber })
        }
        try tmux.send("e")
        try await tmux.waitFor("Enter saves it as a seed label")
        try tmux.type("七十八")
        try tmux.send("Enter")
        try await tmux.waitFor("task #\(task) labelled: seed sample #")
        try await tmux.waitFor("1/1000 seed labels")

        // Quit: the console's process ends, with status 0.
        try tmux.send("q")
        let exit = try await tmux.waitUntil("the console to exit") { _ in
            (try? String(contentsOfFile: exitFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        #expect(exit == 0, "flywheel console exited with status \(exit)")

        // What the two decisions and the label wrote.
        let store = try Store.open(path: db)
        let labelled = try #require(try store.annotationTask(id: task))
        #expect(labelled.status == "done")
        let seeds = try store.samples(filter: SampleFilter(sources: ["seed_label"]), limit: 10)
        #expect(seeds.count == 1 && seeds.first?.correctAnswer == "七十八" && seeds.first?.state == "approved")
        let approved = try #require(try store.sample(id: first))
        #expect(approved.state == "approved")
        let fixed = try #require(try store.sample(id: second))
        #expect(fixed.state == "fixed")
        #expect(fixed.correctAnswer == "正确答案 42")
        let firstActions = try store.reviewActions(sampleID: first)
        let secondActions = try store.reviewActions(sampleID: second)
        #expect(firstActions.map(\.action) == ["approve"])
        #expect(firstActions.map(\.reviewer) == ["e2e-tester"])
        #expect(firstActions.first?.after.state == "approved")
        #expect(secondActions.map(\.action) == ["fix"])
        #expect(secondActions.map(\.reviewer) == ["e2e-tester"])
        #expect(secondActions.first?.after == SampleSnapshot(state: "fixed", correctAnswer: "正确答案 42", category: fixed.category))
        let reviewRows = try store.tableCounts().first { $0.table == "review_actions" }?.count
        #expect(reviewRows == 3, "review_actions holds exactly the two decisions and the annotation")
        let seedActions = try store.reviewActions(sampleID: try #require(seeds.first?.id))
        #expect(seedActions.map(\.action) == ["annotate"] && seedActions.map(\.reviewer) == ["e2e-tester"])
    }

    /// Two real consoles, alice's and bob's, on one database file: the sample alice opened is hers, so bob's
    /// queue starts on another one; quitting gives alice's up.
    @Test(.enabled(if: onPath("tmux") != nil, "tmux is not on PATH"), .timeLimit(.minutes(2)))
    func twoConsolesDoNotOpenTheSameSample() async throws {
        let dir = tempDir()
        let db = dir + "/demo.sqlite"
        let demo = try flywheel(["demo", "--db", db, "--no-console"])
        try #require(demo.status == 0, "flywheel demo failed: \(demo.stderr)")
        func console(_ user: String) async throws -> (TmuxConsole, exitFile: String) {
            let own = dir + "/" + user
            try FileManager.default.createDirectory(atPath: own, withIntermediateDirectories: true)
            let tmux = try TmuxConsole(tmux: onPath("tmux")!, dir: own)
            let exitFile = own + "/console.exit"
            let command = "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color "
                + [flywheelBinary(), "console", "--db", db, "--user", user].map(shellQuoted).joined(separator: " ")
                + "; echo $? > " + shellQuoted(exitFile)
            try tmux.start(width: 120, height: 35, command: command)
            try await tmux.waitFor("│ \(user)")  // the status line: the console is up
            return (tmux, exitFile)
        }
        let (alice, aliceExit) = try await console("alice")
        defer { alice.kill() }
        try alice.send("2")
        let first = try await alice.waitUntil("alice's selected sample") { selectedAndShown($0) }
        try await alice.waitFor("reserved for you until")
        let store = try Store.open(path: db)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(try store.reservations(now: now).map { "\($0.sampleID):\($0.reviewer)" } == ["\(first):alice"])

        let (bob, bobExit) = try await console("bob")
        defer { bob.kill() }
        try bob.send("2")
        let bobs = try await bob.waitUntil("bob's selected sample") { selectedAndShown($0) }
        try await bob.waitFor("reserved for you until")
        #expect(bobs != first, "bob's queue starts on the sample alice holds")
        #expect(!bob.lastScreen.contains("#\(first) "), "alice's sample is not in bob's queue")
        let held = try store.reservations(now: Int64(Date().timeIntervalSince1970 * 1000)).map { "\($0.sampleID):\($0.reviewer)" }.sorted()
        #expect(held == ["\(bobs):bob", "\(first):alice"].sorted())

        // alice quits: her sample is free again; bob's stays his.
        try alice.send("q")
        let status = try await alice.waitUntil("alice's console to exit") { _ in
            (try? String(contentsOfFile: aliceExit, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        #expect(status == 0)
        #expect(try store.reservations(now: Int64(Date().timeIntervalSince1970 * 1000)).map(\.reviewer) == ["bob"])
        try bob.send("q")
        _ = try await bob.waitUntil("bob's console to exit") { _ in
            (try? String(contentsOfFile: bobExit, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        #expect(try store.reservations(now: Int64(Date().timeIntervalSince1970 * 1000)).isEmpty)
    }
}

import Foundation
import FlywheelStore
import Testing

/// `flywheel console --headless`: the contract scripts and tests depend on.
@Suite(.serialized) struct ConsoleHeadlessTests {
    static let db: String = {
        let db = tempDir() + "/demo.sqlite"
        _ = try? flywheel(["demo", "--db", db, "--no-console"])
        return db
    }()

    @Test func oneShowsTheSessionsScreen() throws {
        let r = try flywheel(["console", "--headless", "--db", Self.db, "--size", "100x20", "--user", "cli", "--keys", "1"])
        #expect(r.status == 0)
        let lines = r.stdout.components(separatedBy: "\n")
        #expect(lines.count == 21)  // 20 rows and the final newline
        #expect(lines[1].hasPrefix("┌ Sessions "))
        #expect(lines[19].hasPrefix(" 1 Sessions │ 461 sessions · 139 flagged · "))
    }

    @Test func twoThenAApprovesExactlyOneSample() throws {
        let dir = tempDir()
        let db = dir + "/demo.sqlite"
        #expect(try flywheel(["demo", "--db", db, "--no-console"]).status == 0)
        let before = try Store.open(path: db).sampleCountsByState()
        let r = try flywheel(["console", "--headless", "--db", db, "--user", "cli-reviewer", "--keys", "2a"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("approved by cli-reviewer"))
        let store = try Store.open(path: db)
        let after = try store.sampleCountsByState()
        let approved = { (c: [(state: String, count: Int)]) in c.first { $0.state == "approved" }?.count ?? 0 }
        #expect(approved(after) == approved(before) + 1)
        let id = Int64(r.stdout.components(separatedBy: "#").dropFirst().first { $0.contains("approved by") }!.prefix { $0.isNumber })!
        #expect(try store.reviewActions(sampleID: id).map(\.reviewer) == ["cli-reviewer"])
    }

    @Test func reviewerComesFromUserWhenNotGiven() throws {
        let r = try flywheel(["console", "--headless", "--db", Self.db, "--size", "80x10"], env: ["USER": "from-env"])
        #expect(r.stdout.contains("│ from-env"))
        // Without $USER, the login name of the process's user id (as for every command that takes --user).
        let login = getpwuid(geteuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? ""
        let none = try flywheel(["console", "--headless", "--db", Self.db, "--size", "80x10"], env: ["USER": ""])
        #expect(none.status == 0 && !login.isEmpty && none.stdout.contains("│ \(login)"))
        let empty = try flywheel(["console", "--headless", "--db", Self.db, "--user", " "])
        #expect(empty.status == 1 && empty.stderr.contains("--user is empty"))
    }

    @Test func badArgumentsAreUsageErrors() throws {
        let size = try flywheel(["console", "--headless", "--db", Self.db, "--size", "big", "--user", "x"])
        #expect(size.status == 64 && size.stderr.contains("--size must be COLSxROWS"))
        let keys = try flywheel(["console", "--headless", "--db", Self.db, "--user", "x", "--keys", "2<Entr>"])
        #expect(keys.status == 64 && keys.stderr.contains("unknown key <Entr> at character 2"))
        let theme = try flywheel(["console", "--headless", "--db", Self.db, "--user", "x", "--theme", "nope"])
        #expect(theme.status == 1 && theme.stderr.contains("no theme named nope"))
        let tty = try flywheel(["console", "--db", Self.db, "--user", "x"])  // stdin is not a terminal here
        #expect(tty.status == 1 && tty.stderr.contains("--headless"))
    }
}

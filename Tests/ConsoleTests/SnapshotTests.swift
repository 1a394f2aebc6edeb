import Foundation
import FlywheelStore
import FlywheelTestSupport
import Testing
@testable import Console
import TerminalKit

/// Whole-screen snapshots: each screen rendered through the cell buffer and compared, every line, with a
/// reviewed text file in Snapshots/. To update after a deliberate change: FLYWHEEL_RECORD_SNAPSHOTS=1 swift
/// test --filter SnapshotTests, then read the diff before committing.
func assertSnapshot(_ screen: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    try assertTextSnapshot(screen, named: name, in: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots"),
                           what: "screen", sourceLocation: sourceLocation)
}

@Suite(.serialized) struct SnapshotTests {
    static let store = Result { try Fixture.store() }

    @Test(arguments: [
        ("sessions-hostile-text", ""),
        ("sessions-flagged-cjk", "jj"),
        ("sessions-flagged-only", "f"),
        ("sessions-search-no-match", "/zz<Enter>"),
        ("sessions-search-typing", "/用户<Left>"),
        ("sessions-detail-focus-scrolled", "jj<Tab>jj"),
        ("review-queue", "2"),
        ("review-cjk-sample", "2jj"),
        ("review-edit-cjk", "2jje<C-u>七十八 yuan<Left><Left>"),
        ("review-category-picker", "2cj"),
        ("review-help", "2?"),
    ])
    func screen(_ name: String, _ keys: String) throws {
        let s = try Self.store.get()
        try assertSnapshot(try Fixture.screen(s, keys), named: name)
    }

    @Test func narrowAndWideTerminals() throws {
        let s = try Self.store.get()
        try assertSnapshot(try Fixture.screen(s, "jj", width: 60, height: 16), named: "sessions-60x16")
        try assertSnapshot(try Fixture.screen(s, "2jj", width: 160, height: 20), named: "review-160x20")
    }

    @Test func resizingRedrawsAtTheNewSize() throws {
        let s = try Self.store.get()
        var state = try Fixture.run(s, "2")
        _ = Console.update(&state, .resized(width: 70, height: 12))
        let b = Console.render(state)
        #expect(b.width == 70 && b.height == 12)
        try assertSnapshot(b.text, named: "review-after-resize-70x12")
    }

    /// Each line of every screen is exactly as wide as the terminal: wide characters never push a border.
    @Test func everyRowIsExactlyTheScreenWidth() throws {
        let s = try Self.store.get()
        for keys in ["", "j", "jj", "2", "2j", "2?", "2c", "2e中文", "7", "7?"] {
            let b = Console.render(try Fixture.run(s, keys))
            for y in 0..<b.height {
                var cols = 0
                for x in 0..<b.width {
                    cols += Int(b[x, y].width)
                    // The right half of a wide character always follows its left half.
                    if b[x, y].width == 0 { #expect(x > 0 && b[x - 1, y].width == 2, "row \(y) col \(x) of \(keys)") }
                }
                #expect(cols == b.width, "row \(y) of \(keys)")
                if y > 0 && y < b.height - 1 && !keys.contains("?") && !keys.contains("c") {
                    #expect(b[0, y].text == "│" || b[0, y].text == "┌" || b[0, y].text == "└", "left border on row \(y) of \(keys)")
                    #expect(["│", "┐", "┘", "↓", "↑"].contains(b[b.width - 1, y].text), "right border on row \(y) of \(keys)")
                }
            }
        }
    }

    @Test func noCellHoldsAControlCharacter() throws {
        let s = try Self.store.get()
        for keys in ["", "2", "jj", "7"] {
            let b = Console.render(try Fixture.run(s, keys))
            #expect(!b.cells.contains { $0.text.unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) || (0x202A...0x202E).contains($0.value) } })
        }
    }
}

import Foundation
import Testing
@testable import Console
import TerminalKit

@Suite struct ThemeTests {
    static let themesDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("themes").path

    @Test func shippedThemesLoadAndDarkMatchesTheBuiltInCopy() throws {
        for name in ["dark", "light", "high-contrast"] {
            let t = try Theme.load(name, searchPaths: [Self.themesDir])
            #expect(t.name == name)
            #expect(Set(t.styles.keys) == Set(Role.allCases), "\(name) misses a role")
        }
        #expect(try Theme.load("dark", searchPaths: [Self.themesDir]).styles == Theme.builtinDefault.styles)
        #expect(try Theme.load("dark", searchPaths: ["/nonexistent"]) == Theme.builtinDefault)
    }

    @Test func mistakesAreReportedWithWhere() {
        func message(_ toml: String) -> String {
            do { _ = try Theme.parse(toml, name: "t"); return "no error" } catch { return "\(error)" }
        }
        #expect(message("[styles.selectd]\nfg = 1").contains("unknown style \"selectd\""))
        #expect(message("[styles.base]\nfg = 300").contains("colour 300 is not in 0-255"))
        #expect(message("[styles.base]\nfg = \"pink\"").contains("unknown colour"))
        #expect(message("[styles.base]\nattrs = [\"blink\"]").contains("unknown attribute"))
        #expect(message("[styles.base]\ncolor = 1").contains("styles.base.color is not a style field"))
        #expect(message("[styles.base\nfg = 1").contains("line 1"))
        #expect(throws: ThemeError.self) { try Theme.load("nope", searchPaths: [Self.themesDir]) }
    }

    @Test func depthAdaptation() throws {
        let t = Theme.builtinDefault
        #expect(t.adapted(to: .basic8)[.selected].bg == Color.indexed(75).basic)
        let mono = t.adapted(to: .none)
        #expect(mono[.selected] == Style(attributes: .reverse))        // had a background: reversed
        #expect(mono[.title] == Style(attributes: .bold))              // colour dropped, bold kept
        #expect(Role.allCases.allSatisfy { mono[$0].fg == .default && mono[$0].bg == .default })
    }
}

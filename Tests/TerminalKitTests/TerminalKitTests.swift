import Testing
@testable import TerminalKit

@Suite struct TextWidthTests {
    @Test(arguments: [
        ("abc", 3), ("中文", 4), ("日本語", 6), ("カタカナ", 8), ("한국어", 6), ("😀", 2), ("e\u{301}", 1),
        ("ＡＢ", 4), ("✅", 2), ("❤\u{FE0F}", 1), ("👨\u{200D}👩\u{200D}👧", 2), ("", 0), ("a\u{1b}", 1),
    ])
    func widths(_ text: String, _ expected: Int) {
        #expect(TextWidth.width(text) == expected)
    }

    @Test func truncateNeverSplitsAWideCharacter() {
        #expect(TextWidth.truncate("中文测试", to: 5) == "中文…")
        #expect(TextWidth.truncate("中文测试", to: 4) == "中…")
        #expect(TextWidth.truncate("中文测试", to: 8) == "中文测试")
        #expect(TextWidth.truncate("abc", to: 0) == "")
        for n in 0...9 { #expect(TextWidth.width(TextWidth.truncate("a中b文c测😀", to: n)) <= n) }
    }

    @Test func padAndPadLeftGiveExactWidths() {
        #expect(TextWidth.pad("中", to: 5) == "中   ")
        #expect(TextWidth.padLeft("中", to: 5) == "   中")
        #expect(TextWidth.width(TextWidth.pad("中文测试", to: 5)) == 5)
    }

    @Test func sanitizeMakesControlsVisible() {
        #expect(TextWidth.sanitize("a\u{1b}[31mb") == "a␛[31mb")
        #expect(TextWidth.sanitize("x\ny\tz\r") == "x⏎y z")
        #expect(TextWidth.sanitize("\u{202E}evil") == "<U+202E>evil")
        #expect(TextWidth.sanitize("\u{7}\u{7f}\u{85}") == "␇␡<U+85>")
        #expect(TextWidth.sanitize("plain 中文") == "plain 中文")
    }

    @Test func wrapBreaksLatinAtSpacesAndCJKAnywhere() {
        #expect(TextWidth.wrap("the quick brown fox jumps", to: 10) == ["the quick", "brown fox", "jumps"])
        #expect(TextWidth.wrap("这是一个很长的中文句子", to: 7) == ["这是一", "个很长", "的中文", "句子"])
        #expect(TextWidth.wrap("abcdefghijkl", to: 5) == ["abcde", "fghij", "kl"])
        #expect(TextWidth.wrap("a\n\nb", to: 5) == ["a", "", "b"])
        #expect(TextWidth.wrap("total 是 78 元", to: 6) == ["total", "是 78", "元"])
        for line in TextWidth.wrap("混合 mixed 文本 text with 中文 and emoji 😀😀😀 here", to: 7) {
            #expect(TextWidth.width(line) <= 7)
        }
    }
}

@Suite struct ScreenBufferTests {
    @Test func wideCharactersTakeTwoCellsAndColumnsLineUp() {
        var b = ScreenBuffer(width: 10, height: 2)
        b.put("中文ab", x: 0, y: 0)
        b.put("abcdef", x: 0, y: 1)
        #expect(b.lines() == ["中文ab", "abcdef"])
        #expect(b[0, 0].width == 2 && b[1, 0].width == 0 && b[4, 0].text == "a")
    }

    @Test func aWideCharacterThatDoesNotFitLeavesABlank() {
        var b = ScreenBuffer(width: 5, height: 1)
        let used = b.put("ab中文", x: 0, y: 0, maxWidth: 3)
        #expect(used == 3)
        b.put("|", x: 3, y: 0)
        #expect(b.lines() == ["ab |"])
        var edge = ScreenBuffer(width: 3, height: 1)
        edge.put("a中", x: 1, y: 0)
        #expect(edge.lines() == [" a"])
    }

    @Test func fillingOverHalfAWideCharacterBlanksTheOtherHalf() {
        var b = ScreenBuffer(width: 8, height: 1)
        b.put("中文字体", x: 0, y: 0)
        b.fill(Rect(x: 1, y: 0, width: 4, height: 1), style: .plain)  // from the right half of 中 to the left half of 字
        b.put("|", x: 1, y: 0)
        #expect(b.lines() == [" |    体"])
        #expect((0..<8).allSatisfy { x in b[x, 0].width != 0 || (x > 0 && b[x - 1, 0].width == 2) })
    }

    @Test func overwritingHalfAWideCharacterBlanksTheOtherHalf() {
        var b = ScreenBuffer(width: 6, height: 1)
        b.put("中文", x: 0, y: 0)
        b.put("x", x: 1, y: 0)  // right half of 中
        #expect(b.lines() == [" x文"])
        b.put("y", x: 2, y: 0)  // left half of 文
        #expect(b.lines() == [" xy"])
        #expect(b.cells.allSatisfy { $0.width != 0 })
    }

    @Test func noControlCharacterReachesACell() {
        var b = ScreenBuffer(width: 40, height: 1)
        b.put("\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{0}", x: 0, y: 0)
        for c in b.cells {
            #expect(!c.text.unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) })
        }
        #expect(b.lines()[0].hasPrefix("␛]0;pwned␇␛[2J<U+9B>31m␀"))
    }

    @Test func emojiSequencesBecomeOneCellOfTheirFirstEmoji() {
        var b = ScreenBuffer(width: 10, height: 1)
        b.put("👨\u{200D}👩\u{200D}👧|", x: 0, y: 0)
        #expect(b[0, 0].text == "👨" && b[0, 0].width == 2 && b[2, 0].text == "|")
        b.put("e\u{301}❤\u{FE0F}|", x: 0, y: 0)
        #expect(b[0, 0].text == "e\u{301}" && b[1, 0].text == "❤" && b[2, 0].text == "|")
    }

    @Test func boxAndRows() {
        var b = ScreenBuffer(width: 12, height: 4)
        b.box(b.area, title: "标题", style: .plain)
        b.putRow("a long row that is cut", in: Rect(x: 1, y: 1, width: 10, height: 1), style: .plain)
        #expect(b.lines() == ["┌ 标题 ────┐", "│a long ro…│", "│          │", "└──────────┘"])
    }

    @Test func rectSplits() {
        let r = Rect(x: 0, y: 1, width: 80, height: 22)
        let (l, rest) = r.splitColumns(30)
        #expect(l == Rect(x: 0, y: 1, width: 30, height: 22) && rest == Rect(x: 30, y: 1, width: 50, height: 22))
        #expect(r.splitRows(100).1.isEmpty)
        #expect(r.inset(1) == Rect(x: 1, y: 2, width: 78, height: 20))
    }

    @Test func basicColours() {
        #expect(Color.indexed(9).basic == .red)
        #expect(Color.indexed(196).basic == .red)      // pure red in the cube
        #expect(Color.indexed(21).basic == .blue)
        #expect(Color.indexed(231).basic == .white)
        #expect(Color.indexed(232).basic == .black)    // darkest grey
        #expect(Color.indexed(255).basic == .white)
        #expect(Color.default.basic == .default)
    }
}

@Suite struct KeyScriptTests {
    @Test func parsesCharactersAndNamedKeys() throws {
        #expect(try KeyScript.parse("2a<Enter><up><PgDn><BS><lt>x<C-r><Space><F5>中") ==
            [.char("2"), .char("a"), .enter, .up, .pageDown, .backspace, .char("<"), .char("x"), .ctrl("r"), .char(" "), .function(5), .char("中")])
        #expect(try KeyScript.parse("") == [])
    }

    @Test func unknownOrUnclosedNamesAreErrors() {
        #expect(throws: KeyScriptError(token: "<Entr>", offset: 1)) { try KeyScript.parse("a<Entr>") }
        #expect(throws: KeyScriptError(token: "<Enter", offset: 0)) { try KeyScript.parse("<Enter") }
    }

    @Test func namesRoundTrip() throws {
        let keys: [Key] = [.enter, .esc, .tab, .backTab, .backspace, .delete, .up, .down, .left, .right, .home, .end,
                           .pageUp, .pageDown, .char(" "), .char("<"), .char("q"), .ctrl("d"), .function(12)]
        #expect(try KeyScript.parse(keys.map(\.name).joined()) == keys)
    }
}

@Suite struct LineEditorTests {
    @Test func editsByCharacterWithCJK() {
        var e = LineEditor("78")
        e.insert("元")
        #expect(e.text == "78元" && e.cursor == 3)
        e.home(); e.insert("约")
        #expect(e.text == "约78元")
        e.right(); e.backspace()
        #expect(e.text == "约8元" && e.cursor == 1)
        e.end(); e.backspace(); e.left(); e.deleteForward()
        #expect(e.text == "约")
        e.left(); e.left(); e.backspace()  // at the start: nothing happens
        #expect(e.text == "约" && e.cursor == 0)
    }

    @Test func pasteKeepsOneLineAndDropsControls() {
        var e = LineEditor()
        e.insert("first\nsecond\tthird\u{1b}[31m\u{7}")
        #expect(e.text == "first second third[31m")
    }

    @Test func handlesKeys() {
        var e = LineEditor("ab")
        #expect(e.handle(.left) && e.handle(.char("中")) && e.handle(.home) && e.handle(.delete))
        #expect(e.text == "中b")
        #expect(!e.handle(.enter) && !e.handle(.esc))
        #expect(e.handle(.ctrl("e")) && e.handle(.ctrl("u")) && e.text == "")
    }

    @Test func viewScrollsToKeepTheCursorVisible() {
        var e = LineEditor("中文中文中文abc")
        var b = ScreenBuffer(width: 8, height: 1)
        e.draw(into: &b, x: 0, y: 0, width: 8, style: .plain)
        #expect(b.cursor?.x == 7)             // after "文abc" (2+3 = 5... plus what fits before)
        #expect(b.lines()[0].hasSuffix("abc"))
        e.home()
        e.draw(into: &b, x: 0, y: 0, width: 8, style: .plain)
        #expect(b.cursor?.x == 0 && b.lines()[0] == "中文中文")
    }
}

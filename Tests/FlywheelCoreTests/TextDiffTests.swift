import Testing
@testable import FlywheelCore

@Suite struct TextDiffTests {
    @Test func identicalTextsAreAllSame() {
        #expect(TextDiff.lines("a\nb\n", "a\nb") == [.same("a"), .same("b")])
        #expect(TextDiff.lines("", "") == [])
        #expect(TextDiff.unified("x\n", "x\n", nameA: "v1", nameB: "v2") == "--- v1\n+++ v2\n")
    }

    @Test func fromAndToNothing() {
        #expect(TextDiff.lines("", "a\nb") == [.added("a"), .added("b")])
        #expect(TextDiff.lines("a\nb", "") == [.removed("a"), .removed("b")])
        #expect(TextDiff.unified("", "a\nb", nameA: "v1", nameB: "v2") == "--- v1\n+++ v2\n@@ -0,0 +1,2 @@\n+a\n+b\n")
        #expect(TextDiff.unified("a", "", nameA: "v1", nameB: "v2") == "--- v1\n+++ v2\n@@ -1 +0,0 @@\n-a\n")
    }

    @Test func longestCommonSubsequenceKeepsTheMostLines() {
        let a = "keep 1\nold\nkeep 2\nkeep 3\ndrop"
        let b = "new first\nkeep 1\nkeep 2\nreplaced\nkeep 3"
        #expect(TextDiff.lines(a, b) == [
            .added("new first"), .same("keep 1"), .removed("old"), .same("keep 2"), .added("replaced"), .same("keep 3"), .removed("drop"),
        ])
    }

    @Test func removalsComeBeforeAdditionsInAChange() {
        #expect(TextDiff.lines("a\nx\ny\nb", "a\nX\nY\nZ\nb") == [
            .same("a"), .removed("x"), .removed("y"), .added("X"), .added("Y"), .added("Z"), .same("b"),
        ])
    }

    @Test func crlfAndChineseLines() {
        #expect(TextDiff.lines("第一行\r\n第二行\r\n", "第一行\n第二行改了\n") == [.same("第一行"), .removed("第二行"), .added("第二行改了")])
    }

    @Test func unifiedHunksHaveContextAndLineNumbers() {
        let a = (1...12).map { "line \($0)" }.joined(separator: "\n")
        var bLines = (1...12).map { "line \($0)" }
        bLines[1] = "LINE 2"          // change near the top
        bLines.insert("inserted", at: 11)  // an insertion near the end, far enough for a second hunk
        let u = TextDiff.unified(a, bLines.joined(separator: "\n"), nameA: "vqa-v1", nameB: "vqa-v2")
        #expect(u == """
            --- vqa-v1
            +++ vqa-v2
            @@ -1,5 +1,5 @@
             line 1
            -line 2
            +LINE 2
             line 3
             line 4
             line 5
            @@ -9,4 +9,5 @@
             line 9
             line 10
             line 11
            +inserted
             line 12

            """)
        // Changes close together share one hunk.
        let v = TextDiff.unified("a\nb\nc\nd\ne", "a\nB\nc\nD\ne", nameA: "x", nameB: "y", context: 1)
        #expect(v == "--- x\n+++ y\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n-d\n+D\n e\n")
    }

    @Test func sideBySidePairsRemovedAndAddedRuns() {
        let rows = TextDiff.sideBySide("keep\nold 1\nold 2\nold 3\nend", "keep\nnew 1\nend\nextra")
        #expect(rows.count == 6)
        #expect(rows.map(\.kind) == [.same, .changed, .removed, .removed, .same, .added])
        #expect(rows[0].left == "keep" && rows[0].right == "keep")
        #expect(rows[1].left == "old 1" && rows[1].right == "new 1")
        #expect(rows[2].left == "old 2" && rows[2].right == nil)
        #expect(rows[5].left == nil && rows[5].right == "extra")
    }

    @Test func diffOfRealisticPrompts() {
        let v2 = "You answer questions about the image.\nReply in the user's language.\nCopy digits exactly."
        let v3 = "You answer questions about the image.\nReply in the user's language.\nCopy digits exactly.\nAnswer in one short sentence."
        #expect(TextDiff.lines(v2, v3).filter { $0.kind != .same } == [.added("Answer in one short sentence.")])
        #expect(TextDiff.sideBySide(v2, v3).last.map { $0.kind } == .added)
    }
}

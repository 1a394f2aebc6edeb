/// Line diffs for prompt-sized text (a few hundred lines at most): a longest-common-subsequence over
/// lines after the common head and tail are set aside, so the cost is quadratic only in the changed middle.
/// Lines are split on "\n" (a "\r\n" ending is one line end); a final newline does not make an empty line.

public enum DiffLine: Equatable, Sendable {
    case same(String)
    case removed(String)
    case added(String)

    /// What a row of a diff shows: a line in both texts, only in the first, only in the second, or (side
    /// by side only) a line of the first replaced by a line of the second.
    public enum Kind: Equatable, Sendable {
        case same, removed, added, changed
    }

    public var kind: Kind {
        switch self {
        case .same: return .same
        case .removed: return .removed
        case .added: return .added
        }
    }

    public var text: String {
        switch self {
        case .same(let s), .removed(let s), .added(let s): return s
        }
    }
}

public enum TextDiff {
    /// The lines of `a` and `b` as kept, removed (only in `a`) and added (only in `b`), in order; within a
    /// change, removals come before additions.
    public static func lines(_ a: String, _ b: String) -> [DiffLine] {
        let x = splitLines(a), y = splitLines(b)
        var head = 0
        while head < x.count && head < y.count && x[head] == y[head] { head += 1 }
        var tail = 0
        while tail < x.count - head && tail < y.count - head && x[x.count - 1 - tail] == y[y.count - 1 - tail] { tail += 1 }
        let xm = Array(x[head..<(x.count - tail)]), ym = Array(y[head..<(y.count - tail)])
        var out = x[..<head].map(DiffLine.same)
        // lcs[i][j] = length of the LCS of xm[i...] and ym[j...].
        let n = xm.count, m = ym.count
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        if n > 0 && m > 0 {
            for i in stride(from: n - 1, through: 0, by: -1) {
                for j in stride(from: m - 1, through: 0, by: -1) {
                    lcs[i][j] = xm[i] == ym[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
                }
            }
        }
        var i = 0, j = 0
        var removed: [DiffLine] = [], added: [DiffLine] = []
        func flush() {
            out += removed
            out += added
            removed.removeAll()
            added.removeAll()
        }
        while i < n || j < m {
            if i < n && j < m && xm[i] == ym[j] {
                flush()
                out.append(.same(xm[i]))
                i += 1
                j += 1
            } else if j >= m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
                removed.append(.removed(xm[i]))
                i += 1
            } else {
                added.append(.added(ym[j]))
                j += 1
            }
        }
        flush()
        out += x[(x.count - tail)...].map(DiffLine.same)
        return out
    }

    /// A unified diff (`--- nameA`, `+++ nameB`, `@@ -l,n +l,n @@` hunks with `context` lines around each
    /// change), ending in a newline. Identical texts give the two header lines only.
    public static func unified(_ a: String, _ b: String, nameA: String, nameB: String, context: Int = 3) -> String {
        let diff = lines(a, b)
        var out = "--- \(nameA)\n+++ \(nameB)\n"
        let changed = diff.indices.filter { diff[$0].kind != .same }
        guard !changed.isEmpty else { return out }
        // Group changes whose context overlaps into hunks of diff indices.
        var hunks: [ClosedRange<Int>] = []
        for c in changed {
            let lo = max(0, c - context), hi = min(diff.count - 1, c + context)
            if let last = hunks.last, lo <= last.upperBound + 1 {
                hunks[hunks.count - 1] = last.lowerBound...hi
            } else {
                hunks.append(lo...hi)
            }
        }
        // Line numbers (1-based) in a and b where each diff index starts.
        var lineA = [Int](), lineB = [Int]()
        var la = 1, lb = 1
        for d in diff {
            lineA.append(la)
            lineB.append(lb)
            if d.kind != .added { la += 1 }
            if d.kind != .removed { lb += 1 }
        }
        for h in hunks {
            let rows = diff[h]
            let countA = rows.filter { $0.kind != .added }.count
            let countB = rows.filter { $0.kind != .removed }.count
            // An empty side is numbered by the line before it, as diff -u does.
            let startA = countA == 0 ? lineA[h.lowerBound] - 1 : lineA[h.lowerBound]
            let startB = countB == 0 ? lineB[h.lowerBound] - 1 : lineB[h.lowerBound]
            out += "@@ -\(range(startA, countA)) +\(range(startB, countB)) @@\n"
            for d in rows {
                switch d {
                case .same(let s): out += " \(s)\n"
                case .removed(let s): out += "-\(s)\n"
                case .added(let s): out += "+\(s)\n"
                }
            }
        }
        return out
    }

    /// Rows for a two-column view: kept lines on both sides; within each change, removed and added lines
    /// are paired in order (`.changed`), and the longer run's rest stands alone (`.removed` with no right
    /// side, `.added` with no left side).
    public static func sideBySide(_ a: String, _ b: String) -> [(left: String?, right: String?, kind: DiffLine.Kind)] {
        var rows: [(left: String?, right: String?, kind: DiffLine.Kind)] = []
        var removed: [String] = [], added: [String] = []
        func flush() {
            for k in 0..<max(removed.count, added.count) {
                let l = k < removed.count ? removed[k] : nil
                let r = k < added.count ? added[k] : nil
                rows.append((l, r, l != nil && r != nil ? .changed : (l != nil ? .removed : .added)))
            }
            removed.removeAll()
            added.removeAll()
        }
        for d in lines(a, b) {
            switch d {
            case .same(let s):
                flush()
                rows.append((s, s, .same))
            case .removed(let s): removed.append(s)
            case .added(let s): added.append(s)
            }
        }
        flush()
        return rows
    }

    static func splitLines(_ s: String) -> [String] {
        if s.isEmpty { return [] }
        // "\r\n" is one Character in Swift, so splitting on Character "\n" would miss it.
        var lines = s.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    private static func range(_ start: Int, _ count: Int) -> String {
        count == 1 ? "\(start)" : "\(start),\(count)"
    }
}

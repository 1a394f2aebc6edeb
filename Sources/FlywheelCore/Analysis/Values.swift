import Foundation

/// Small helpers for regular expressions compiled once.
public struct Pattern: @unchecked Sendable {
    let regex: NSRegularExpression
    /// `\\b` means an ASCII word boundary here: ICU counts CJK characters as word characters, so its own `\\b`
    /// finds no boundary in "wrong啦" or "no啦".
    public init(_ pattern: String, caseSensitive: Bool = false) {
        let ascii = #"(?:(?<![A-Za-z0-9'])(?=[A-Za-z0-9'])|(?<=[A-Za-z0-9'])(?![A-Za-z0-9']))"#
        let rewritten = pattern.replacingOccurrences(of: #"\b"#, with: ascii)
        regex = try! NSRegularExpression(pattern: rewritten, options: caseSensitive ? [] : [.caseInsensitive])
    }
    public func matches(_ s: String) -> Bool {
        regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }
    func firstMatch(_ s: String) -> NSTextCheckingResult? {
        regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s))
    }
    func allMatches(_ s: String) -> [NSTextCheckingResult] {
        regex.matches(in: s, range: NSRange(s.startIndex..., in: s))
    }
    /// Capture group `group` of the first match.
    public func capture(_ s: String, _ group: Int = 1) -> String? {
        guard let m = firstMatch(s), m.numberOfRanges > group, let r = Range(m.range(at: group), in: s) else { return nil }
        return String(s[r])
    }
    public func removing(from s: String) -> String {
        regex.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: " ")
    }
}

/// "Values" are the checkable parts of an answer: numbers and amounts, colours, years, and words in
/// capitals (sign text). Two answers that state different values disagree.
public enum Values {
    static let number = Pattern(#"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{1,2}:\d{2}(?::\d{2})?|\d+(?:-\d+)+|[$¥€£]?\d+(?:[.,]\d+)*%?"#)
    static let capsWord = Pattern(#"\b[A-Z][A-Z0-9]{1,}(?:\s+[A-Z0-9]{2,})*\b"#, caseSensitive: true)
    static let zhColours = ["红", "橙", "黄", "绿", "青", "蓝", "紫", "黑", "白", "灰", "粉", "棕", "金", "银"]
    static let enColours = ["red", "orange", "yellow", "green", "cyan", "blue", "purple", "violet", "black", "white",
                            "grey", "gray", "pink", "brown", "gold", "silver"]

    /// Canonical values found in `text` ("$42.51" -> "42.51", "78.40" -> "78.4", "藍色" -> "蓝", "Blue" -> "blue").
    public static func of(_ text: String) -> Set<String> {
        let folded = TextNormalizer.fold(text)
        var out = Set<String>()
        for m in number.allMatches(folded) {
            if let r = Range(m.range, in: folded) { out.insert(canonicalNumber(String(folded[r]))) }
        }
        for m in capsWord.allMatches(folded) {
            if let r = Range(m.range, in: folded) {
                let w = String(folded[r])
                if !["OK", "I", "A", "AM", "PM", "USD", "RMB", "KWH"].contains(w) { out.insert(w.lowercased()) }
            }
        }
        let lower = folded.lowercased()
        let words = asciiWords(lower)
        let lowerUTF8 = Array(lower.utf8)
        for c in zhColours where contains(lowerUTF8, c + "色") || contains(lowerUTF8, c + "的") { out.insert("colour:" + colourKey(c)) }
        for c in enColours where words.contains(c) { out.insert("colour:" + colourKey(c)) }
        for (zh, en) in shapes where contains(lowerUTF8, zh) || words.contains(en) { out.insert("shape:" + en) }
        for (zh, en) in directions where zh.contains(where: { contains(lowerUTF8, $0) }) || (en != "left" && en != "right" && words.contains(en)) {
            out.insert("dir:" + en)
        }
        // "right" alone is agreement ("you're right"); only directional phrases count.
        for m in sideways.allMatches(lower) {
            for g in [1, 2] where m.range(at: g).location != NSNotFound {
                if let r = Range(m.range(at: g), in: lower) { out.insert("dir:" + String(lower[r])) }
            }
        }
        for m in zhNumeral.allMatches(folded) {
            if let r = Range(m.range(at: 1), in: folded), let v = zhDigits[String(folded[r])] { out.insert(String(v)) }
        }
        return out
    }

    static let shapes = [("圆形", "circle"), ("正方形", "square"), ("方形", "square"), ("长方形", "rectangle"), ("矩形", "rectangle"),
                         ("三角形", "triangle"), ("五边形", "pentagon"), ("六边形", "hexagon"), ("八边形", "octagon"),
                         ("星形", "star"), ("心形", "heart"), ("椭圆", "oval"), ("菱形", "diamond")]

    /// Directions, written so that 东西 ("thing") and 左右 ("about") do not count.
    static let directions: [([String], String)] = [
        (["东边", "东面", "东侧", "东门", "往东", "向东", "东出口"], "east"), (["西边", "西面", "西侧", "西门", "往西", "向西", "西出口"], "west"),
        (["南边", "南面", "南侧", "南门", "往南", "向南"], "south"), (["北边", "北面", "北侧", "北门", "往北", "向北"], "north"),
        (["左边", "左侧", "左转", "往左", "向左", "左手"], "left"), (["右边", "右侧", "右转", "往右", "向右", "右手"], "right"),
    ]
    static let sideways = Pattern(#"\b(?:on the|to the|turn|turns|at the|from the|go|keep|bear)\s+(left|right)\b|\b(left|right)(?=\s+(?:side|hand|turn|lane|exit|door|corner))"#)

    /// Chinese numerals with a measure word ("两个点", "三楼") as digits.
    static let zhNumeral = Pattern(#"(?<![一二两三四五六七八九十\d])([一二两三四五六七八九十])(?=个|点|次|只|张|位|楼|层|号|道|件|天|年|月|元|块|排|行|颗|瓶|杯)"#)
    static let zhDigits: [String: Int] = ["一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10]

    static func canonicalNumber(_ s: String) -> String {
        var t = s.filter { !"$¥€£".contains($0) }
        if t.contains(":") || t.contains("-") || t.contains("/") { return t }  // times, dates, phone numbers
        if t.allSatisfy(\.isNumber) && t.count > 1 && t.hasPrefix("0") && t.count <= 2 {
            t = String(t.drop(while: { $0 == "0" }))   // "03" (a month) and "3" are one value
            if t.isEmpty { t = "0" }
        }
        // Thousands separators: "1,234.5" -> "1234.5"; a lone comma with 1-2 decimals is a decimal comma.
        if t.contains(",") {
            let parts = t.split(separator: ",")
            if parts.count == 2 && parts[1].count <= 2 && !t.contains(".") { t = parts.joined(separator: ".") } else { t = t.replacingOccurrences(of: ",", with: "") }
        }
        if t.contains(".") && !t.hasSuffix("%") {
            while t.hasSuffix("0") { t.removeLast() }
            if t.hasSuffix(".") { t.removeLast() }
        }
        return t
    }

    static func colourKey(_ c: String) -> String {
        let map = ["红": "red", "橙": "orange", "黄": "yellow", "绿": "green", "青": "cyan", "蓝": "blue", "紫": "purple",
                   "黑": "black", "白": "white", "灰": "grey", "粉": "pink", "棕": "brown", "金": "gold", "银": "silver",
                   "gray": "grey", "violet": "purple"]
        return map[c] ?? c
    }

    /// Byte-level substring test (Foundation's `contains` folds character clusters and is far slower).
    static func contains(_ hay: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard !n.isEmpty, hay.count >= n.count else { return n.isEmpty }
        for i in 0...(hay.count - n.count) where hay[i] == n[0] {
            var k = 1
            while k < n.count && hay[i + k] == n[k] { k += 1 }
            if k == n.count { return true }
        }
        return false
    }

    /// The runs of ASCII letters in `s`.
    static func asciiWords(_ s: String) -> Set<String> {
        var words = Set<String>()
        var cur = ""
        for u in s.unicodeScalars {
            if (u >= "a" && u <= "z") || (u >= "A" && u <= "Z") { cur.unicodeScalars.append(u) } else if !cur.isEmpty {
                words.insert(cur)
                cur = ""
            }
        }
        if !cur.isEmpty { words.insert(cur) }
        return words
    }
}

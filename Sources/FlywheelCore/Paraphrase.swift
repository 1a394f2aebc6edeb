import Foundation

/// Question rewrites for synthetic samples (`flywheel augment`): fixed Chinese and English templates that
/// reword how a question is asked without touching what it asks, so the reviewed answer stays right.
/// Pure and deterministic: the same question always gives the same variants, in the same order.
public enum Paraphrase {
    public struct Variant: Sendable, Equatable {
        public var question: String
        /// "zh-1", "en-3", …: which template made it.
        public var template: String
    }

    /// Templates over the question's core (`{q}`: the question without its final punctuation) and the question
    /// as asked (`{Q}`, with a question mark ensured).
    static let zh = [
        "请看图回答:{Q}",
        "请问,{Q}",
        "根据这张图片,{Q}",
        "帮我看一下,{Q}",
        "麻烦告诉我:{Q}",
        "图里的内容,{Q}",
    ]
    static let en = [
        "Please answer based on the image: {Q}",
        "Looking at this picture, {lq}",
        "Quick question about this image: {Q}",
        "Can you help me? {Q}",
        "From the image, {lq}",
        "I'd like to know: {Q}",
    ]

    /// True when the text holds a CJK ideograph (then the Chinese templates apply).
    public static func isChinese(_ text: String) -> Bool {
        text.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) || (0x3400...0x4DBF).contains($0.value) }
    }

    /// Up to `count` rewrites of `question`, never the question itself and never twice the same; none for a
    /// blank question.
    public static func variants(of question: String, count: Int) -> [Variant] {
        let q = question.trimmingCharacters()
        guard !q.isEmpty, count > 0 else { return [] }
        let chinese = isChinese(q)
        var core = Substring(q)
        while let last = core.last, "??!!。.~~ ".contains(last) { core = core.dropLast() }
        guard !core.isEmpty else { return [] }
        let asked = chinese ? String(core) + "?" : String(core) + "?"
        let lowered = chinese ? asked : lowerFirst(asked)
        var out: [Variant] = []
        var seen: Set<String> = [q]
        for (i, template) in (chinese ? zh : en).enumerated() where out.count < count {
            let text = template.replacingOccurrences(of: "{Q}", with: asked).replacingOccurrences(of: "{lq}", with: lowered)
            if seen.insert(text).inserted {
                out.append(Variant(question: text, template: (chinese ? "zh-" : "en-") + String(i + 1)))
            }
        }
        return out
    }

    /// Lower-cases the first letter unless the first word looks like a name or an acronym ("I", "STOP", "iPhone",
    /// "McDonald's": any capital after the first letter, or a lone "I").
    static func lowerFirst(_ s: String) -> String {
        guard let first = s.first, first.isUppercase else { return s }
        let word = s.prefix { $0.isLetter || $0 == "'" }
        if word == "I" || word.hasPrefix("I'") || word.dropFirst().contains(where: \.isUppercase) { return s }
        return first.lowercased() + s.dropFirst()
    }
}

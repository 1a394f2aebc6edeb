import Testing
@testable import FlywheelCore

@Suite struct ParaphraseTests {
    @Test func chineseQuestionsGetChineseTemplates() {
        let v = Paraphrase.variants(of: "这个数字是多少?", count: 3)
        #expect(v.map(\.question) == ["请看图回答:这个数字是多少?", "请问,这个数字是多少?", "根据这张图片,这个数字是多少?"])
        #expect(v.map(\.template) == ["zh-1", "zh-2", "zh-3"])
        // Mixed text with any ideograph is Chinese; a missing question mark is added.
        #expect(Paraphrase.variants(of: "  请用JSON返回读数 ", count: 1).map(\.question) == ["请看图回答:请用JSON返回读数?"])
        #expect(Paraphrase.variants(of: "这是什么?", count: 6).map(\.question) == [
            "请看图回答:这是什么?", "请问,这是什么?", "根据这张图片,这是什么?", "帮我看一下,这是什么?", "麻烦告诉我:这是什么?", "图里的内容,这是什么?",
        ])
    }

    @Test func englishQuestionsGetEnglishTemplates() {
        #expect(Paraphrase.variants(of: "What does the sign say?", count: 6).map(\.question) == [
            "Please answer based on the image: What does the sign say?",
            "Looking at this picture, what does the sign say?",
            "Quick question about this image: What does the sign say?",
            "Can you help me? What does the sign say?",
            "From the image, what does the sign say?",
            "I'd like to know: What does the sign say?",
        ])
        #expect(Paraphrase.variants(of: "How many cats", count: 2).map(\.question)
                == ["Please answer based on the image: How many cats?", "Looking at this picture, how many cats?"])
        // Names and acronyms keep their capitals.
        #expect(Paraphrase.variants(of: "STOP or SHOP?", count: 2).last?.question == "Looking at this picture, STOP or SHOP?")
        #expect(Paraphrase.variants(of: "iPhone model?", count: 2).last?.question == "Looking at this picture, iPhone model?")
        #expect(Paraphrase.variants(of: "I see a dog, right?", count: 2).last?.question == "Looking at this picture, I see a dog, right?")
    }

    @Test func deterministicBoundedAndNeverTheQuestionItself() {
        #expect(Paraphrase.variants(of: "What is this?", count: 4) == Paraphrase.variants(of: "What is this?", count: 4))
        #expect(Paraphrase.variants(of: "What is this?", count: 99).count == 6)
        #expect(Paraphrase.variants(of: "What is this?", count: 0).isEmpty)
        #expect(Paraphrase.variants(of: "   ", count: 3).isEmpty)
        #expect(Paraphrase.variants(of: "??", count: 3).isEmpty)
        // A question already in a template's words is not given back unchanged.
        let q = "请问,这是什么?"
        #expect(!Paraphrase.variants(of: q, count: 6).map(\.question).contains(q))
        #expect(Paraphrase.isChinese("abc") == false && Paraphrase.isChinese("ab猫") == true)
    }
}

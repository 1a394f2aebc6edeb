import Testing
@testable import FlywheelCore

func convo(_ pairs: [(Role, String)]) -> [ConversationTurn] { pairs.map { ConversationTurn(role: $0.0, content: $0.1) } }

func corrections(_ turns: [ConversationTurn]) -> [DetectedSignal] {
    SessionAnalyzer().analyze(turns).filter { $0.kind == .correction }
}

@Suite struct CorrectionRuleTests {
    @Test(arguments: [
        ("87", "不对,是78", "78"),
        ("红色的", "错了,应该是蓝色的", "蓝色"),
        ("The total is 17.", "No, it's 71.", "71"),
        ("The total is $24.15.", "that's wrong, the total is $42.51", "$42.51"),
        ("2024年5月3日", "年份错了,是2025", "2025"),
        ("It says EXTT.", "it says EXIT not EXTT", "EXIT"),
        ("是红色", "颜色不对,是绿色", "绿色"),
        ("There are 3 cups.", "Look again, it's 5 not 3", "5"),
        ("31", "不對,是 13", "13"),
        ("31", "nah it's 13", "13"),
        ("87", "不是87,是78", "78"),
        ("87", "是78不是87", "78"),
    ])
    func explicitCorrectionsWithAnswers(_ answer: String, _ reply: String, _ expected: String) {
        let found = corrections(convo([(.user, "这个是多少?"), (.assistant, answer), (.user, reply)]))
        #expect(found.count == 1, "\(reply)")
        #expect(found.first?.answerIndex == 1)
        #expect(found.first?.correctAnswer == expected, "\(reply)")
    }

    @Test func lookAgainIsNotAnAnswer() {
        let found = corrections(convo([(.user, "what colour?"), (.assistant, "A red hexagon on a white card."), (.user, "Nope, look again")]))
        #expect(found.count == 1)
        #expect(found.first?.correctAnswer == nil)
    }

    @Test(arguments: ["错了", "wrong", "you misread it", "错啦", "不对", "that's incorrect", "Wrnog.", "nope, wrong", "不對喔", "搞错了吧"])
    func bareCorrectionsHaveNoAnswer(_ reply: String) {
        let found = corrections(convo([(.user, "What does the sign say?"), (.assistant, "It says STOP."), (.user, reply)]))
        #expect(found.count == 1, "\(reply)")
        #expect(found.first?.correctAnswer == nil, "\(reply)")
    }

    @Test(arguments: [
        "not bad", "no worries", "nothing else, thanks", "I know", "其实我更想知道日期", "不是很辣吧?", "没错", "Is it not on sale?",
        "the cashier got it wrong, not you", "sorry, I meant the second line", "我说错了,我想问的是税", "店员算错了吧", "No, thank you",
        "Why not?", "错过了末班车", "对不起,再问一个", "wrong button, ignore that", "not the total, the tax please", "不是,我是问日期",
        "that's wrong of them to charge that much", "No problem", "thanks!", "What about the date?", "没错,谢谢",
    ])
    func hardNegativesDoNotFire(_ reply: String) {
        let found = corrections(convo([(.user, "总金额是多少?"), (.assistant, "总金额是 42.50 元。"), (.user, reply)]))
        #expect(found.isEmpty, "\(reply) -> \(found.map(\.rule))")
    }

    @Test func doubtFollowedByRevisionIsACorrection() {
        let turns = convo([(.user, "这个数字是多少?"), (.assistant, "87"), (.user, "确定是87吗?"), (.assistant, "啊对,是78")])
        let found = corrections(turns)
        #expect(found.count == 1)
        #expect(found.first?.answerIndex == 1)
        #expect(found.first?.correctAnswer == "78")
        #expect(found.first?.rule == "doubt_then_revision")
    }

    @Test func doubtTheAssistantDefendsIsNot() {
        let turns = convo([(.user, "这个数字是多少?"), (.assistant, "87"), (.user, "确定吗?"), (.assistant, "是的,确实是87。"), (.user, "好的")])
        #expect(corrections(turns).isEmpty)
    }

    @Test func correctionTwoExchangesLaterFindsItsAnswer() {
        let turns = convo([
            (.user, "What's the total on this receipt?"), (.assistant, "The total is $24.15."),
            (.user, "And the date?"), (.assistant, "May 3, 2026."),
            (.user, "by the way the total you gave earlier was wrong, it's 42.50"),
        ])
        let found = corrections(turns)
        #expect(found.count == 1)
        #expect(found.first?.answerIndex == 1)
        #expect(found.first?.correctAnswer == "42.50")
    }
}

@Suite struct RepeatedQuestionTests {
    @Test func chineseRepeatWithoutSpaces() {
        let turns = convo([(.user, "这个数字是多少"), (.assistant, "图片太模糊了,看不清。"), (.user, "数字是多少呀")])
        #expect(SessionAnalyzer().analyze(turns).contains { $0.kind == .repeatedQuestion && $0.answerIndex == 1 })
    }

    @Test func englishRepeat() {
        let turns = convo([(.user, "What's the total?"), (.assistant, "Sorry, I can't read the image."), (.user, "I asked what's the total")])
        #expect(SessionAnalyzer().analyze(turns).contains { $0.kind == .repeatedQuestion })
    }

    @Test func differentQuestionOnSameImageIsNot() {
        let turns = convo([(.user, "总金额是多少?"), (.assistant, "42.50 元"), (.user, "税是多少?")])
        #expect(!SessionAnalyzer().analyze(turns).contains { $0.kind == .repeatedQuestion })
        let en = convo([(.user, "What colour is the shape?"), (.assistant, "Blue."), (.user, "What shape is it?")])
        #expect(!SessionAnalyzer().analyze(en).contains { $0.kind == .repeatedQuestion })
    }
}

@Suite struct SlowAndTaxonomyTests {
    @Test func slowAnswers() {
        var turns = convo([(.user, "q"), (.assistant, "a")])
        turns[1].responseMs = 15_001
        let s = SessionAnalyzer().analyze(turns)
        #expect(s.map(\.kind) == [.slowResponse])
        #expect(s.first?.evidence == "answered in 15.0 s")
        turns[1].responseMs = 15_000
        #expect(SessionAnalyzer().analyze(turns).isEmpty)
        #expect(SessionAnalyzer(slowMs: 1000).analyze(turns).count == 1)
    }

    @Test func categories() {
        #expect(Taxonomy.classify(question: "q", wrong: "87", correct: nil) == .unknown)
        #expect(Taxonomy.classify(question: "请以JSON格式返回金额", wrong: "总金额是42.51元", correct: #"{"total": 42.51}"#) == .formatError)
        #expect(Taxonomy.classify(question: "what is it?", wrong: "A large red double-decker bus parked by the river", correct: "a bus") == .hallucination)
        #expect(Taxonomy.classify(question: "total?", wrong: "Total: 41.36", correct: "14.36") == .numberMisread)
        #expect(Taxonomy.classify(question: "总金额?", wrong: "这是一张来自Pho 99的购物小票,上面列出了很多菜品和价格", correct: "55.75") == .hallucination)
        #expect(Taxonomy.classify(question: "这个数字是多少?", wrong: "87", correct: "78") == .numberMisread)
        #expect(Taxonomy.classify(question: "这个标志是什么意思?", wrong: "禁止停车", correct: "禁止鸣笛") == .knowledgeError)
        #expect(Taxonomy.classify(question: "什么颜色?", wrong: "红色", correct: "蓝色") == .visualUnderstandingError)
        #expect(Taxonomy.classify(question: "total?", wrong: "78.40", correct: "78.4") == .visualUnderstandingError)
        #expect(Taxonomy.classify(question: "What does the sign say?", wrong: "It says STOP.", correct: "SHOP") == .visualUnderstandingError)
        #expect(Taxonomy.classify(question: "这个数字是多少?", wrong: "总金额是87元", correct: "78元") == .numberMisread)
    }
}

import Testing
@testable import FlywheelCore

/// One example per rule: which rule decides a reply to an answer. The rule names are what signals store.
@Suite struct ReplyRuleTableTests {
    static let cases: [(answer: String, reply: String, question: String?, kind: ReplyAssessment.Kind, rule: String)] = [
        ("87", "不对,是78", nil, .correction, "explicit_negation_zh"),
        ("It says STOP.", "wrong, it says SHOP", nil, .correction, "explicit_negation_en"),
        ("It says STOP.", "wrong啦", nil, .correction, "explicit_negation_en"),
        ("人民东路", "是人民西路,不是东路", nil, .correction, "contrast_negates_answer"),
        ("The total is $24.50.", "the total is $61.20", nil, .correction, "states_other_value"),
        ("图中是一个橙色的圆形", "这明明是六边形", nil, .correction, "states_other_value"),
        ("Model: WM-3150X.", "no, it's a dryer", nil, .correction, "no_with_other_value"),
        ("报名电话:135 2207 6618。", "135 2207 6818", nil, .correction, "near_identical_value"),
        ("Model: WM-3150X.", "hmm no", nil, .correction, "bare_no"),
        ("8 servings", "not 8", nil, .correction, "negates_answer_value"),
        ("There are 3 cups.", "look again, it's 5", nil, .correction, "look_again_with_value"),
        ("数学 87 分。", "?是97", nil, .correction, "bare_other_value"),
        ("报名电话:135 2207 6618。", "135 2207 6818", nil, .correction, "near_identical_value"),
        ("Sat 10am–2pm, closed Sunday.", "saturday is 10am–4pm, rest looks right", nil, .correction, "partial_correction"),
        ("招牌菜是酸菜鱼。", "那是水煮鱼", nil, .correction, "names_other_thing"),
        ("左边红色,右边黄色。", "右边是橙色", nil, .correction, "restates_with_other_value"),
        ("The meter reading is 21968.", "that's not JSON", "Return the reading as JSON", .correction, "format_violation"),
        ("读数是04817。", "请只返回JSON", "请用JSON格式返回读数", .correction, "format_violation"),
        ("45 mph.", "I could've sworn it was 55", nil, .doubt, "hedged_value"),
        ("87", "确定是87吗?", nil, .doubt, "doubt"),
        ("87号。", "嗯?87?", nil, .doubt, "echo_question"),
        ("0", "isn't that a 6?", nil, .doubt, "doubt"),
        ("总金额是 42.50 元。", "not bad", nil, .none, "neutral"),
        ("总金额是 42.50 元。", "没错,谢谢", nil, .none, "neutral"),
        ("总金额是 42.50 元。", "the cashier got it wrong, not you", nil, .none, "other_party"),
        ("总金额是 42.50 元。", "这个价签写错了吧", nil, .none, "other_party"),
        ("总金额是 42.50 元。", "sorry, I meant the second line", nil, .none, "self_error"),
        ("总金额是 42.50 元。", "好 那我记错了", nil, .none, "self_error"),
        ("The total is $42.50.", "not the total, the tax please", nil, .none, "redirect"),
        ("1Z999. Anything else?", "Nope", nil, .none, "answer_to_question"),
        ("It has 3 sides.", "nope, all good", nil, .none, "polite_no"),
        ("Gate B12.", "great thanks, no more questions", nil, .none, "thanks"),
        ("总金额是 42.50 元。", "好的谢谢你", nil, .none, "thanks"),
        ("It's a Do Not Enter sign.", "so it's like a wrong way sign?", nil, .none, "question"),
        ("15%的小费约为31.20。", "上个月是35401,用了多少?", nil, .none, "question"),
        ("Blue.", "What shape is it?", nil, .none, "question"),
        ("总金额是 42.50 元。", "请以JSON格式返回金额", nil, .none, "no_cue"),
    ]

    @Test(arguments: cases.indices)
    func ruleDecides(_ i: Int) {
        let c = Self.cases[i]
        let a = ReplyRules.assess(reply: c.reply, answer: c.answer, question: c.question)
        #expect(a.kind == c.kind, "\(c.reply) -> \(a)")
        #expect(a.rule == c.rule, "\(c.reply) -> \(a)")
    }
}

@Suite struct RepeatRuleTableTests {
    static let cases: [(question: String, answer: String, reply: String, repeated: Bool)] = [
        ("这个数字是多少", "图片太模糊了,看不清。", "数字是多少呀", true),                        // similar, after a refusal
        ("What does the handwritten note say?", "I'm sorry, I can't read it.", "What does the handwritten note say?", true),  // exact
        ("Which gate is my flight?", "Your flight is to Denver.", "you didn't answer — which gate?", true),  // "didn't answer"
        ("这张账单总价多少?", "这是一张餐厅账单,有 6 道菜。", "我刚才问的是总价", true),          // "我问的是" + the question
        ("这张发票金额多少?", "金额是 ¥2,360.00。", "不是,我是问日期", false),                  // "我是问" + a new question
        ("What's the wifi password on the sign?", "The network name is CafeGuest.", "the password, not the network name", true),
        ("招牌上写的是什么?", "抱歉,我無法辨識。", "再試一次 招牌上的字", true),                    // retry after a refusal
        ("How many chairs are in the room?", "There are several chairs.", "how many exactly?", true),  // vague answer + cue
        ("第一行的价格是多少?", "第一行是 ¥12.50。", "第二行的价格是多少?", false),                // another slot
        ("What colour is the shape?", "Blue.", "What shape is it?", false),                           // another attribute
        ("总金额是多少?", "42.50 元", "税是多少?", false),                                            // another question
        ("What's the total?", "$42.50", "thanks", false),                                             // closing
        ("Return the total as JSON", "The total is $208.", "I asked for JSON", false),                 // a format complaint
        ("Which item costs $5.49?", "The second item.", "oh sorry not the second, I meant the third one", false),  // self-redirect
    ]

    @Test(arguments: cases.indices)
    func repeatDecision(_ i: Int) {
        let c = Self.cases[i]
        let turns = convo([(.user, c.question), (.assistant, c.answer), (.user, c.reply)])
        let found = SessionAnalyzer().analyze(turns).contains { $0.kind == .repeatedQuestion }
        #expect(found == c.repeated, "\(c.question) / \(c.answer) / \(c.reply)")
    }
}

@Suite struct DoubtOutcomeTests {
    @Test func unansweredDoubtWithAValueCountsWithLowerConfidence() {
        let s = corrections(convo([(.user, "When was this bought?"), (.assistant, "The date is 09/19/2024."), (.user, "09/14 I think, the 4 is faded")]))
        #expect(s.first?.rule == "unanswered_doubt_with_value")
        #expect(s.first?.confidence == 0.6)
    }

    @Test func aRevisionAfterARepeatedQuestionIsJustTheFirstAnswer() {
        let s = corrections(convo([(.user, "what's the calories per serving on this box"), (.assistant, "The box contains about 8 servings."),
                                   (.user, "calories per serving??"), (.assistant, "210 calories per serving.")]))
        #expect(s.isEmpty)
    }

    @Test func stillWrongIsAboutTheLatestAnswer() {
        let s = corrections(convo([(.user, "plate number?"), (.assistant, "KLM 4821"), (.user, "no, KLN 4821"),
                                   (.assistant, "Got it, KLN 4827."), (.user, "still wrong, KLN 4821!!")]))
        #expect(Set(s.map(\.answerIndex)) == [1, 3])
        #expect(s.first { $0.answerIndex == 3 }?.correctAnswer == "KLN 4821")
    }
}

import Testing
@testable import FlywheelAnalyze

@Suite struct RateLimiterTests {
    @Test func spacesStartsEvenly() {
        var r = RateLimiter(perMinute: 60)  // one a second
        #expect(r.reserve(now: 0) == 0)
        #expect(r.reserve(now: 0) == 1_000_000_000)
        #expect(r.reserve(now: 500_000_000) == 1_500_000_000)
        // After a pause the budget does not pile up: the next start is now.
        #expect(r.reserve(now: 10_000_000_000) == 0)
        #expect(r.reserve(now: 10_000_000_000) == 1_000_000_000)
    }

    @Test func noLimitNeverWaits() {
        var r = RateLimiter(perMinute: nil)
        var z = RateLimiter(perMinute: 0)
        for _ in 0..<5 { #expect(r.reserve(now: 7) == 0 && z.reserve(now: 7) == 0) }
    }
}

import Foundation

// Time series for the flywheel metrics: UTC hour and day buckets over a window, and a one-line sparkline.
// Times are milliseconds since the Unix epoch, as the store keeps them; windows are half-open [since, until).

public enum MetricBucket: String, Sendable, Equatable, CaseIterable {
    case hour, day

    /// The bucket's length in milliseconds.
    public var millis: Int64 { self == .hour ? 3_600_000 : 86_400_000 }
}

public enum Series {
    /// The start of the UTC bucket holding `ts` (floor, also before 1970).
    public static func bucketStart(_ ts: Int64, _ bucket: MetricBucket) -> Int64 {
        let m = bucket.millis
        let q = ts / m
        return (ts % m < 0 ? q - 1 : q) * m
    }

    /// The starts of every bucket that overlaps [since, until), in order; empty when until <= since.
    public static func bucketStarts(since: Int64, until: Int64, _ bucket: MetricBucket) -> [Int64] {
        guard until > since else { return [] }
        return Array(stride(from: bucketStart(since, bucket), to: until, by: Int(bucket.millis)))
    }

    /// Adds up (time, count) pairs into the buckets that overlap [since, until), zeros included; a pair counts
    /// in the bucket holding its time, and pairs in no such bucket are ignored (so a bucket's start stands for
    /// the bucket even when the window starts inside it).
    public static func fill(_ counts: [(ts: Int64, count: Int)], since: Int64, until: Int64, _ bucket: MetricBucket) -> [(start: Int64, count: Int)] {
        let starts = bucketStarts(since: since, until: until, bucket)
        guard let first = starts.first else { return [] }
        var values = [Int](repeating: 0, count: starts.count)
        for c in counts where c.ts >= first && c.ts < until {
            values[Int((bucketStart(c.ts, bucket) - first) / bucket.millis)] += c.count
        }
        return zip(starts, values).map { ($0, $1) }
    }

    /// How many of `timestamps` fall in each bucket of [since, until).
    public static func bucketCounts(_ timestamps: [Int64], since: Int64, until: Int64, _ bucket: MetricBucket) -> [Int] {
        fill(timestamps.filter { $0 >= since && $0 < until }.map { ($0, 1) }, since: since, until: until, bucket).map(\.count)
    }

    static let bars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// One character per value, ▁ (the lowest) to █ (the highest), scaled from min(0, lowest) to the highest
    /// so that counts and rates keep zero as their baseline (equal positive values are all █, all zeros ▁, equal
    /// negative values ▄). A value that is not finite draws a space.
    public static func sparkline(_ values: [Double]) -> String {
        let finite = values.filter(\.isFinite)
        guard let high = finite.max(), let low = finite.min().map({ min(0, $0) }) else {
            return String(repeating: " ", count: values.count)
        }
        return String(values.map { v -> Character in
            guard v.isFinite else { return " " }
            if high == low { return v == 0 ? bars[0] : bars[3] }
            let i = Int(((v - low) / (high - low) * Double(bars.count - 1)).rounded())
            return bars[min(max(i, 0), bars.count - 1)]
        })
    }
}

/// Dates for time windows on the command line: "2026-05-01" (a UTC day) or RFC 3339.
public enum WindowDate {
    /// Milliseconds since the epoch. A plain date is the start of that UTC day, or with `endOfDay` the start of
    /// the next one (so `--until 2026-05-28` includes the 28th). nil when neither form parses.
    public static func parse(_ s: String, endOfDay: Bool = false) -> Int64? {
        let t = s.trimmingCharacters(in: .whitespaces)
        let parts = t.split(separator: "-", omittingEmptySubsequences: false)
        if t.utf8.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
           parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
           let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
           (1...12).contains(m), d >= 1, d <= Timestamp.daysInMonth(y, m) {
            let day = Int64(Timestamp.daysFromCivil(y, m, d) + (endOfDay ? 1 : 0))
            return day * 86_400_000
        }
        return Timestamp.parseMillis(t)
    }

    /// "2026-05-01" for a time at a UTC midnight, else the RFC 3339 form.
    public static func format(_ millis: Int64) -> String {
        let text = Timestamp.format(millis: millis)
        return millis % 86_400_000 == 0 ? String(text.prefix(10)) : text
    }
}

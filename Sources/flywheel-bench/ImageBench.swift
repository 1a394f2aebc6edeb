// flywheel-bench image: the image preview path (ImagePreview) on big JPEGs and on a scrolled queue.
//
//   flywheel-bench image [--runs N] [--images DIR] [--workdir DIR] [--keep] [--no-40mp]
//
// 1. Generates a 4000x3000 JPEG (and a 40-megapixel one, 7296x5472, baseline and progressive) in a child
//    process of this binary (`image --generate PATH WxH [--progressive]`), so generating does not count
//    in this process's peak RSS.
// 2. First view (no cache): decode + render to 60x20 and 120x40 cells, 256 colours, through
//    PreviewCache.preview with a fresh key each run: median / p95 / max over N runs. Decode and render
//    are also timed on their own.
// 3. Cached: PreviewCache.cachedPreview lookups, and key-to-frame (cached lookup + drawing the preview
//    into a 160x48 ScreenBuffer).
// 4. A queue of 1,000 images: 1,000 distinct keys over the ~50 sample images, viewed in order (first
//    view: every one decodes), then again (cached view). The target: cached key-to-frame p95 < 20 ms.
// Peak RSS (VmHWM) after each phase.
import CJPEG
import Foundation
import ImagePreview
import TerminalKit

func imageBenchmark(_ args: [String]) throws {
    if let i = args.firstIndex(of: "--generate"), i + 2 < args.count {
        guard let size = parseImageSize(args[i + 2]) else { throw BenchError("--generate PATH WxH") }
        try generateBenchJPEG(path: args[i + 1], width: size.width, height: size.height, progressive: args.contains("--progressive"))
        return
    }
    let runs = max(3, Int(argValue("--runs", args) ?? "15") ?? 15)
    let work = argValue("--workdir", args) ?? NSTemporaryDirectory() + "/flywheel-bench-image-\(getpid())"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { if !args.contains("--keep") { try? FileManager.default.removeItem(atPath: work) } }
    let imagesDir = argValue("--images", args) ?? defaultSampleImagesDir()
    let samples = try FileManager.default.contentsOfDirectory(atPath: imagesDir)
        .filter { $0.hasSuffix(".png") || $0.hasSuffix(".jpg") || $0.hasSuffix(".webp") }.sorted().map { imagesDir + "/" + $0 }
    guard samples.count >= 10 else { throw BenchError("need the sample images (found \(samples.count) in \(imagesDir)); pass --images DIR") }

    let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    var jpegs: [(name: String, path: String)] = [("4000x3000 JPEG", work + "/4000x3000.jpg")]
    if !args.contains("--no-40mp") {
        jpegs.append(("7296x5472 JPEG (40 MP)", work + "/7296x5472.jpg"))
        jpegs.append(("7296x5472 progressive JPEG", work + "/7296x5472-progressive.jpg"))
    }
    for j in jpegs {
        let size = j.path.contains("4000x3000") ? "4000x3000" : "7296x5472"
        var argv = [me, "image", "--generate", j.path, size]
        if j.path.contains("progressive") { argv.append("--progressive") }
        let t = nowNs()
        let r = try run(argv)
        guard r.status == 0 else { throw BenchError("generating \(j.path) failed: \(r.stdout)") }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: j.path)[.size] as? Int) ?? 0
        print("generated \(j.name): \(fmt(Double(bytes) / 1_048_576, 1)) MB in \(fmt(msSince(t) / 1000, 1)) s (child peak RSS \(fmt(Double(r.maxRSSKiB) / 1024)) MB)")
    }
    print("runs \(runs), \(ProcessInfo.processInfo.activeProcessorCount) CPUs; peak RSS before measuring \(fmt(peakRSSMB() ?? .nan, 1)) MB")
    print("")

    var figures: [Figure] = []
    var rssNotes: [String] = []
    func note(_ phase: String) { rssNotes.append("\(phase): peak \(fmt(peakRSSMB() ?? .nan, 1)) MB, now \(fmt(currentRSSMB() ?? .nan, 1)) MB") }

    // The queue: 1,000 distinct keys over the sample images, first view then cached view. First, while
    // this process is small, so its peak RSS is the queue's.
    var screen = ScreenBuffer(width: 160, height: 48)
    note("start")
    let queue = PreviewCache(capacity: 1024)
    var first: [Double] = [], again: [Double] = []
    var failures = 0
    for pass in 0..<2 {
        for i in 0..<1000 {
            let path = samples[i % samples.count]
            let key = "queue-\(i)"
            let t = nowNs()
            let result = queue.cachedPreview(key: key, columns: 60, rows: 20, depth: .full256)
                ?? queue.preview(path: path, key: key, columns: 60, rows: 20, depth: .full256)
            if case .success(let r) = result { screen.draw(r, at: 98, y: 2) } else { failures += 1 }
            (pass == 0 ? { first.append(msSince(t)) } : { again.append(msSince(t)) })()
        }
        note(pass == 0 ? "after the queue's first views (1,000 renders cached)" : "after the queue's cached views")
    }
    let s = queue.stats
    figures.append(Figure(name: "queue 1,000: first view 60x20 key-to-frame", stats: Stats(samples: first), unit: "ms", target: .nan))
    figures.append(Figure(name: "queue 1,000: cached view 60x20 key-to-frame", stats: Stats(samples: again), unit: "ms", target: 20))

    // First view: decode + render, no cache reuse (a fresh key each run).
    var keyCounter = 0
    for j in jpegs {
        let n = j.name.contains("40 MP") || j.name.contains("progressive") ? max(3, runs / 3) : runs
        for (cols, rows) in [(60, 20), (120, 40)] {
            let cache = PreviewCache(capacity: 4)
            var times: [Double] = []
            for _ in 0..<n {
                keyCounter += 1
                let t = nowNs()
                let r = cache.preview(path: j.path, key: "first-\(keyCounter)", columns: cols, rows: rows, depth: .full256)
                times.append(msSince(t))
                if case .failure(let e) = r { throw BenchError("\(j.name): \(e)") }
            }
            figures.append(Figure(name: "\(j.name) decode+render \(cols)x\(rows)", stats: Stats(samples: times), unit: "ms", target: .nan))
        }
        // Decode alone at the 120x40 target, and what it decoded to.
        var decodeTimes: [Double] = []
        var decoded: DecodedImage?
        for _ in 0..<n {
            let t = nowNs()
            decoded = try ImageDecoder.decode(path: j.path, targetSize: (width: 120 * 8, height: 40 * 16))
            decodeTimes.append(msSince(t))
        }
        if let d = decoded {
            figures.append(Figure(name: "  decode only (to \(d.width)x\(d.height))", stats: Stats(samples: decodeTimes), unit: "ms", target: .nan))
        }
        note("after \(j.name)")
    }

    // Render alone, per depth, from a decoded 4000x3000 (at its 120x40 target size).
    let decoded = try ImageDecoder.decode(path: jpegs[0].path, targetSize: (width: 120 * 8, height: 40 * 16))
    for depth in [PreviewDepth.full256, .basic8, .mono] {
        var times: [Double] = []
        for _ in 0..<runs {
            let t = nowNs()
            let r = ImageRenderer.render(decoded, columns: 120, rows: 40, depth: depth)
            times.append(msSince(t))
            precondition(r.cells.count == 4800)
        }
        figures.append(Figure(name: "render only 120x40 \(depth) (from \(decoded.width)x\(decoded.height))", stats: Stats(samples: times), unit: "ms", target: .nan))
    }

    // Cached lookups and key-to-frame.
    let cache = PreviewCache(capacity: 64)
    _ = cache.preview(path: jpegs[0].path, key: "big", columns: 120, rows: 40, depth: .full256)
    var lookup: [Double] = [], frame: [Double] = []
    for _ in 0..<2000 {
        let t = nowNs()
        guard case .success = cache.cachedPreview(key: "big", columns: 120, rows: 40, depth: .full256) else { throw BenchError("cache miss") }
        lookup.append(Double(nowNs() - t) / 1000)
    }
    for _ in 0..<500 {
        let t = nowNs()
        guard case .success(let r) = cache.cachedPreview(key: "big", columns: 120, rows: 40, depth: .full256) else { throw BenchError("cache miss") }
        screen.draw(r, at: 38, y: 4)
        frame.append(msSince(t))
    }
    figures.append(Figure(name: "cached lookup 120x40 (cachedPreview)", stats: Stats(samples: lookup), unit: "µs", target: .nan))
    figures.append(Figure(name: "cached key-to-frame 120x40 (lookup + draw)", stats: Stats(samples: frame), unit: "ms", target: 20))

    printFigures(figures)
    print("")
    print("queue: \(samples.count) files, 1,000 keys, \(s.decodes) decodes, \(s.hits) hits, \(failures) failures; first pass total \(fmt(first.reduce(0, +) / 1000, 2)) s")
    print("resident memory (VmHWM peak, VmRSS now):")
    for n in rssNotes { print("  " + n) }
}

/// This process's resident set now (VmRSS), in MB.
func currentRSSMB() -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return kb / 1024
}

func parseImageSize(_ s: String) -> (width: Int, height: Int)? {
    let p = s.lowercased().split(separator: "x")
    guard p.count == 2, let w = Int(p[0]), let h = Int(p[1]), w > 0, h > 0 else { return nil }
    return (w, h)
}

func defaultSampleImagesDir() -> String {
    if FileManager.default.fileExists(atPath: "sample-data/images") { return "sample-data/images" }
    // The repository this binary was built from.
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("sample-data/images").path
}

/// A photo-like test image: smooth gradients, overlapping discs and sensor-like noise, so the JPEG has
/// realistic entropy (a flat image would decode unrealistically fast). Encoded with libjpeg, quality 95.
func generateBenchJPEG(path: String, width w: Int, height h: Int, progressive: Bool) throws {
    var rgb = [UInt8](repeating: 0, count: w * h * 3)
    var rng = SplitMix64(seed: 7)
    let discs = (0..<40).map { _ in
        (x: Double(rng.next() % UInt64(w)), y: Double(rng.next() % UInt64(h)), r: Double(rng.next() % UInt64(min(w, h) / 4) + 20),
         c: (Double(rng.next() % 256), Double(rng.next() % 256), Double(rng.next() % 256)))
    }
    rgb.withUnsafeMutableBufferPointer { p in
        for y in 0..<h {
            let row = y * w * 3
            for x in 0..<w {
                // Per-channel sensor noise plus fine texture: roughly a phone photo's bits a pixel at quality 95.
                let n = rng.next()
                let texture = 18 * sin(Double(x) * 0.37) * cos(Double(y) * 0.23)
                let i = row + x * 3
                p[i] = UInt8(max(0, min(255, Double(x) / Double(w) * 200 + 30 + texture + Double(Int(n & 31) - 16))))
                p[i + 1] = UInt8(max(0, min(255, Double(y) / Double(h) * 180 + 40 + texture + Double(Int(n >> 8 & 31) - 16))))
                p[i + 2] = UInt8(max(0, min(255, 160 - Double(x + y) / Double(w + h) * 120 - texture + Double(Int(n >> 16 & 31) - 16))))
            }
            for d in discs {
                let dy = Double(y) - d.y
                guard dy * dy < d.r * d.r else { continue }
                let half = (d.r * d.r - dy * dy).squareRoot()
                let x0 = max(0, Int(d.x - half)), x1 = min(w - 1, Int(d.x + half))
                guard x0 <= x1 else { continue }
                for x in x0...x1 {
                    let i = row + x * 3
                    p[i] = UInt8(Double(p[i]) * 0.4 + d.c.0 * 0.6)
                    p[i + 1] = UInt8(Double(p[i + 1]) * 0.4 + d.c.1 * 0.6)
                    p[i + 2] = UInt8(Double(p[i + 2]) * 0.4 + d.c.2 * 0.6)
                }
            }
        }
    }
    var msg = [CChar](repeating: 0, count: 256)
    let rc = flywheel_jpeg_encode_rgb(path, rgb, Int32(w), Int32(h), 95, progressive ? 1 : 0, &msg, msg.count)
    guard rc == 0 else { throw BenchError("JPEG encode failed: \(String(cString: msg))") }
}

// flywheel-bench export: `flywheel export` over a million approved samples.
//
//   flywheel-bench export [--sizes 100000,1000000] [--workdir DIR] [--flywheel PATH] [--keep]
//
// For each size, builds a database of that many exportable samples through `Store.bulkInsertSamples` (sessions
// of four requests, mixed Chinese/English questions, one image reference per sample, 90% approved and 10%
// fixed, plus 1% duplicates of an earlier (image, question) and 1% synthetic samples that the export leaves
// out), then times the real binary: `flywheel export --format openai-chat --split 0.9` and `--format csv`.
// Prints rows/s (wall clock of the process, start-up included) and the export's peak RSS: VmHWM, which the
// export prints itself (hidden --report-peak-rss), because on Linux a child's ru_maxrss starts from its
// parent's peak at the spawn and this process has just built the database.
import FlywheelCore
import FlywheelStore
import Foundation

func exportBenchmark(_ args: [String]) throws {
    let sizes = (argValue("--sizes", args) ?? "100000,1000000").split(separator: ",").compactMap { Int($0.replacingOccurrences(of: "_", with: "")) }
    guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else { throw BenchError("--sizes needs positive numbers") }
    let exeDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    let flywheel = argValue("--flywheel", args) ?? exeDir + "/flywheel"
    guard FileManager.default.isExecutableFile(atPath: flywheel) else { throw BenchError("no flywheel binary at \(flywheel); build it or pass --flywheel") }
    let work = argValue("--workdir", args) ?? NSTemporaryDirectory() + "/flywheel-bench-export-\(getpid())"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { if !args.contains("--keep") { try? FileManager.default.removeItem(atPath: work) } }
    print("export benchmark: approved/fixed samples with an image reference each, 1% duplicates, 1% synthetic; \(ProcessInfo.processInfo.activeProcessorCount) cores")
    print("")
    print("samples    | format      | exported  | seconds | rows/s  | peak RSS | file")
    print("-----------|-------------|-----------|---------|---------|----------|---------")
    for n in sizes {
        let db = work + "/export-\(n).sqlite"
        for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + s) }
        let built = Date()
        let expected = try buildExportDatabase(path: db, samples: n)
        FileHandle.standardError.write(Data("built \(n) samples in \(fmt(Date().timeIntervalSince(built), 1)) s\n".utf8))
        for (format, extra) in [("openai-chat", ["--split", "0.9", "--seed", "1"]), ("csv", [])] {
            let out = work + "/out-\(n)." + (format == "csv" ? "csv" : "jsonl")
            let r = try run([flywheel, "export", "--json", "--report-peak-rss", "--db", db, "--format", format, "--out", out] + extra)
            guard r.status == 0, let line = r.stdout.split(separator: "\n").last,
                  let v = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let samples = v["samples"] as? Int, let peak = v["peak_rss_kib"] as? Int else {
                throw BenchError("flywheel export failed (status \(r.status)): \(r.stdout.suffix(400))")
            }
            guard samples == expected else { throw BenchError("exported \(samples), expected \(expected)") }
            let files = (v["files"] as? [String]) ?? []
            let bytes = files.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
            print("\(String(n).padding(toLength: 10, withPad: " ", startingAt: 0)) | \(format.padding(toLength: 11, withPad: " ", startingAt: 0)) | "
                  + "\(String(samples).leftPadded(to: 9)) | \(fmt(r.seconds, 2).leftPadded(to: 7)) | \(fmt(Double(samples) / r.seconds).leftPadded(to: 7)) | "
                  + "\((fmt(Double(peak) / 1024, 1) + " MB").leftPadded(to: 8)) | \(fmt(Double(bytes) / 1_048_576, 0)) MB")
            for f in files { try? FileManager.default.removeItem(atPath: f) }
        }
        if !args.contains("--keep") { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + s) } }
    }
}

/// Builds the database; returns how many samples an export should write.
func buildExportDatabase(path: String, samples n: Int) throws -> Int {
    let store = try Store.open(path: path)
    var g = Generator()
    var batch: [Store.BulkSample] = []
    batch.reserveCapacity(10_000)
    var exportable = 0
    var previousPlain = false
    let now: Int64 = 1_777_593_600_000
    for i in 0..<n {
        let zh = g.rng.next() % 100 < 55
        let session = "e\(i / 4)"
        var question = g.question(zh) + " #\(i)"
        var image = "images/e-\(i).png"
        let roll = g.rng.next() % 100
        if roll == 0 && previousPlain {
            // The same picture and question as the sample before: exported once.
            image = "images/e-\(i - 1).png"
            question = batch.last?.sample.question ?? question
        }
        let duplicate = roll == 0 && previousPlain, synthetic = roll == 1
        if !duplicate && !synthetic { exportable += 1 }
        previousPlain = !duplicate && !synthetic
        let wrong = g.answer(zh), right = g.answer(zh)
        batch.append(Store.BulkSample(
            sample: NewSample(source: g.rng.next() % 3 == 0 ? .implicitCorrection : .userCorrection, quality: g.rng.next() % 3 == 0 ? .medium : .high,
                              state: g.rng.next() % 10 == 0 ? .fixed : .approved, taskType: "vqa", question: question, wrongAnswer: wrong,
                              correctAnswer: right, category: g.rng.next() % 2 == 0 ? .numberMisread : .visualUnderstandingError,
                              sessionID: session, requestID: "\(session)-r\(i % 4)", questionTurnID: nil, answerTurnID: nil, imageID: nil,
                              evidence: nil, extraction: nil, model: "vlm-prod", promptVersion: "vqa-v1"),
            imageRef: image, synthetic: synthetic))
        if batch.count == 10_000 {
            try store.bulkInsertSamples(batch, now: now)
            batch.removeAll(keepingCapacity: true)
        }
    }
    if !batch.isEmpty { try store.bulkInsertSamples(batch, now: now) }
    return exportable
}

import FlywheelCore
import Foundation

/// A batch of lines already decoded, with their raw bytes copied into one arena.
final class DecodedBatch {
    enum Outcome {
        case event(Event)
        case bad(EventDecodingError)
    }
    struct Item {
        var outcome: Outcome
        var start: Int
        var length: Int
        var line: Int
    }
    var arena: [UInt8] = []
    var items: [Item] = []
    var lines = 0
    var blank = 0
    /// Reader offset after the batch's last line.
    var endOffset: Int64 = 0
    var isLast = false
    /// On the last batch of a followed file: bytes of an unterminated last line left unread.
    var pendingBytes: Int64 = 0
    var readError: Error?
}

/// Decoding runs on its own thread, one batch ahead of the writer: on two cores, JSON decoding overlaps
/// SQLite's inserts instead of adding to them. The queue holds at most `depth` batches, so memory stays
/// bounded by batch size, not input size.
final class DecodePipeline {
    private let reader: LineReader
    private let batchSize: Int
    private let maxLineBytes: Int
    private let depth: Int
    private var queue: [DecodedBatch] = []
    private let condition = NSCondition()
    private var cancelled = false
    private var producerDone = false
    private var thread: Thread?

    init(reader: LineReader, batchSize: Int, maxLineBytes: Int, depth: Int = 2) {
        self.reader = reader
        self.batchSize = batchSize
        self.maxLineBytes = maxLineBytes
        self.depth = depth
    }

    func start() {
        let t = Thread { [self] in produce() }
        t.stackSize = 1 << 20
        thread = t
        t.start()
    }

    /// The next decoded batch; the last one has `isLast` set.
    func next() -> DecodedBatch {
        condition.lock()
        while queue.isEmpty { condition.wait() }
        let b = queue.removeFirst()
        condition.signal()
        condition.unlock()
        return b
    }

    /// Stops the decoder early (the writer failed or was asked to stop), and waits until it has stopped
    /// reading, so the caller may close the descriptor.
    func cancel() {
        condition.lock()
        cancelled = true
        queue.removeAll()
        condition.broadcast()
        while !producerDone && thread != nil { condition.wait() }
        condition.unlock()
    }

    private func push(_ b: DecodedBatch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= depth && !cancelled { condition.wait() }
        if cancelled { return false }
        queue.append(b)
        condition.signal()
        return true
    }

    private func produce() {
        defer {
            condition.lock()
            producerDone = true
            condition.broadcast()
            condition.unlock()
        }
        var done = false
        while !done {
            let batch = DecodedBatch()
            batch.arena.reserveCapacity(batchSize * 256)
            batch.items.reserveCapacity(batchSize)
            do {
                while batch.lines < batchSize {
                    guard let next = try reader.next() else { done = true; break }
                    batch.lines += 1
                    decode(next, into: batch)
                }
            } catch {
                batch.readError = error
                done = true
            }
            batch.endOffset = reader.offset
            batch.isLast = done
            if done { batch.pendingBytes = reader.pendingBytes }
            if !push(batch) { return }
        }
    }

    private func decode(_ next: LineReader.Line, into batch: DecodedBatch) {
        let start = batch.arena.count
        switch next {
        case .tooLong(let prefix, let length):
            batch.arena.append(contentsOf: prefix)
            batch.items.append(.init(outcome: .bad(EventDecodingError(
                .tooLong, "line is \(length) bytes, over the \(maxLineBytes)-byte limit; only its first \(prefix.count) bytes are kept")),
                start: start, length: prefix.count, line: reader.lineNumber))
        case .line(let bytes):
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                batch.blank += 1
                return
            }
            batch.arena.append(contentsOf: bytes)
            let outcome: DecodedBatch.Outcome
            do {
                outcome = .event(try EventDecoder.decode(line: bytes))
            } catch {
                outcome = .bad(error)
            }
            batch.items.append(.init(outcome: outcome, start: start, length: bytes.count, line: reader.lineNumber))
        }
    }
}

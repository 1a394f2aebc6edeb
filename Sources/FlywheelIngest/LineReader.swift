import Foundation

/// Reads newline-delimited lines from a file descriptor with a fixed-size buffer, so memory stays flat
/// whatever the file size. Lines are handed out as borrowed byte ranges valid until the next call.
public final class LineReader {
    public enum Line {
        /// A complete line, without its newline (and without a trailing CR).
        case line(UnsafeRawBufferPointer)
        /// A line longer than the limit: its first bytes, and its full length. The rest is skipped.
        case tooLong(prefix: UnsafeRawBufferPointer, length: Int)
    }

    public let fd: Int32
    public let maxLineBytes: Int
    /// 1-based number of the line last returned.
    public private(set) var lineNumber = 0
    /// Bytes consumed up to and including the last returned line's newline.
    public private(set) var offset: Int64 = 0
    /// True when the last returned line ended at end of input without a newline.
    public private(set) var lastLineUnterminated = false
    /// With `completeLinesOnly`, an unterminated last line is not returned: it may still be being written.
    /// `next()` returns nil instead, its bytes are not counted in `offset`, and this says how many there were.
    public private(set) var pendingBytes: Int64 = 0
    /// Whether a line without its newline at end of input is held back (a followed file) or returned
    /// (a finished input).
    public let completeLinesOnly: Bool

    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var start = 0
    private var end = 0
    private var eof = false
    private var skipping = 0  // bytes of an over-long line skipped so far (0 = not skipping)
    private var atStart = true

    /// `startOffset` and `startLine` say where the descriptor already is (the caller seeks): offsets and
    /// line numbers count on from there. A byte order mark is looked for only at offset 0.
    public init(fd: Int32, startOffset: Int64 = 0, startLine: Int = 0, completeLinesOnly: Bool = false,
                initialBuffer: Int = 1 << 20, maxLineBytes: Int = 64 << 20) {
        self.fd = fd
        self.maxLineBytes = maxLineBytes
        self.lineNumber = startLine
        self.completeLinesOnly = completeLinesOnly
        self.capacity = max(1, min(initialBuffer, maxLineBytes))
        self.buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        self.offset = startOffset
        self.atStart = startOffset == 0
    }

    deinit {
        buffer.deallocate()
        heldPrefix?.deallocate()
    }

    /// The next line, or nil at end of input. Throws when reading fails.
    public func next() throws -> Line? {
        while true {
            if end > start, let nl = memchr(buffer + start, 0x0A, end - start) {
                let nlIndex = buffer.distance(to: nl)
                let lineStart = start
                let length = nlIndex - start
                start = nlIndex + 1
                offset += Int64(length + 1)
                if skipping > 0 {
                    let total = skipping + length
                    skipping = 0
                    return .tooLong(prefix: UnsafeRawBufferPointer(start: heldPrefix, count: heldPrefixCount), length: total)
                }
                lineNumber += 1
                lastLineUnterminated = false
                return .line(trim(lineStart, length))
            }
            if eof {
                guard end > start || skipping > 0 else { return nil }
                if completeLinesOnly {
                    // Leave the partial line for a later reader: un-count what an over-long one skipped.
                    pendingBytes = Int64(skipping + end - start)
                    if skipping > 0 {
                        offset -= Int64(skipping)
                        lineNumber -= 1
                        skipping = 0
                    }
                    start = end
                    return nil
                }
                let lineStart = start
                let length = end - start
                start = end
                offset += Int64(length)
                lastLineUnterminated = true
                if skipping > 0 {
                    let total = skipping + length
                    skipping = 0
                    return .tooLong(prefix: UnsafeRawBufferPointer(start: heldPrefix, count: heldPrefixCount), length: total)
                }
                lineNumber += 1
                return .line(trim(lineStart, length))
            }
            try fill()
        }
    }

    // The first bytes of an over-long line, kept so the quarantine can show what it was.
    private var heldPrefix: UnsafeMutableRawPointer?
    private var heldPrefixCount = 0
    private static let prefixKept = 64 << 10

    private func fill() throws {
        if start > 0 {
            // Move the partial line to the front.
            if end > start { memmove(buffer, buffer + start, end - start) }
            end -= start
            start = 0
        }
        // Called only when [start, end) holds no newline: a partial line.
        if skipping > 0 || end >= maxLineBytes {
            // Over-long line: keep a prefix once, drop the rest until its newline.
            if skipping == 0 {
                lineNumber += 1
                heldPrefix?.deallocate()
                heldPrefixCount = min(Self.prefixKept, end)
                heldPrefix = UnsafeMutableRawPointer.allocate(byteCount: heldPrefixCount, alignment: 1)
                heldPrefix!.copyMemory(from: buffer, byteCount: heldPrefixCount)
            }
            skipping += end
            offset += Int64(end)
            end = 0
        } else if end == capacity {
            let newCapacity = min(capacity * 2, maxLineBytes)
            let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
            grown.copyMemory(from: buffer, byteCount: end)
            buffer.deallocate()
            buffer = grown
            capacity = newCapacity
        }
        let n = read(fd, buffer + end, capacity - end)
        if n < 0 {
            if errno == EINTR { return }
            throw LineReaderError.readFailed(errno: errno)
        }
        if n == 0 { eof = true } else { end += n }
        if atStart && end >= 3 {
            // A UTF-8 byte order mark at the start of the input is not part of the first event.
            let p = buffer.assumingMemoryBound(to: UInt8.self)
            if p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF { start = 3; offset += 3 }
            atStart = false
        } else if atStart && eof {
            atStart = false
        }
    }

    private func trim(_ s: Int, _ length: Int) -> UnsafeRawBufferPointer {
        var n = length
        if n > 0 && buffer.load(fromByteOffset: s + n - 1, as: UInt8.self) == 0x0D { n -= 1 }
        return UnsafeRawBufferPointer(start: buffer + s, count: n)
    }
}

public enum LineReaderError: Error, CustomStringConvertible {
    case readFailed(errno: Int32)
    public var description: String {
        switch self {
        case .readFailed(let e): return "read failed: \(String(cString: strerror(e)))"
        }
    }
}

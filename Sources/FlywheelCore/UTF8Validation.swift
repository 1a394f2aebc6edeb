/// Strict UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
/// Returns the byte offset of the first invalid sequence, or nil when the bytes are valid.
public func firstInvalidUTF8Offset(_ bytes: UnsafeRawBufferPointer) -> Int? {
    guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
    let n = bytes.count
    var i = 0
    while i < n {
        // ASCII fast path, eight bytes at a time.
        while i + 8 <= n {
            let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            if word & 0x8080_8080_8080_8080 != 0 { break }
            i += 8
        }
        if i >= n { break }
        let c = base[i]
        if c < 0x80 { i += 1; continue }
        @inline(__always) func cont(_ k: Int) -> Bool { i + k < n && base[i + k] & 0xC0 == 0x80 }
        switch c {
        case 0xC2...0xDF:
            guard cont(1) else { return i }
            i += 2
        case 0xE0...0xEF:
            guard cont(1), cont(2) else { return i }
            let c1 = base[i + 1]
            if c == 0xE0 && c1 < 0xA0 { return i }  // overlong
            if c == 0xED && c1 > 0x9F { return i }  // surrogate
            i += 3
        case 0xF0...0xF4:
            guard cont(1), cont(2), cont(3) else { return i }
            let c1 = base[i + 1]
            if c == 0xF0 && c1 < 0x90 { return i }  // overlong
            if c == 0xF4 && c1 > 0x8F { return i }  // above U+10FFFF
            i += 4
        default:
            return i
        }
    }
    return nil
}

/// ImagePreview: images as console cells. Decodes PNG, JPEG and WebP with Debian's libraries (CPNG, CJPEG,
/// CWebP), renders them with libchafa (CChafa) into TerminalKit cells, and caches renders per image and
/// pane size. Nothing here touches ncurses: a preview is ordinary cells in a `ScreenBuffer`, so it diffs,
/// resizes and shows up in headless snapshots like any other text.
///
/// Decoding never crashes or stalls on bad input: a missing file, a FIFO, a text file named .png, a
/// truncated or forged image all come back as an `ImageDecodeError` whose `description` is one line for the
/// preview pane. Dimensions are read from the header before any pixel memory is allocated; JPEGs decode
/// at a reduced scale (libjpeg's scale_num/8) so a 40-megapixel photo costs what a small preview needs.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
internal import CJPEG
internal import CPNG
internal import CWebP

/// Decoded pixels: 8-bit RGBA, not premultiplied, rows packed (`rgba.count == width * height * 4`).
/// `width`/`height` are what was decoded (a JPEG may be decoded at 1/2, 1/4 or 1/8 scale);
/// `sourceWidth`/`sourceHeight` are the image's own size, both after EXIF orientation is applied.
public struct DecodedImage: Sendable {
    public let width: Int
    public let height: Int
    public let rgba: [UInt8]
    /// "png", "jpeg" or "webp".
    public let format: String
    public let sourceWidth: Int
    public let sourceHeight: Int

    public init(width: Int, height: Int, rgba: [UInt8], format: String, sourceWidth: Int, sourceHeight: Int) {
        precondition(width > 0 && height > 0 && rgba.count == width * height * 4, "rgba must hold width * height * 4 bytes")
        self.width = width
        self.height = height
        self.rgba = rgba
        self.format = format
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
    }
}

/// Why an image cannot be previewed. `description` is one line for the preview pane.
public enum ImageDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No such file, or it cannot be opened. The payload is the path (plus the reason when it is not ENOENT).
    case missing(String)
    /// The content is no image at all: "empty file", "text", "an HTML page", "a directory", ...
    case notAnImage(String)
    /// A real image format this build does not decode: "GIF", "BMP", "TIFF", "HEIF", "SVG", "animated WebP".
    case unsupported(String)
    /// The format was recognised but the data is damaged: "truncated JPEG (premature end of data)", ...
    case corrupt(String)
    /// Too many pixels to decode even at the smallest scale the format allows (source dimensions).
    case tooLarge(width: Int, height: Int)

    public var description: String {
        switch self {
        case .missing(let s): return "Image not found: \(s)"
        case .notAnImage(let s): return "Not an image: \(s)"
        case .unsupported(let s): return "Unsupported image format: \(s)"
        case .corrupt(let s): return "Damaged image: \(s)"
        case .tooLarge(let w, let h): return "Image too large to preview: \(w)×\(h) pixels"
        }
    }
}

public enum ImageDecoder {
    /// libjpeg's own working memory cap (progressive JPEGs keep every coefficient of the full-size image:
    /// about 3 bytes a pixel, so ~50 megapixels fit). Above it the decode fails as `.tooLarge`.
    static let jpegMaxMemory = 160 << 20
    /// WebP is decoded from memory: files larger than this are refused before reading.
    static let webpMaxFileBytes = 128 << 20
    /// Images with more source pixels than this are refused from the header whatever the output size:
    /// even a scaled decode reads every pixel, and a forged or bomb-like header must not cost seconds.
    static let maxSourcePixels = 120_000_000

    /// Decodes the image at `path`, recognised by its first bytes (never by its extension).
    /// - maxPixels: the most pixels the result may have. Larger images are decoded scaled down (JPEG at
    ///   n/8 through libjpeg, PNG row by row with a box filter, WebP through libwebp's scaler), never
    ///   allocated at full size. Above `maxSourcePixels` (120 MP), or a JPEG still too big at 1/8:
    ///   `.tooLarge`.
    /// - targetSize: the pixel size the caller needs (e.g. a preview pane's cells × 8×16). JPEG and WebP
    ///   decode at the smallest scale that still covers the aspect-fitted target, never smaller; PNG
    ///   decodes at full size when that fits `maxPixels`.
    public static func decode(path: String, maxPixels: Int = 4_000_000, targetSize: (width: Int, height: Int)? = nil) throws(ImageDecodeError) -> DecodedImage {
        let fd = try openRegularFile(path)
        defer { close(fd) }
        let head = try readHead(fd: fd, count: 512)
        switch Sniff.kind(of: head) {
        case .png: return try decodePNG(fd: fd, maxPixels: maxPixels, targetSize: targetSize)
        case .jpeg: return try decodeJPEG(fd: fd, maxPixels: maxPixels, targetSize: targetSize)
        case .webp: return try decodeWebP(fd: fd, head: head, maxPixels: maxPixels, targetSize: targetSize)
        case .unsupported(let name): throw .unsupported(name)
        case .notAnImage(let reason): throw .notAnImage(reason)
        }
    }

    // MARK: - File access

    /// Opens `path` once for every later read. O_NONBLOCK: opening a FIFO must not wait for a writer;
    /// then only a regular file is accepted (a FIFO or device would block a reader forever). The
    /// decoders read this descriptor, so the file checked is the file decoded.
    static func openRegularFile(_ path: String) throws(ImageDecodeError) -> Int32 {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            if e == ENOENT || e == ENOTDIR || e == ENAMETOOLONG { throw .missing(path) }
            throw .missing("\(path) (\(String(cString: strerror(e))))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else { close(fd); throw .missing(path) }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return fd
        case S_IFDIR: close(fd); throw .notAnImage("a directory")
        default: close(fd); throw .notAnImage("not a regular file")
        }
    }

    /// Up to `count` bytes from offset `offset` (pread: the descriptor's offset is left alone).
    static func read(fd: Int32, offset: Int, count: Int) throws(ImageDecodeError) -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, count - got, off_t(offset + got)) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .corrupt("read error: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            got += n
        }
        return got == count ? buf : Array(buf[0..<got])
    }

    static func readHead(fd: Int32, count: Int) throws(ImageDecodeError) -> [UInt8] {
        try read(fd: fd, offset: 0, count: count)
    }

    static func readAll(fd: Int32, limit: Int) throws(ImageDecodeError) -> [UInt8] {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .corrupt("cannot stat the file") }
        let size = Int(st.st_size)
        guard size <= limit else { throw .corrupt("file too big (\(size >> 20) MB)") }
        return try read(fd: fd, offset: 0, count: size)
    }

    // MARK: - Scale choice

    /// The fraction of the source size needed to cover `target` with the image fitted inside it (≤ 1).
    static func neededFraction(width: Int, height: Int, target: (width: Int, height: Int)?) -> Double {
        guard let t = target, t.width > 0, t.height > 0, width > 0, height > 0 else { return 1 }
        return min(1, min(Double(t.width) / Double(width), Double(t.height) / Double(height)))
    }

    // MARK: - PNG

    static func decodePNG(fd: Int32, maxPixels: Int, targetSize: (width: Int, height: Int)?) throws(ImageDecodeError) -> DecodedImage {
        var w: UInt32 = 0, h: UInt32 = 0
        var msg = [CChar](repeating: 0, count: 256)
        let probe = flywheel_png_probe_fd(fd, &w, &h, &msg, msg.count)
        guard probe == Int32(FLYWHEEL_PNG_OK) else {
            throw probe == Int32(FLYWHEEL_PNG_ERR_IO) ? .corrupt("cannot read: \(cMessage(msg))") : .corrupt("PNG header: \(cMessage(msg))")
        }
        let width = Int(w), height = Int(h)
        guard width > 0, height > 0, width * height <= maxSourcePixels else { throw .tooLarge(width: width, height: height) }
        var outW = width, outH = height
        if width * height > maxPixels {
            // Scaled row-by-row decode: at least the target's fitted size, at most maxPixels.
            var scale = (Double(maxPixels) / Double(width * height)).squareRoot()
            scale = min(scale, max(neededFraction(width: width, height: height, target: targetSize), 0))
            outW = max(1, min(width, Int(Double(width) * scale)))
            outH = max(1, min(height, Int(Double(height) * scale)))
            while outW * outH > maxPixels { if outW >= outH { outW -= 1 } else { outH -= 1 } }
        }
        let capacity = outW * outH * 4
        var rc: Int32 = 0
        let rgba = [UInt8](unsafeUninitializedCapacity: capacity) { buf, initialized in
            if outW == width && outH == height {
                rc = flywheel_png_decode_fd(fd, w, h, buf.baseAddress, capacity, &msg, msg.count)
            } else {
                rc = flywheel_png_decode_scaled_fd(fd, UInt32(outW), UInt32(outH), buf.baseAddress, capacity, &msg, msg.count)
            }
            initialized = rc == Int32(FLYWHEEL_PNG_OK) ? capacity : 0
        }
        guard rc == Int32(FLYWHEEL_PNG_OK) else {
            let m = cMessage(msg)
            if rc == Int32(FLYWHEEL_PNG_ERR_CHANGED) { throw .corrupt("PNG changed while reading") }
            // libpng says "Read Error" / "Not enough image data" / "IDAT: ..." for a cut-off file.
            let lower = m.lowercased()
            if lower.contains("read error") || lower.contains("not enough") || lower.contains("eof") || lower.contains("end of") {
                throw .corrupt("truncated PNG (\(m))")
            }
            throw .corrupt("PNG data: \(m)")
        }
        return DecodedImage(width: outW, height: outH, rgba: rgba, format: "png", sourceWidth: width, sourceHeight: height)
    }

    // MARK: - JPEG

    static func decodeJPEG(fd: Int32, maxPixels: Int, targetSize: (width: Int, height: Int)?, maxMemory: Int = jpegMaxMemory) throws(ImageDecodeError) -> DecodedImage {
        var info = flywheel_jpeg_info()
        var msg = [CChar](repeating: 0, count: 256)
        let probe = flywheel_jpeg_probe_fd(fd, &info, &msg, msg.count)
        guard probe == Int32(FLYWHEEL_JPEG_OK) else { throw jpegError(probe, cMessage(msg)) }
        let w = Int(info.width), h = Int(info.height)
        let swaps = info.orientation >= 5
        let (shownW, shownH) = swaps ? (h, w) : (w, h)
        guard w * h <= maxSourcePixels else { throw .tooLarge(width: shownW, height: shownH) }
        let need = neededFraction(width: shownW, height: shownH, target: targetSize)
        // Smallest n/8 covering the need, then the largest that fits maxPixels if that is smaller.
        var num = (1...8).first { Double($0) / 8 >= need - 1e-9 } ?? 8
        func pixels(_ n: Int) -> Int { var ow: Int32 = 0, oh: Int32 = 0; flywheel_jpeg_scaled_size(info.width, info.height, Int32(n), &ow, &oh); return Int(ow) * Int(oh) }
        while num > 1 && pixels(num) > maxPixels { num -= 1 }
        guard pixels(num) <= maxPixels else { throw .tooLarge(width: shownW, height: shownH) }
        var ow: Int32 = 0, oh: Int32 = 0
        flywheel_jpeg_scaled_size(info.width, info.height, Int32(num), &ow, &oh)
        let capacity = Int(ow) * Int(oh) * 4
        var rc: Int32 = 0
        var gotW: Int32 = 0, gotH: Int32 = 0
        let rgba = [UInt8](unsafeUninitializedCapacity: capacity) { buf, initialized in
            rc = flywheel_jpeg_decode_fd(fd, Int32(num), buf.baseAddress, capacity, &gotW, &gotH, maxMemory, &msg, msg.count)
            initialized = rc == Int32(FLYWHEEL_JPEG_OK) ? Int(gotW) * Int(gotH) * 4 : 0
        }
        guard rc == Int32(FLYWHEEL_JPEG_OK) else {
            if rc == Int32(FLYWHEEL_JPEG_ERR_MEMORY) { throw .tooLarge(width: shownW, height: shownH) }
            throw jpegError(rc, cMessage(msg))
        }
        let oriented = Orientation.apply(Int(info.orientation), rgba: rgba, width: Int(gotW), height: Int(gotH))
        return DecodedImage(width: oriented.width, height: oriented.height, rgba: oriented.rgba, format: "jpeg",
                            sourceWidth: shownW, sourceHeight: shownH)
    }

    static func jpegError(_ code: Int32, _ message: String) -> ImageDecodeError {
        switch code {
        case Int32(FLYWHEEL_JPEG_ERR_OPEN): return .corrupt("cannot read: \(message)")
        case Int32(FLYWHEEL_JPEG_ERR_TRUNCATED): return .corrupt("truncated JPEG (premature end of data)")
        default: return .corrupt("JPEG: \(message)")
        }
    }

    // MARK: - WebP

    static func decodeWebP(fd: Int32, head: [UInt8], maxPixels: Int, targetSize: (width: Int, height: Int)?) throws(ImageDecodeError) -> DecodedImage {
        var w: Int32 = 0, h: Int32 = 0, animated: Int32 = 0, alpha: Int32 = 0
        let probe = flywheel_webp_probe(head, head.count, &w, &h, &animated, &alpha)
        guard probe == Int32(VP8_STATUS_OK.rawValue) else {
            throw probe == Int32(VP8_STATUS_NOT_ENOUGH_DATA.rawValue) ? .corrupt("truncated WebP header") : .corrupt("WebP header: \(webpStatus(probe))")
        }
        if animated != 0 { throw .unsupported("animated WebP") }
        let width = Int(w), height = Int(h)
        guard width > 0, height > 0 else { throw .corrupt("WebP header: zero size") }
        guard width * height <= maxSourcePixels else { throw .tooLarge(width: width, height: height) }
        var scale = neededFraction(width: width, height: height, target: targetSize)
        let full = Double(width) * Double(height)
        if full * scale * scale > Double(maxPixels) { scale = (Double(maxPixels) / full).squareRoot() }
        let ow = max(1, min(width, Int((Double(width) * scale).rounded(.up))))
        var oh = max(1, min(height, Int((Double(height) * scale).rounded(.up))))
        while ow * oh > maxPixels && oh > 1 { oh -= 1 }
        guard ow * oh <= maxPixels else { throw .tooLarge(width: width, height: height) }
        let data = try readAll(fd: fd, limit: webpMaxFileBytes)
        let capacity = ow * oh * 4
        var rc: Int32 = 0
        let rgba = [UInt8](unsafeUninitializedCapacity: capacity) { buf, initialized in
            rc = flywheel_webp_decode(data, data.count, Int32(ow), Int32(oh), buf.baseAddress, capacity)
            initialized = rc == Int32(VP8_STATUS_OK.rawValue) ? capacity : 0
        }
        guard rc == Int32(VP8_STATUS_OK.rawValue) else {
            if rc == Int32(VP8_STATUS_NOT_ENOUGH_DATA.rawValue) { throw .corrupt("truncated WebP") }
            if rc == Int32(VP8_STATUS_UNSUPPORTED_FEATURE.rawValue) { throw .unsupported("WebP feature") }
            throw .corrupt("WebP: \(webpStatus(rc))")
        }
        return DecodedImage(width: ow, height: oh, rgba: rgba, format: "webp", sourceWidth: width, sourceHeight: height)
    }

    static func webpStatus(_ code: Int32) -> String {
        switch code {
        case Int32(VP8_STATUS_OUT_OF_MEMORY.rawValue): return "out of memory"
        case Int32(VP8_STATUS_INVALID_PARAM.rawValue): return "invalid parameter"
        case Int32(VP8_STATUS_BITSTREAM_ERROR.rawValue): return "bitstream error"
        case Int32(VP8_STATUS_UNSUPPORTED_FEATURE.rawValue): return "unsupported feature"
        case Int32(VP8_STATUS_NOT_ENOUGH_DATA.rawValue): return "not enough data"
        default: return "status \(code)"
        }
    }

    static func cMessage(_ buf: [CChar]) -> String {
        let s = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return s.isEmpty ? "unknown error" : s
    }
}

// MARK: - Format sniffing

enum Sniff {
    enum Kind: Equatable { case png, jpeg, webp, unsupported(String), notAnImage(String) }

    static func kind(of h: [UInt8]) -> Kind {
        if h.isEmpty { return .notAnImage("empty file") }
        func starts(_ bytes: [UInt8], at offset: Int = 0) -> Bool {
            h.count >= offset + bytes.count && Array(h[offset..<offset + bytes.count]) == bytes
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .unsupported("GIF") }
        if starts(Array("BM".utf8)) && h.count >= 26 { return .unsupported("BMP") }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .unsupported("TIFF") }
        if starts(Array("ftyp".utf8), at: 4), h.count >= 12 {
            let brand = String(decoding: h[8..<12], as: UTF8.self)
            if brand.hasPrefix("avi") { return .unsupported("AVIF") }
            if ["heic", "heix", "hevc", "heim", "heis", "mif1", "msf1"].contains(brand) { return .unsupported("HEIF") }
            return .notAnImage("a video or other ISO media file")
        }
        if starts([0x00, 0x00, 0x01, 0x00]) && h.count >= 6 { return .unsupported("ICO") }
        if starts([0x25, 0x50, 0x44, 0x46]) { return .notAnImage("a PDF document") }
        // Text: no NUL and (nearly) all printable ASCII, whitespace or UTF-8 bytes.
        let printable = h.filter { $0 == 9 || $0 == 10 || $0 == 13 || ($0 >= 0x20 && $0 != 0x7F) }.count
        if !h.contains(0) && printable * 100 >= h.count * 95 {
            let text = String(decoding: h, as: UTF8.self).lowercased()
            let trimmed = text.drop { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == "\u{FEFF}" }
            if text.contains("<svg") { return .unsupported("SVG") }
            if trimmed.hasPrefix("<!doctype html") || trimmed.hasPrefix("<html") || text.contains("<head>") { return .notAnImage("an HTML page") }
            return .notAnImage("text")
        }
        return .notAnImage("unrecognised content")
    }
}

// MARK: - EXIF orientation

enum Orientation {
    /// Rotates/flips decoded pixels so they appear as EXIF orientation `o` (1-8) says they should.
    static func apply(_ o: Int, rgba: [UInt8], width w: Int, height h: Int) -> (rgba: [UInt8], width: Int, height: Int) {
        guard o >= 2 && o <= 8 else { return (rgba, w, h) }
        let swaps = o >= 5
        let nw = swaps ? h : w, nh = swaps ? w : h
        var out = [UInt8](repeating: 0, count: rgba.count)
        rgba.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                let s = src.bindMemory(to: UInt32.self), d = dst.bindMemory(to: UInt32.self)
                for y in 0..<nh {
                    for x in 0..<nw {
                        // (x, y) in the shown image -> (sx, sy) in the stored one.
                        let (sx, sy): (Int, Int)
                        switch o {
                        case 2: (sx, sy) = (w - 1 - x, y)
                        case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
                        case 4: (sx, sy) = (x, h - 1 - y)
                        case 5: (sx, sy) = (y, x)
                        case 6: (sx, sy) = (y, h - 1 - x)
                        case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
                        default: (sx, sy) = (w - 1 - y, x)  // 8
                        }
                        d[y * nw + x] = s[sy * w + sx]
                    }
                }
            }
        }
        return (out, nw, nh)
    }
}

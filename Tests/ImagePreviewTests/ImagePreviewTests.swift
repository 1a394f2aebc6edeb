import CJPEG
import Foundation
import FlywheelTestSupport
import Testing
@testable import ImagePreview
import TerminalKit

// MARK: - Helpers

enum Paths {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let repo = testsDir.deletingLastPathComponent().deletingLastPathComponent()
    static func sample(_ name: String) -> String { repo.appendingPathComponent("sample-data/images/\(name)").path }
    static func fixture(_ name: String) -> String { testsDir.appendingPathComponent("Fixtures/\(name)").path }
}

/// A fresh temporary directory per test.
final class TempDir {
    let url: URL
    init() throws {
        url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("imagepreview-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = url.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }
}

func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

func decodeError(_ path: String, maxPixels: Int = 4_000_000) -> ImageDecodeError? {
    do throws(ImageDecodeError) {
        _ = try ImageDecoder.decode(path: path, maxPixels: maxPixels)
        return nil
    } catch {
        return error
    }
}

func pixel(_ img: DecodedImage, _ x: Int, _ y: Int) -> (r: Int, g: Int, b: Int, a: Int) {
    let i = (y * img.width + x) * 4
    return (Int(img.rgba[i]), Int(img.rgba[i + 1]), Int(img.rgba[i + 2]), Int(img.rgba[i + 3]))
}

/// The RGB an xterm palette index stands for (16-231 cube, 232-255 grey ramp, 0-15 xterm defaults).
func xtermRGB(_ i: UInt8) -> (r: Int, g: Int, b: Int) {
    let basic: [(Int, Int, Int)] = [(0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
                                    (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255)]
    if i < 16 { return basic[Int(i)] }
    if i >= 232 { let v = 8 + 10 * Int(i - 232); return (v, v, v) }
    let levels = [0, 95, 135, 175, 215, 255], c = Int(i) - 16
    return (levels[c / 36], levels[(c / 6) % 6], levels[c % 6])
}

/// The colour a cell shows most of: the background for a space, the foreground for a full block.
func visibleColor(_ cell: Cell) -> Color {
    cell.text == " " ? cell.style.bg : cell.text == "█" ? cell.style.fg : cell.style.bg
}

/// Whole-render text snapshots in Snapshots/. Record after a deliberate change with
/// FLYWHEEL_RECORD_SNAPSHOTS=1 swift test --filter ImagePreviewTests, then review the diff.
func assertSnapshot(_ render: ImagePreviewRender, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    try assertSnapshot(render.lines.joined(separator: "\n"), named: name, sourceLocation: sourceLocation)
}

/// One character a cell: the basic colour (0-7) the cell mostly shows, "." for the default colour, or
/// for mono "r" where the cell is in reverse video.
func styleMap(_ r: ImagePreviewRender) -> String {
    (0..<r.rows).map { y in
        String((0..<r.columns).map { x -> Character in
            let cell = r[x, y]
            if cell.style.attributes.contains(.reverse) { return "r" }
            if case .indexed(let i) = visibleColor(cell), i < 8 { return Character(String(i)) }
            return "."
        })
    }.joined(separator: "\n")
}

func assertSnapshot(_ text: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    try assertTextSnapshot(text, named: name, in: Paths.testsDir.appendingPathComponent("Snapshots"), what: "render", sourceLocation: sourceLocation)
}

/// CRC-32 (IEEE) for forging PNG chunks.
func crc32(_ data: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in data {
        c ^= UInt32(b)
        for _ in 0..<8 { c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1))) }
    }
    return ~c
}

func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let t = Array(type.utf8)
    return be32(UInt32(data.count)) + t + data + be32(crc32(t + data))
}

/// A PNG signature and IHDR claiming `w × h` (RGB, 8 bit) followed by a tiny IDAT and IEND.
func forgedPNG(width w: UInt32, height h: UInt32) -> [UInt8] {
    let ihdr = be32(w) + be32(h) + [8, 2, 0, 0, 0]
    return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + pngChunk("IHDR", ihdr)
        + pngChunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + pngChunk("IEND", [])
}

/// A copy of a baseline JPEG whose SOF0 header claims `w × h`.
func forgedJPEG(from jpeg: [UInt8], width w: Int, height h: Int) -> [UInt8] {
    var b = jpeg
    var i = 2
    while i + 9 < b.count {
        guard b[i] == 0xFF else { break }
        let marker = b[i + 1], len = Int(b[i + 2]) << 8 | Int(b[i + 3])
        if marker == 0xC0 || marker == 0xC2 {
            b[i + 5] = UInt8(h >> 8); b[i + 6] = UInt8(h & 0xFF)
            b[i + 7] = UInt8(w >> 8); b[i + 8] = UInt8(w & 0xFF)
            return b
        }
        i += 2 + len
    }
    return b
}

/// A copy of a JPEG with an EXIF APP1 segment (big-endian TIFF) carrying `orientation`, right after SOI.
func withOrientation(_ jpeg: [UInt8], _ orientation: UInt8) -> [UInt8] {
    let tiff: [UInt8] = Array("MM".utf8) + [0, 42] + be32(8) + [0, 1] + [0x01, 0x12, 0, 3] + be32(1) + [0, orientation, 0, 0] + be32(0)
    let payload = Array("Exif".utf8) + [0, 0] + tiff
    let len = payload.count + 2
    return [0xFF, 0xD8, 0xFF, 0xE1, UInt8(len >> 8), UInt8(len & 0xFF)] + payload + Array(jpeg[2...])
}

// MARK: - Decoding

@Suite struct DecodeTests {
    @Test func decodesSamplePNG() throws {
        let img = try ImageDecoder.decode(path: Paths.sample("shape-0001.png"))
        #expect(img.format == "png")
        #expect(img.width == 160 && img.height == 120)
        #expect(img.sourceWidth == 160 && img.sourceHeight == 120)
        #expect(img.rgba.count == 160 * 120 * 4)
        let c = pixel(img, 80, 60)  // inside the red circle
        #expect(c.r > 180 && c.g < 90 && c.b < 90 && c.a == 255)
        let corner = pixel(img, 2, 2)  // off-white background
        #expect(corner.r > 230 && corner.g > 230 && corner.b > 230)
    }

    @Test func decodesJPEGCloseToItsSourcePNG() throws {
        let jpeg = try ImageDecoder.decode(path: Paths.fixture("street-0001.jpg"))
        let png = try ImageDecoder.decode(path: Paths.sample("street-0001.png"))
        #expect(jpeg.format == "jpeg")
        #expect(jpeg.width == 320 && jpeg.height == 200 && jpeg.sourceWidth == 320)
        #expect(jpeg.rgba.count == png.rgba.count)
        var total = 0
        for i in stride(from: 0, to: png.rgba.count, by: 4) {
            for k in 0..<3 { total += abs(Int(png.rgba[i + k]) - Int(jpeg.rgba[i + k])) }
            #expect(jpeg.rgba[i + 3] == 255)
        }
        let mean = Double(total) / Double(png.rgba.count / 4 * 3)
        #expect(mean < 8, "mean channel difference \(mean)")
    }

    @Test func jpegDecodesAtReducedScaleForASmallTarget() throws {
        let small = try ImageDecoder.decode(path: Paths.fixture("street-0001.jpg"), targetSize: (width: 40, height: 40))
        #expect(small.width == 40 && small.height == 25)  // 1/8 covers a 40-wide fit
        #expect(small.sourceWidth == 320 && small.sourceHeight == 200)
        let half = try ImageDecoder.decode(path: Paths.fixture("street-0001.jpg"), targetSize: (width: 150, height: 1000))
        #expect(half.width == 160 && half.height == 100)  // 150/320 needs 4/8
        let capped = try ImageDecoder.decode(path: Paths.fixture("street-0001.jpg"), maxPixels: 20_000)
        #expect(capped.width == 160 && capped.height == 100)  // 5/8 would be 200x125 = 25,000 pixels
    }

    @Test func decodesGreyscaleProgressiveJPEG() throws {
        let img = try ImageDecoder.decode(path: Paths.fixture("shape-0001-gray-progressive.jpg"))
        #expect(img.width == 160 && img.height == 120)
        let c = pixel(img, 80, 60)
        #expect(c.r == c.g && c.g == c.b && c.a == 255)
    }

    /// Mean absolute channel difference between `img` and a box-filtered `reference` of its source size.
    static func meanDifference(_ img: DecodedImage, _ reference: DecodedImage) -> Double {
        var total = 0, n = 0
        for y in 0..<img.height {
            for x in 0..<img.width {
                let x0 = x * reference.width / img.width, x1 = max(x0 + 1, (x + 1) * reference.width / img.width)
                let y0 = y * reference.height / img.height, y1 = max(y0 + 1, (y + 1) * reference.height / img.height)
                for c in 0..<4 {
                    var sum = 0
                    for yy in y0..<y1 { for xx in x0..<x1 { sum += Int(reference.rgba[(yy * reference.width + xx) * 4 + c]) } }
                    total += abs(Int(img.rgba[(y * img.width + x) * 4 + c]) - sum / ((x1 - x0) * (y1 - y0)))
                    n += 1
                }
            }
        }
        return Double(total) / Double(n)
    }

    @Test func pngAboveMaxPixelsDecodesScaledRowByRow() throws {
        let full = try ImageDecoder.decode(path: Paths.sample("street-0004.png"))  // 320x200
        let small = try ImageDecoder.decode(path: Paths.sample("street-0004.png"), maxPixels: 10_000)
        #expect(small.width * small.height <= 10_000)
        #expect(small.width == 126 && small.height == 79)
        #expect(small.sourceWidth == 320 && small.sourceHeight == 200)
        #expect(Self.meanDifference(small, full) < 4, "\(Self.meanDifference(small, full))")
        // With a target smaller than maxPixels allows: the target's fitted size.
        let target = try ImageDecoder.decode(path: Paths.sample("street-0004.png"), maxPixels: 10_000, targetSize: (width: 64, height: 64))
        #expect(target.width == 64 && target.height == 40)
    }

    @Test(arguments: ["shape-0003-interlaced.png", "shape-0003-palette.png", "shape-0003-gray16.png"])
    func pngVariantsDecodeFullAndScaled(name: String) throws {
        let reference = try ImageDecoder.decode(path: Paths.sample("shape-0003.png"))
        let full = try ImageDecoder.decode(path: Paths.fixture(name))
        #expect(full.width == 160 && full.height == 120)
        let scaled = try ImageDecoder.decode(path: Paths.fixture(name), maxPixels: 4_800)
        #expect(scaled.width == 80 && scaled.height == 60)
        if name.contains("gray16") {
            // Grey, and the background grey is transparent (tRNS) on both paths.
            #expect(pixel(full, 1, 1).a == 0 && pixel(scaled, 1, 1).a == 0)
            let c = pixel(full, 80, 70)
            #expect(c.r == c.g && c.g == c.b && c.a == 255)
        } else {
            #expect(full.rgba == reference.rgba)
            #expect(Self.meanDifference(scaled, reference) < (name.contains("interlaced") ? 8 : 3), "\(Self.meanDifference(scaled, reference))")
        }
    }

    @Test func decodesWebP() throws {
        let img = try ImageDecoder.decode(path: Paths.fixture("sign-0001.webp"))
        #expect(img.format == "webp")
        #expect(img.width == 260 && img.height == 140)
        let png = try ImageDecoder.decode(path: Paths.sample("sign-0001.png"))
        var total = 0
        for i in stride(from: 0, to: png.rgba.count, by: 4) { for k in 0..<3 { total += abs(Int(png.rgba[i + k]) - Int(img.rgba[i + k])) } }
        #expect(Double(total) / Double(png.rgba.count / 4 * 3) < 12)
        let scaled = try ImageDecoder.decode(path: Paths.fixture("sign-0001.webp"), targetSize: (width: 65, height: 100))
        #expect(scaled.width == 65 && scaled.height == 35 && scaled.sourceWidth == 260)
    }

    @Test func sniffsByContentNotExtension() throws {
        let tmp = try TempDir()
        let png = try tmp.write("photo.jpg", try bytes(Paths.sample("shape-0002.png")))
        #expect(try ImageDecoder.decode(path: png).format == "png")
        let jpeg = try tmp.write("scan.png", try bytes(Paths.fixture("street-0001.jpg")))
        #expect(try ImageDecoder.decode(path: jpeg).format == "jpeg")
    }

    @Test(arguments: [(UInt8(3), false), (UInt8(6), true), (UInt8(8), true), (UInt8(2), false)])
    func appliesEXIFOrientation(orientation: UInt8, swaps: Bool) throws {
        let tmp = try TempDir()
        let plain = try ImageDecoder.decode(path: Paths.fixture("street-0001.jpg"))
        let path = try tmp.write("o.jpg", withOrientation(try bytes(Paths.fixture("street-0001.jpg")), orientation))
        let img = try ImageDecoder.decode(path: path)
        #expect(img.width == (swaps ? 200 : 320) && img.height == (swaps ? 320 : 200))
        #expect(img.sourceWidth == img.width && img.sourceHeight == img.height)
        // Where the stored top-left pixel ends up.
        let (x, y): (Int, Int) = switch orientation {
        case 2: (319, 0)
        case 3: (319, 199)
        case 6: (199, 0)
        default: (0, 319)  // 8
        }
        #expect(pixel(img, x, y) == pixel(plain, 0, 0))
    }
}

// MARK: - Errors: one line, never a crash, never a stall

@Suite struct DecodeErrorTests {
    @Test func missingFile() {
        let err = decodeError("/nonexistent/dir/receipt.png")
        #expect(err == .missing("/nonexistent/dir/receipt.png"))
        #expect(err?.description == "Image not found: /nonexistent/dir/receipt.png")
    }

    @Test func emptyFile() throws {
        let tmp = try TempDir()
        let err = decodeError(try tmp.write("empty.png", []))
        #expect(err == .notAnImage("empty file"))
        #expect(err?.description == "Not an image: empty file")
    }

    @Test func textFileNamedPNG() throws {
        let tmp = try TempDir()
        #expect(decodeError(try tmp.write("notes.png", Array("total: 42.51\nthanks!\n".utf8))) == .notAnImage("text"))
        let html = Array("<!DOCTYPE html><html><body>404 Not Found</body></html>".utf8)
        #expect(decodeError(try tmp.write("download.jpg", html)) == .notAnImage("an HTML page"))
        #expect(decodeError(try tmp.write("random.png", (0..<64).map { UInt8($0 * 37 & 0xFF) })) == .notAnImage("unrecognised content"))
    }

    @Test func otherFormatsAreUnsupported() throws {
        let tmp = try TempDir()
        #expect(decodeError(try tmp.write("a.png", Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0])) == .unsupported("GIF"))
        #expect(decodeError(try tmp.write("b.png", [0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0])) == .unsupported("TIFF"))
        #expect(decodeError(try tmp.write("c.jpg", [0, 0, 0, 24] + Array("ftypheic".utf8) + [0, 0, 0, 0])) == .unsupported("HEIF"))
        #expect(decodeError(try tmp.write("d.png", Array("<?xml version=\"1.0\"?><svg width=\"10\"/>".utf8))) == .unsupported("SVG"))
    }

    @Test func directoryAndFIFO() throws {
        let tmp = try TempDir()
        #expect(decodeError(tmp.url.path) == .notAnImage("a directory"))
        let fifo = tmp.url.appendingPathComponent("pipe.png").path
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(decodeError(fifo) == .notAnImage("not a regular file"))  // and does not block on open
    }

    @Test func truncatedPNG() throws {
        let tmp = try TempDir()
        let full = try bytes(Paths.sample("street-0002.png"))
        let err = decodeError(try tmp.write("cut.png", Array(full[0..<full.count / 2])))
        guard case .corrupt(let reason) = err else { Issue.record("got \(String(describing: err))"); return }
        #expect(reason.hasPrefix("truncated PNG"), "\(reason)")
        #expect(!(err?.description.contains("\n") ?? true))
        // Cut inside the header chunk.
        #expect(decodeError(try tmp.write("header.png", Array(full[0..<20]))).map { if case .corrupt = $0 { true } else { false } } == true)
    }

    @Test func truncatedJPEG() throws {
        let tmp = try TempDir()
        let full = try bytes(Paths.fixture("street-0001.jpg"))
        let err = decodeError(try tmp.write("cut.jpg", Array(full[0..<full.count / 2])))
        #expect(err == .corrupt("truncated JPEG (premature end of data)"))
        #expect(err?.description == "Damaged image: truncated JPEG (premature end of data)")
        let headerOnly = decodeError(try tmp.write("head.jpg", Array(full[0..<40])))
        guard case .corrupt = headerOnly else { Issue.record("got \(String(describing: headerOnly))"); return }
    }

    @Test func garbageAfterSignature() throws {
        let tmp = try TempDir()
        let png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0x41, count: 100)
        guard case .corrupt = decodeError(try tmp.write("x.png", png)) else { Issue.record("PNG garbage"); return }
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF] + [UInt8](repeating: 0x41, count: 100)
        guard case .corrupt = decodeError(try tmp.write("x.jpg", jpeg)) else { Issue.record("JPEG garbage"); return }
        let webp = Array("RIFF".utf8) + [100, 0, 0, 0] + Array("WEBPVP8 ".utf8) + [UInt8](repeating: 0x41, count: 40)
        guard case .corrupt = decodeError(try tmp.write("x.webp", webp)) else { Issue.record("WebP garbage"); return }
    }

    @Test func hugePNGHeaderFailsFastWithoutAllocating() throws {
        let tmp = try TempDir()
        let path = try tmp.write("huge.png", forgedPNG(width: 60000, height: 60000))
        let start = Date()
        #expect(decodeError(path) == .tooLarge(width: 60000, height: 60000))
        #expect(Date().timeIntervalSince(start) < 1)
        #expect(ImageDecodeError.tooLarge(width: 60000, height: 60000).description == "Image too large to preview: 60000×60000 pixels")
    }

    @Test func pngOverTheSourceLimitIsRefusedFromTheHeader() throws {
        // 12000x11000 = 132 MP: more than any scaled decode should read.
        let tmp = try TempDir()
        #expect(decodeError(try tmp.write("big.png", forgedPNG(width: 12000, height: 11000))) == .tooLarge(width: 12000, height: 11000))
        // 9000x9000 = 81 MP: under the limit, so it is decoded scaled down, and its missing data is found.
        let err = decodeError(try tmp.write("bomb.png", forgedPNG(width: 9000, height: 9000)))
        guard case .corrupt = err else { Issue.record("got \(String(describing: err))"); return }
    }

    @Test func hugeJPEGHeaderFailsFastWithoutAllocating() throws {
        let tmp = try TempDir()
        let forged = forgedJPEG(from: try bytes(Paths.fixture("street-0001.jpg")), width: 60000, height: 60000)
        let path = try tmp.write("huge.jpg", forged)
        let start = Date()
        // Even at 1/8 scale 60000x60000 is 7500x7500 = 56 megapixels: refused from the header.
        #expect(decodeError(path) == .tooLarge(width: 60000, height: 60000))
        #expect(Date().timeIntervalSince(start) < 1)
    }

    @Test func progressiveJPEGOverTheMemoryCapIsTooLarge() throws {
        // A progressive JPEG keeps every coefficient of the full image (~3 bytes a pixel) whatever the
        // output scale: libjpeg's max_memory_to_use turns that into an error instead of an allocation.
        let tmp = try TempDir()
        let (w, h) = (2000, 1500)
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        var seed: UInt32 = 1
        for i in rgb.indices { seed = seed &* 1_103_515_245 &+ 12345; rgb[i] = UInt8(truncatingIfNeeded: seed >> 16) }
        let path = tmp.url.appendingPathComponent("p.jpg").path
        var msg = [CChar](repeating: 0, count: 256)
        #expect(flywheel_jpeg_encode_rgb(path, rgb, Int32(w), Int32(h), 80, 1, &msg, msg.count) == 0)
        let fd = try ImageDecoder.openRegularFile(path)
        defer { close(fd) }
        #expect(throws: ImageDecodeError.tooLarge(width: w, height: h)) {
            try ImageDecoder.decodeJPEG(fd: fd, maxPixels: 4_000_000, targetSize: (width: 480, height: 320), maxMemory: 1 << 20)
        }
        let ok = try ImageDecoder.decode(path: path, targetSize: (width: 480, height: 320))
        #expect(ok.width == 500 && ok.height == 375)  // 2/8 covers 480 wide
    }

    @Test func largeJPEGHeaderIsDownscaledNotRefused() throws {
        // 8000x6000 (48 MP) claimed, real data for 320x200: decoded at 1/4 (2000x1500 = 3 MP), then the
        // data runs out, which is reported as truncation, not as too large, and not as a crash.
        let tmp = try TempDir()
        let forged = forgedJPEG(from: try bytes(Paths.fixture("street-0001.jpg")), width: 8000, height: 6000)
        let err = decodeError(try tmp.write("big.jpg", forged))
        guard case .corrupt = err else { Issue.record("got \(String(describing: err))"); return }
    }
}

// MARK: - Rendering

@Suite struct RenderTests {
    static func shape() throws -> DecodedImage { try ImageDecoder.decode(path: Paths.sample("shape-0001.png")) }

    @Test func snapshot256At60x20() throws {
        let r = ImageRenderer.render(try Self.shape(), columns: 60, rows: 20, depth: .full256)
        #expect(r.columns == 60 && r.rows == 20 && r.cells.count == 1200)
        try assertSnapshot(r, named: "shape-0001-256-60x20")
    }

    @Test func snapshot256At30x10() throws {
        try assertSnapshot(ImageRenderer.render(try Self.shape(), columns: 30, rows: 10, depth: .full256), named: "shape-0001-256-30x10")
    }

    @Test func snapshotMonoAt60x20() throws {
        let r = ImageRenderer.render(try Self.shape(), columns: 60, rows: 20, depth: .mono)
        try assertSnapshot(r, named: "shape-0001-mono-60x20")
        try assertSnapshot(styleMap(r), named: "shape-0001-mono-60x20-reverse")
        for cell in r.cells {
            #expect(cell.style.fg == .default && cell.style.bg == .default)
            #expect(cell.style.attributes.isSubset(of: [.reverse]))
        }
    }

    @Test func snapshotReceipt256At60x20() throws {
        let img = try ImageDecoder.decode(path: Paths.sample("receipt-0001.png"))
        try assertSnapshot(ImageRenderer.render(img, columns: 60, rows: 20, depth: .full256), named: "receipt-0001-256-60x20")
    }

    @Test func colours256() throws {
        let r = ImageRenderer.render(try Self.shape(), columns: 60, rows: 20, depth: .full256)
        // Centre: red circle; corner of the image area: off-white background.
        guard case .indexed(let centre) = visibleColor(r[30, 10]) else { Issue.record("no colour at the centre"); return }
        let c = xtermRGB(centre)
        #expect(c.r > 150 && c.g < 100 && c.b < 100, "centre index \(centre) = \(c)")
        #expect((16...255).contains(centre))
        guard case .indexed(let corner) = visibleColor(r[30, 1]) else { Issue.record("no colour above the circle"); return }
        let k = xtermRGB(corner)
        #expect(k.r > 200 && k.g > 200 && k.b > 200, "background index \(corner) = \(k)")
    }

    @Test func colours8() throws {
        let r = ImageRenderer.render(try Self.shape(), columns: 60, rows: 20, depth: .basic8)
        for cell in r.cells {
            for color in [cell.style.fg, cell.style.bg] {
                if case .indexed(let i) = color { #expect(i < 8) }
            }
        }
        #expect(visibleColor(r[30, 10]) == .red)
        try assertSnapshot(styleMap(r), named: "shape-0001-8-60x20-colours")
        let street = ImageRenderer.render(try ImageDecoder.decode(path: Paths.sample("street-0001.png")), columns: 60, rows: 20, depth: .basic8)
        try assertSnapshot(street, named: "street-0001-8-60x20")
        try assertSnapshot(styleMap(street), named: "street-0001-8-60x20-colours")
        let blue = ImageRenderer.render(try ImageDecoder.decode(path: Paths.sample("shape-0002.png")), columns: 60, rows: 20, depth: .basic8)
        #expect(visibleColor(blue[30, 10]) == .blue)
    }

    @Test(arguments: PreviewDepth.allCases)
    func everyCellIsOneColumnWide(depth: PreviewDepth) throws {
        let dir = Paths.repo.appendingPathComponent("sample-data/images").path
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".png") }.sorted()
        #expect(names.count >= 40)
        var symbols = Set<String>()
        for name in names {
            let img = try ImageDecoder.decode(path: dir + "/" + name)
            for (cols, rows) in [(60, 20), (23, 7)] {
                let r = ImageRenderer.render(img, columns: cols, rows: rows, depth: depth)
                #expect(r.cells.count == cols * rows)
                for cell in r.cells {
                    #expect(cell.width == 1)
                    #expect(cell.text.unicodeScalars.count == 1)
                    #expect(TextWidth.width(cell.text) == 1, "\(name): \(cell.text.unicodeScalars.map { String($0.value, radix: 16) })")
                    symbols.insert(cell.text)
                }
            }
        }
        #expect(symbols.count > 5)  // real symbols, not only spaces
    }

    @Test func aspectIsKeptAndCentred() throws {
        // A 400x100 solid image (4:1) in 40x20 cells (1:2 cells): 40 columns wide, 5 rows tall, centred.
        let img = DecodedImage(width: 400, height: 100, rgba: [UInt8]((0..<40_000).flatMap { _ in [200, 30, 30, 255] as [UInt8] }),
                               format: "png", sourceWidth: 400, sourceHeight: 100)
        let r = ImageRenderer.render(img, columns: 40, rows: 20, depth: .full256)
        let filled = (0..<20).filter { y in (0..<40).contains { r[$0, y].style.bg != .default || r[$0, y].style.fg != .default } }
        #expect(filled == Array(7..<12))
        // A tall one (1:4) in 40x20: 20 rows tall, 10 columns wide, centred horizontally.
        let tall = DecodedImage(width: 100, height: 400, rgba: img.rgba, format: "png", sourceWidth: 100, sourceHeight: 400)
        let t = ImageRenderer.render(tall, columns: 40, rows: 20, depth: .full256)
        let cols = (0..<40).filter { x in (0..<20).contains { t[x, $0].style.bg != .default || t[x, $0].style.fg != .default } }
        #expect(cols == Array(15..<25))
    }

    @Test func degenerateSizes() throws {
        let img = try Self.shape()
        #expect(ImageRenderer.render(img, columns: 0, rows: 10, depth: .full256).cells.isEmpty)
        #expect(ImageRenderer.render(img, columns: -3, rows: -1, depth: .mono).cells.isEmpty)
        let one = ImageRenderer.render(img, columns: 1, rows: 1, depth: .basic8)
        #expect(one.cells.count == 1 && one.cells[0].width == 1)
        let tiny = DecodedImage(width: 1, height: 1, rgba: [0, 0, 255, 255], format: "png", sourceWidth: 1, sourceHeight: 1)
        #expect(ImageRenderer.render(tiny, columns: 200, rows: 60, depth: .full256).cells.count == 12_000)
    }

    @Test func transparentPixelsUseTheDefaultColour() throws {
        var rgba = [UInt8](repeating: 0, count: 64 * 64 * 4)
        for y in 0..<64 { for x in 32..<64 { let i = (y * 64 + x) * 4; rgba[i] = 0; rgba[i + 1] = 200; rgba[i + 2] = 0; rgba[i + 3] = 255 } }
        let img = DecodedImage(width: 64, height: 64, rgba: rgba, format: "png", sourceWidth: 64, sourceHeight: 64)
        let r = ImageRenderer.render(img, columns: 32, rows: 16, depth: .full256)
        #expect(r[2, 8].style.bg == .default && r[2, 8].text == " ")
        #expect(visibleColor(r[28, 8]) != .default)
    }
}

// MARK: - Drawing into a ScreenBuffer

@Suite struct DrawTests {
    static func render(_ text: [String]) -> ImagePreviewRender {
        let cols = text[0].count
        return ImagePreviewRender(columns: cols, rows: text.count,
                                  cells: text.flatMap { $0.map { Cell(String($0), width: 1, style: Style(fg: .red)) } })
    }

    @Test func copiesCellsAtAnOffset() {
        var buf = ScreenBuffer(width: 10, height: 4)
        buf.put("abcdefghij", x: 0, y: 1)
        buf.draw(Self.render(["▀▄▌", "█▐▖"]), at: 2, y: 1)
        #expect(buf.lines() == ["", "ab▀▄▌fghij", "  █▐▖", ""])
        #expect(buf[2, 1].style.fg == .red)
    }

    @Test func neverWritesOutsideTheBuffer() {
        var buf = ScreenBuffer(width: 4, height: 3)
        let r = Self.render(["abc", "def", "ghi"])
        buf.draw(r, at: -1, y: -1)
        #expect(buf.lines() == ["ef", "hi", ""])
        buf.draw(r, at: 3, y: 2)
        #expect(buf.lines() == ["ef", "hi", "   a"])
        buf.draw(r, at: 100, y: 100)
        buf.draw(r, at: -100, y: 0)
        buf.draw(ImagePreviewRender(columns: 0, rows: 0, cells: []), at: 0, y: 0)
        #expect(buf.lines() == ["ef", "hi", "   a"])
    }

    @Test func repairsWideCharactersItCutsInHalf() {
        var buf = ScreenBuffer(width: 8, height: 1)
        buf.put("中文字A", x: 0, y: 0)  // 中 0-1, 文 2-3, 字 4-5, A 6
        buf.draw(Self.render(["xx"]), at: 3, y: 0)  // right half of 文, left half of 字
        #expect(buf.lines() == ["中 xx A"])
        for x in 0..<8 where buf[x, 0].width == 0 { #expect(buf[x - 1, 0].width == 2) }
    }
}

// MARK: - Cache

@Suite struct CacheTests {
    @Test func hitReturnsTheSameRenderWithoutDecodingAgain() throws {
        let cache = PreviewCache(capacity: 8)
        let path = Paths.sample("street-0003.png")
        let first = try cache.preview(path: path, key: "h1", columns: 60, rows: 20, depth: .full256).get()
        #expect(cache.stats.decodes == 1 && cache.stats.misses == 1)
        let second = try cache.preview(path: path, key: "h1", columns: 60, rows: 20, depth: .full256).get()
        #expect(second == first)
        #expect(cache.stats.decodes == 1 && cache.stats.hits == 1)
        #expect(try cache.cachedPreview(key: "h1", columns: 60, rows: 20, depth: .full256)?.get() == first)
        #expect(cache.cachedPreview(key: "h1", columns: 61, rows: 20, depth: .full256) == nil)
        // Same key at another size or depth: a new render, but the decoded pixels are reused.
        _ = cache.preview(path: path, key: "h1", columns: 40, rows: 12, depth: .full256)
        _ = cache.preview(path: path, key: "h1", columns: 60, rows: 20, depth: .mono)
        #expect(cache.stats.misses == 3 && cache.stats.decodes == 1)
        // The key, not the path, identifies the image.
        let other = try cache.preview(path: Paths.sample("shape-0001.png"), key: "h1", columns: 60, rows: 20, depth: .full256).get()
        #expect(other == first)
    }

    @Test func evictsLeastRecentlyUsed() throws {
        let cache = PreviewCache(capacity: 2)
        let path = Paths.sample("shape-0003.png")
        _ = cache.preview(path: path, key: "a", columns: 10, rows: 5, depth: .basic8)
        _ = cache.preview(path: path, key: "b", columns: 10, rows: 5, depth: .basic8)
        _ = cache.preview(path: path, key: "a", columns: 10, rows: 5, depth: .basic8)  // a is now the newer
        _ = cache.preview(path: path, key: "c", columns: 10, rows: 5, depth: .basic8)
        #expect(cache.cachedPreview(key: "a", columns: 10, rows: 5, depth: .basic8) != nil)
        #expect(cache.cachedPreview(key: "b", columns: 10, rows: 5, depth: .basic8) == nil)
        #expect(cache.cachedPreview(key: "c", columns: 10, rows: 5, depth: .basic8) != nil)
        #expect(cache.stats.entries == 2)
    }

    @Test func errorsAreCachedButMissingFilesAreRetried() throws {
        let tmp = try TempDir()
        let cache = PreviewCache()
        let text = try tmp.write("t.png", Array("hello".utf8))
        #expect(cache.preview(path: text, key: "t", columns: 10, rows: 5, depth: .full256) == .failure(.notAnImage("text")))
        #expect(cache.cachedPreview(key: "t", columns: 10, rows: 5, depth: .full256) == .failure(.notAnImage("text")))
        let later = tmp.url.appendingPathComponent("later.png").path
        #expect(cache.preview(path: later, key: "l", columns: 10, rows: 5, depth: .full256) == .failure(.missing(later)))
        #expect(cache.cachedPreview(key: "l", columns: 10, rows: 5, depth: .full256) == nil)
        try FileManager.default.copyItem(atPath: Paths.sample("shape-0004.png"), toPath: later)
        #expect((try? cache.preview(path: later, key: "l", columns: 10, rows: 5, depth: .full256).get()) != nil)
    }

    @Test func concurrentRequestsForOneKeyDecodeOnce() throws {
        let cache = PreviewCache()
        let path = Paths.sample("receipt-0002.png")
        let lock = NSLock()
        var renders: [ImagePreviewRender?] = []
        // Real threads: `preview` blocks (decoding, or waiting for another thread's decode of the same key).
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let r = try? cache.preview(path: path, key: "r2", columns: 50, rows: 16, depth: .full256).get()
            lock.lock(); renders.append(r); lock.unlock()
        }
        #expect(renders.count == 8 && renders.allSatisfy { $0 != nil && $0 == renders[0] })
        #expect(cache.stats.decodes == 1 && cache.stats.misses == 1 && cache.stats.hits == 7)
    }
}

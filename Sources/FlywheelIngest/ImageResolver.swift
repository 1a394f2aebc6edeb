import Crypto
import FlywheelCore
import ImagePreview
import Foundation

/// Turns an event's image reference into facts about the file: content hash (SHA-256), size, format and
/// dimensions. Relative refs resolve against the ingested file's folder, else under an image root.
/// Results are cached per path, so a picture referenced a thousand times is read once per run.
public final class ImageResolver {
    public let baseDirectory: String
    public let imageRoot: String?
    private var cache: [String: ResolvedImage] = [:]
    private static let cacheLimit = 50_000

    public init(baseDirectory: String, imageRoot: String? = nil) {
        self.baseDirectory = baseDirectory
        self.imageRoot = imageRoot
    }

    public func resolve(_ ref: ImageRef) -> ResolvedImage {
        if ref.isURL { return ResolvedImage(ref: ref.ref, path: nil, status: .url, sha256: ref.sha256) }
        let candidates = candidatePaths(ref.ref)
        let path = candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
        if let hit = cache[path] { return withDeclared(hit, ref) }
        if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
        let resolved = Self.inspect(path: path, ref: ref.ref)
        cache[path] = resolved
        return withDeclared(resolved, ref)
    }

    private func withDeclared(_ r: ResolvedImage, _ ref: ImageRef) -> ResolvedImage {
        var r = r
        r.ref = ref.ref
        // The producer's hash identifies the picture even when we cannot read the file.
        if r.sha256 == nil, let declared = ref.sha256 { r.sha256 = declared }
        return r
    }

    private func candidatePaths(_ ref: String) -> [String] {
        if ref.hasPrefix("/") { return [normalize(ref)] }
        var paths = [normalize(baseDirectory + "/" + ref)]
        if let root = imageRoot { paths.append(normalize(root + "/" + ref)) }
        return paths
    }

    private func normalize(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// Hashes and measures one file. Never throws: a problem becomes the image's status.
    public static func inspect(path: String, ref: String) -> ResolvedImage {
        var st = stat()
        guard stat(path, &st) == 0 else {
            return ResolvedImage(ref: ref, path: path, status: .missing)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            return ResolvedImage(ref: ref, path: path, status: .unreadable, problem: "not a regular file")
        }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            return ResolvedImage(ref: ref, path: path, status: .unreadable, problem: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var hasher = SHA256()
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var header: [UInt8] = []
        var total = 0
        while true {
            let n = read(fd, buffer.baseAddress, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                return ResolvedImage(ref: ref, path: path, status: .unreadable, problem: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            let slice = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            hasher.update(bufferPointer: slice)
            if header.count < 256 << 10 { header.append(contentsOf: slice.prefix((256 << 10) - header.count)) }
            total += n
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        let info = ImageHeader.inspect(header)
        // Size and format come from the decoders the console's previews use (libpng, libjpeg, libwebp), at the
        // smallest scale they allow, so what ingest records is what the preview will find. Formats they do not
        // decode (GIF) keep what the header says; a damaged image keeps its header's size and says why.
        var width = info?.width, height = info?.height, format = info?.format
        var problem: String?
        if let f = info?.format, ["png", "jpeg", "webp"].contains(f) {
            do {
                let decoded = try ImageDecoder.decode(path: path, maxPixels: 4096, targetSize: (width: 1, height: 1))
                (width, height, format) = (decoded.sourceWidth, decoded.sourceHeight, decoded.format)
            } catch {
                problem = error.description
            }
        }
        return ResolvedImage(ref: ref, path: path, status: .present, sha256: digest, bytes: total,
                             width: width, height: height, format: format, problem: problem)
    }
}

import Foundation

/// Thread-safe LRU of rendered previews keyed by (image key, columns, rows, depth). `preview` decodes and
/// renders on the calling thread (call it off the UI thread); `cachedPreview` never blocks on work and is
/// what a UI thread asks first. Two threads asking for the same key at once decode it once: the second
/// waits for the first. Failures are cached like renders (the same bytes fail the same way), except
/// `.missing`: a file that is not there yet may appear later.
///
/// A small second LRU keeps the last few decoded images (at most 4, at most 32 MB of pixels), so a pane
/// resize re-renders without decoding again when the decoded pixels are large enough for the new size.
///
/// `preview` blocks while it decodes and renders (milliseconds to a few hundred for a 40 MP progressive
/// JPEG): call it from a thread or DispatchQueue of its own, not from the UI thread, and preferably not
/// from Swift concurrency's cooperative pool, where a waiting caller would hold one of its few threads.
public final class PreviewCache: @unchecked Sendable {
    public struct Stats: Sendable, Equatable {
        /// Lookups answered from the render cache (including waits on another thread's work).
        public var hits = 0
        /// Lookups that rendered (and maybe decoded).
        public var misses = 0
        /// Files decoded (misses that could not reuse a decoded image).
        public var decodes = 0
        public var entries = 0
    }

    private struct Key: Hashable {
        let key: String
        let columns: Int
        let rows: Int
        let depth: PreviewDepth
    }

    private struct Entry {
        let result: Result<ImagePreviewRender, ImageDecodeError>
        var used: UInt64
    }

    private struct DecodedEntry {
        let image: DecodedImage
        var used: UInt64
    }

    private let capacity: Int
    private let decodedCapacity = 4
    private let decodedByteBudget = 32 << 20
    private let maxPixels: Int
    private let condition = NSCondition()
    private var entries: [Key: Entry] = [:]
    private var decoded: [String: DecodedEntry] = [:]
    private var inFlight: Set<Key> = []
    private var tick: UInt64 = 0
    private var counters = Stats()

    public init(capacity: Int = 64) {
        self.capacity = max(1, capacity)
        self.maxPixels = 4_000_000
    }

    /// The preview of the image at `path`, `key` being its content hash: from the cache, or decoded and
    /// rendered now (blocking). Thread-safe.
    public func preview(path: String, key: String, columns: Int, rows: Int, depth: PreviewDepth) -> Result<ImagePreviewRender, ImageDecodeError> {
        let k = Key(key: key, columns: columns, rows: rows, depth: depth)
        condition.lock()
        while true {
            if let e = entries[k] {
                tick += 1
                entries[k]!.used = tick
                counters.hits += 1
                condition.unlock()
                return e.result
            }
            if inFlight.contains(k) { condition.wait(); continue }
            break
        }
        inFlight.insert(k)
        counters.misses += 1
        let target = (width: max(1, columns) * 8, height: max(1, rows) * 16)
        let reusable = decoded[key].flatMap { Self.covers($0.image, target) ? $0.image : nil }
        if reusable != nil { tick += 1; decoded[key]!.used = tick }
        condition.unlock()

        var result: Result<ImagePreviewRender, ImageDecodeError>
        var fresh: DecodedImage?
        if let image = reusable {
            result = .success(ImageRenderer.render(image, columns: columns, rows: rows, depth: depth))
        } else {
            do throws(ImageDecodeError) {
                let image = try ImageDecoder.decode(path: path, maxPixels: maxPixels, targetSize: target)
                fresh = image
                result = .success(ImageRenderer.render(image, columns: columns, rows: rows, depth: depth))
            } catch {
                result = .failure(error)
            }
        }

        condition.lock()
        inFlight.remove(k)
        tick += 1
        if reusable == nil { counters.decodes += 1 }
        if case .failure(.missing) = result {} else {
            entries[k] = Entry(result: result, used: tick)
            if entries.count > capacity, let victim = entries.min(by: { $0.value.used < $1.value.used })?.key {
                entries.removeValue(forKey: victim)
            }
        }
        if let fresh, fresh.rgba.count <= decodedByteBudget {
            decoded[key] = DecodedEntry(image: fresh, used: tick)
            while decoded.count > decodedCapacity || decoded.values.reduce(0, { $0 + $1.image.rgba.count }) > decodedByteBudget,
                  let victim = decoded.min(by: { $0.value.used < $1.value.used })?.key {
                decoded.removeValue(forKey: victim)
            }
        }
        condition.broadcast()
        condition.unlock()
        return result
    }

    /// The cached preview for these parameters, or nil when it has not been rendered (or is being rendered
    /// now). Never decodes, never waits: for the UI thread.
    public func cachedPreview(key: String, columns: Int, rows: Int, depth: PreviewDepth) -> Result<ImagePreviewRender, ImageDecodeError>? {
        let k = Key(key: key, columns: columns, rows: rows, depth: depth)
        condition.lock()
        defer { condition.unlock() }
        guard let e = entries[k] else { return nil }
        tick += 1
        entries[k]!.used = tick
        counters.hits += 1
        return e.result
    }

    public var stats: Stats {
        condition.lock()
        defer { condition.unlock() }
        var s = counters
        s.entries = entries.count
        return s
    }

    public func removeAll() {
        condition.lock()
        entries.removeAll()
        decoded.removeAll()
        condition.unlock()
    }

    /// Whether `image` has enough pixels for `target` (decoded at full size, or at least the fitted size).
    static func covers(_ image: DecodedImage, _ target: (width: Int, height: Int)) -> Bool {
        if image.width >= image.sourceWidth && image.height >= image.sourceHeight { return true }
        let need = ImageDecoder.neededFraction(width: image.sourceWidth, height: image.sourceHeight, target: target)
        return Double(image.width) >= (Double(image.sourceWidth) * need).rounded(.down)
            && Double(image.height) >= (Double(image.sourceHeight) * need).rounded(.down)
    }
}

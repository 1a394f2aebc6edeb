/// What ingest learned about an image reference: content hash and facts when the file was readable.
public struct ResolvedImage: Equatable, Sendable {
    public enum Status: String, Sendable { case present, missing, url, unreadable }

    public var ref: String
    public var path: String?
    public var status: Status
    public var sha256: String?
    public var bytes: Int?
    public var width: Int?
    public var height: Int?
    public var format: String?
    /// Why the file could not be read, for `unreadable`.
    public var problem: String?

    public init(ref: String, path: String?, status: Status, sha256: String? = nil, bytes: Int? = nil,
                width: Int? = nil, height: Int? = nil, format: String? = nil, problem: String? = nil) {
        self.ref = ref
        self.path = path
        self.status = status
        self.sha256 = sha256
        self.bytes = bytes
        self.width = width
        self.height = height
        self.format = format
        self.problem = problem
    }

    /// The content address: one row per picture however often it is referenced.
    public var key: String {
        if let sha256 { return "sha256:" + sha256 }
        switch status {
        case .url: return "url:" + ref
        default: return "missing:" + (path ?? ref)
        }
    }
}

/// Reads width, height and format from the first bytes of a PNG, JPEG, GIF or WEBP file.
/// Pure header parsing; full decoding belongs to the image preview.
public enum ImageHeader {
    public static func inspect(_ b: [UInt8]) -> (format: String, width: Int, height: Int)? {
        func be16(_ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }
        func be32(_ i: Int) -> Int { be16(i) << 16 | be16(i + 2) }
        func le16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        if b.count >= 24, b[0] == 0x89, b[1] == 0x50, b[2] == 0x4E, b[3] == 0x47, b[12...15].elementsEqual([0x49, 0x48, 0x44, 0x52]) {
            return ("png", be32(16), be32(20))
        }
        if b.count >= 10, b[0] == 0x47, b[1] == 0x49, b[2] == 0x46 {
            return ("gif", le16(6), le16(8))
        }
        if b.count >= 30, b[0...3].elementsEqual(Array("RIFF".utf8)), b[8...11].elementsEqual(Array("WEBP".utf8)) {
            let chunk = String(decoding: b[12...15], as: UTF8.self)
            switch chunk {
            case "VP8 " where b.count >= 30: return ("webp", le16(26) & 0x3FFF, le16(28) & 0x3FFF)
            case "VP8L" where b.count >= 25:
                let bits = Int(b[21]) | Int(b[22]) << 8 | Int(b[23]) << 16 | Int(b[24]) << 24
                return ("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
            case "VP8X" where b.count >= 30:
                let w = Int(b[24]) | Int(b[25]) << 8 | Int(b[26]) << 16
                let h = Int(b[27]) | Int(b[28]) << 8 | Int(b[29]) << 16
                return ("webp", w + 1, h + 1)
            default: return nil
            }
        }
        if b.count >= 4, b[0] == 0xFF, b[1] == 0xD8 {
            // Walk JPEG segments to the first start-of-frame marker.
            var i = 2
            while i + 9 < b.count {
                guard b[i] == 0xFF else { return nil }
                let marker = b[i + 1]
                if marker == 0xFF { i += 1; continue }
                if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
                let length = be16(i + 2)
                if (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC {
                    return ("jpeg", be16(i + 7), be16(i + 5))
                }
                i += 2 + length
            }
            return nil
        }
        return nil
    }
}

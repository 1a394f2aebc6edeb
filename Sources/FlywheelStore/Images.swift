import GRDB

/// What the console needs to show an image: where its bytes are and what is known of them.
public struct ImageFile: Sendable, Equatable {
    public var id: Int64
    /// "sha256:<hex>" when the bytes were read, else "missing:<path>" or "url:<url>": the preview cache key.
    public var key: String
    /// The reference as the event gave it.
    public var ref: String
    /// Where the file was found (absolute), if it was.
    public var path: String?
    /// present, missing, url or unreadable.
    public var status: String
    public var width: Int?
    public var height: Int?
    public var format: String?

    public init(id: Int64, key: String, ref: String, path: String?, status: String, width: Int?, height: Int?, format: String?) {
        self.id = id
        self.key = key
        self.ref = ref
        self.path = path
        self.status = status
        self.width = width
        self.height = height
        self.format = format
    }
}

extension Store {
    public func imageFile(id: Int64) throws -> ImageFile? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT id, image_key, ref, path, status, width, height, format FROM images WHERE id = ?", arguments: [id]).map {
                ImageFile(id: $0[0], key: $0[1], ref: $0[2], path: $0[3], status: $0[4], width: $0[5], height: $0[6], format: $0[7])
            }
        }
    }
}

import Foundation
import Testing
@testable import FlywheelCore
@testable import FlywheelIngest

/// Ingest takes an image's size and format from the decoders the console's previews use.
@Suite struct ImageDecodeAtIngestTests {
    static let images = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("sample-data/images").path

    @Test func aGoodPictureGetsItsDecodedSize() throws {
        let r = ImageResolver(baseDirectory: Self.images, imageRoot: nil).resolve(ImageRef(ref: "receipt-0006.png"))
        #expect(r.status == .present)
        #expect(r.width == 240 && r.height == 200 && r.format == "png")
        #expect(r.problem == nil)
    }

    @Test func aDamagedPictureKeepsItsHeaderSizeAndSaysWhy() throws {
        let dir = NSTemporaryDirectory() + "flywheel-img-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let full = try Data(contentsOf: URL(fileURLWithPath: Self.images + "/receipt-0006.png"))
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: dir + "/half.png"))
        let r = ImageResolver(baseDirectory: dir, imageRoot: nil).resolve(ImageRef(ref: "half.png"))
        #expect(r.status == .present)           // the bytes are there and hashed
        #expect(r.width == 240 && r.height == 200 && r.format == "png")
        #expect(r.problem?.hasPrefix("Damaged image:") == true)
    }
}

// swift-tools-version:6.1
import PackageDescription

// Module map (each module's doc comment says what it owns):
//   FlywheelCore   pure domain: event decoding, validation, value types. No I/O, no SQL.
//   FlywheelStore  the only module that speaks SQL (GRDB): schema, migrations, writes, queries.
//   FlywheelIngest streaming readers and the ingest pipeline (files, stdin), image inspection.
//   FlywheelLLM    the OpenAI-compatible chat client over libcurl (CCurl), and LLM answer parsing.
//   FlywheelAnalyze analysis jobs: sessions -> signals -> training samples, LLM extraction.
//   TerminalKit    cells, a screen buffer that knows display width, keys, line editor. No ncurses, no I/O.
//   TerminalNcurses the ncursesw backend (CNcursesw): copies changed cells out, reads keys.
//   ImagePreview   image previews as cells: PNG/JPEG/WebP decoding (CPNG, CJPEG, CWebP), chafa rendering (CChafa), cache.
//   Console        the review console: state, messages, effects, key maps, screens. No ncurses, no SQL.
//   FlywheelCollect the long-running collector: watched inbox, HTTP ingest (Hummingbird), scheduled analysis.
//   flywheel       the executable: argument parsing and wiring only.
//   flywheel-bench benchmarks that print figures (ingest rate vs the sqlite3 tool, memory).
let package = Package(
    name: "flywheel",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "flywheel", targets: ["flywheel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(name: "FlywheelCore"),
        .target(
            name: "FlywheelStore",
            dependencies: [
                "FlywheelCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]),
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "FlywheelLLM", dependencies: ["FlywheelCore", "CCurl"]),
        .target(
            name: "FlywheelIngest",
            dependencies: [
                "FlywheelCore", "FlywheelStore", "ImagePreview",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .target(name: "FlywheelAnalyze", dependencies: ["FlywheelCore", "FlywheelStore", "FlywheelLLM"]),
        .target(
            name: "FlywheelCollect",
            dependencies: [
                "FlywheelCore", "FlywheelStore", "FlywheelIngest", "FlywheelAnalyze", "FlywheelLLM",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(name: "TerminalKit"),
        .systemLibrary(name: "CNcursesw", providers: [.apt(["libncurses-dev"])]),
        .target(name: "TerminalNcurses", dependencies: ["TerminalKit", "CNcursesw"]),
        .systemLibrary(name: "CPNG", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CWebP", providers: [.apt(["libwebp-dev"])]),
        .systemLibrary(name: "CChafa", pkgConfig: "chafa", providers: [.apt(["libchafa-dev", "libglib2.0-dev"])]),
        .target(name: "ImagePreview", dependencies: ["TerminalKit", "CPNG", "CJPEG", "CWebP", "CChafa"]),
        .target(
            name: "Console",
            dependencies: [
                "TerminalKit", "FlywheelCore", "FlywheelStore", "ImagePreview",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]),
        .executableTarget(
            name: "flywheel",
            dependencies: [
                "FlywheelCore", "FlywheelStore", "FlywheelIngest", "FlywheelAnalyze", "FlywheelLLM",
                "TerminalKit", "TerminalNcurses", "Console", "FlywheelCollect",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .executableTarget(
            name: "flywheel-bench",
            dependencies: ["FlywheelCore", "FlywheelStore", "FlywheelIngest", "TerminalKit", "Console", "FlywheelCollect", "ImagePreview", "CJPEG", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "FlywheelCoreTests", dependencies: ["FlywheelCore", "FlywheelTestSupport"]),
        .testTarget(
            name: "FlywheelStoreTests",
            dependencies: ["FlywheelStore", "FlywheelCore", "FlywheelTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "FlywheelIngestTests",
            dependencies: ["FlywheelIngest", "FlywheelStore", "FlywheelCore", "FlywheelTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "FlywheelTestSupport", path: "Tests/Support"),
        .testTarget(name: "FlywheelLLMTests", dependencies: ["FlywheelLLM", "FlywheelCore", "FlywheelTestSupport"]),
        .testTarget(
            name: "FlywheelAnalyzeTests",
            dependencies: ["FlywheelAnalyze", "FlywheelStore", "FlywheelIngest", "FlywheelLLM", "FlywheelCore", "FlywheelTestSupport",
                           .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "FlywheelCLITests", dependencies: ["FlywheelStore", "FlywheelCore", "FlywheelTestSupport"]),
        .testTarget(name: "TerminalKitTests", dependencies: ["TerminalKit"]),
        .testTarget(name: "ImagePreviewTests", dependencies: ["ImagePreview", "TerminalKit", "CJPEG", "FlywheelTestSupport"], exclude: ["Fixtures", "Snapshots"]),
        .testTarget(
            name: "FlywheelCollectTests",
            dependencies: ["FlywheelCollect", "FlywheelStore", "FlywheelIngest", "FlywheelCore", "FlywheelTestSupport",
                           .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "ConsoleTests",
            dependencies: ["Console", "TerminalKit", "FlywheelStore", "FlywheelIngest", "FlywheelAnalyze", "FlywheelCore", "FlywheelTestSupport"],
            exclude: ["Snapshots"]),
    ],
    swiftLanguageModes: [.v5]
)

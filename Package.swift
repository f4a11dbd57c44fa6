// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Loa",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "loa", targets: ["loa"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // EmbeddedEventLoop for the transport's unit tests (AsyncHTTPClient brings swift-nio anyway).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // C libraries, wrapped here rather than through a third-party package.
        .systemLibrary(
            name: "CALSA",
            pkgConfig: "alsa",
            providers: [.apt(["libasound2-dev"])]
        ),
        .systemLibrary(
            name: "CSndFile",
            pkgConfig: "sndfile",
            providers: [.apt(["libsndfile1-dev"])]
        ),
        .systemLibrary(
            name: "CSoxr",
            pkgConfig: "soxr",
            providers: [.apt(["libsoxr-dev"])]
        ),
        .systemLibrary(
            name: "CEBUR128",
            pkgConfig: "libebur128",
            providers: [.apt(["libebur128-dev"])]
        ),
        // adjtimex(2) from <sys/timex.h>, which Glibc's Swift overlay leaves out: is the clock synchronised?
        .systemLibrary(name: "CHostClock"),
        // FFmpeg's libraries: live streams (HTTP, Icecast, HLS), line inputs' decoding, and recordings libsndfile
        // cannot read (M4A/AAC, Opus/WebM, AMR, WMA).
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswresample-dev", "libavutil-dev"])]
        ),

        // Pure core: schedule model, planner, report builders. No I/O.
        .target(name: "LoaCore"),

        // Reading loa.toml and schedule files; locating problems at file:line.
        .target(
            name: "LoaConfig",
            dependencies: [
                "LoaCore",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),

        // Audio adapters: decoding (libsndfile + libsoxr), loudness (libebur128), the true-peak
        // limiter and outputs (ALSA, null).
        .target(
            name: "LoaAudio",
            dependencies: ["LoaCore", "CALSA", "CSndFile", "CSoxr", "CEBUR128", "CFFmpeg"]
        ),

        // SQLite: the segment library and the airing log.
        .target(
            name: "LoaStore",
            dependencies: [
                "LoaCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // Upstream feeds: Ed25519 signing and verification (swift-crypto), publishing a signed feed, and
        // fetching one over HTTP (AsyncHTTPClient) into the library, verified before anything is installed.
        .target(
            name: "LoaFeed",
            dependencies: [
                "LoaCore", "LoaConfig", "LoaAudio", "LoaStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Long-running services: playout, reload, feeds.
        .target(
            name: "LoaDaemon",
            dependencies: [
                "LoaCore", "LoaConfig", "LoaAudio", "LoaStore", "LoaFeed", "CHostClock",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),

        // The CLI and composition root.
        .executableTarget(
            name: "loa",
            dependencies: [
                "LoaCore", "LoaConfig", "LoaAudio", "LoaStore", "LoaDaemon", "LoaFeed",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            // Release builds are what a station runs (`make release`, with the Swift runtime linked in
            // statically). lld packs the binary's relative relocations (DT_RELR, glibc ≥ 2.36): with
            // gold's RELA the loader wrote 2.2 MB of them into the daemon's memory at every start. Nothing
            // loads plug-ins into loa, so its symbols are not exported: the loader searched the 3 MB table
            // (every Swift symbol of every package) on each of its own lookups.
            linkerSettings: [
                .unsafeFlags(
                    ["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic"],
                    .when(platforms: [.linux], configuration: .release)
                ),
            ]
        ),

        // `make bench` only: timings of the store, the planner and the limiter, beside their peers.
        .executableTarget(
            name: "loa-bench",
            // LoaTestSupport: the relay benchmarks' upstreams are the tests' own servers (`loa-bench upstreams`).
            dependencies: ["LoaCore", "LoaStore", "LoaAudio", "LoaTestSupport"]
        ),

        .testTarget(name: "LoaCoreTests", dependencies: ["LoaCore", "LoaTestSupport"]),
        .testTarget(name: "LoaConfigTests", dependencies: ["LoaConfig", "LoaCore"]),
        .testTarget(name: "LoaStoreTests", dependencies: ["LoaStore", "LoaCore"]),
        .testTarget(name: "LoaAudioTests", dependencies: ["LoaAudio", "LoaCore", "LoaTestSupport"]),
        // Real servers for tests (and the relay benchmarks): nginx as the district's feed server, icecast2 and ffmpeg
        // sources, live HLS, bad upstreams.
        .target(name: "LoaTestSupport", dependencies: ["LoaCore"], path: "Tests/LoaTestSupport"),
        .testTarget(name: "LoaFeedTests", dependencies: ["LoaFeed", "LoaCore", "LoaConfig", "LoaStore", "LoaAudio", "LoaTestSupport",
                                                     .product(name: "NIOEmbedded", package: "swift-nio")]),
        .testTarget(
            name: "LoaDaemonTests",
            dependencies: [
                "LoaDaemon", "LoaCore", "LoaConfig", "LoaStore", "LoaAudio", "LoaFeed", "LoaTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

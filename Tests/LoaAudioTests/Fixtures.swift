import Foundation

/// Test audio made with sox (installed by the Makefile), in a private folder per test.
struct Fixtures {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("loa-audio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// A sine tone of `seconds` at `frequency`, written as `name` (its extension picks the format).
    func tone(_ name: String, frequency: Int, seconds: Double, rate: Int = 44100, channels: Int = 1) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try run("/usr/bin/sox", ["-n", "-r", "\(rate)", "-c", "\(channels)", url.path, "synth", "\(seconds)", "sine", "\(frequency)", "vol", "0.5"])
        return url
    }

    func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "fixture", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "\(tool) \(arguments.joined(separator: " ")) failed"])
        }
    }
}

import Foundation
import LoaAudio

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

    /// A file made by `sox -n … synth SECONDS` followed by `synth` (what to synthesise, then any effects).
    func synth(_ name: String, seconds: Double, rate: Int = 48000, channels: Int = 2, _ synth: [String]) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try run("/usr/bin/sox", ["-n", "-r", "\(rate)", "-c", "\(channels)", "-b", "24", url.path, "synth", "\(seconds)"] + synth)
        return url
    }

    /// Samples written by the test, converted by sox to `name` (24-bit; its extension picks the format).
    func write(_ name: String, samples: [Float], rate: Int, channels: Int) throws -> URL {
        let raw = folder.appendingPathComponent(name + ".f32")
        try samples.withUnsafeBufferPointer { try Data(buffer: $0).write(to: raw) }
        let url = folder.appendingPathComponent(name)
        try run("/usr/bin/sox", ["-t", "f32", "-r", "\(rate)", "-c", "\(channels)", raw.path, "-b", "24", url.path])
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

/// Everything `path` decodes to at 48 kHz stereo (a mono file copied to both channels).
func decodeAll(_ path: String) throws -> [Float] {
    let decoder = try SndFileDecoder(path: path)
    var all: [Float] = []
    var buffer = [Float](repeating: 0, count: 4096 * 2)
    while true {
        let n = try buffer.withUnsafeMutableBufferPointer { samples -> Int in
            guard let base = samples.baseAddress else { return 0 }
            return try decoder.read(into: base, frames: 4096)
        }
        if n == 0 { break }
        all += buffer[0..<(n * 2)]
    }
    return all
}

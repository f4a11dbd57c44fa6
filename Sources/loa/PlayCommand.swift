import ArgumentParser
import Foundation
import LoaAudio
import LoaCore

struct PlayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play", abstract: "Phát ngay các tệp, liền nhau, qua ALSA (thử đường âm thanh).")

    @Argument(help: "Tệp WAV, MP3, FLAC hoặc Ogg.") var files: [String]
    @Option(help: "Tên PCM của ALSA, ví dụ default, pulse, hw:0.") var device = "default"

    func run() async throws {
        let clock = SystemClock()
        let start = clock.now().addingTimeInterval(0.3)
        // Every item gets the first one's time: the engine then plays them back to back with no silence.
        let request = PlayoutRequest(items: files.map { PlayoutItem(path: $0, scheduledAt: start) })
        let device = self.device, files = self.files
        let engine = PlayoutEngine(clock: clock) { ALSAOutput(device: device) }
        let failures = FailureCount()
        await engine.play(request) { event in
            switch event {
            case let .starting(index, _):
                print("▶ \(files[index])")
            case let .ended(index, result, aired, _, _):
                switch result {
                case .completed: print("✓ \(files[index]) (\(seconds(aired)) s)")
                case let .failed(reason), let .skipped(reason):
                    failures.add()
                    FileHandle.standardError.write(Data("loa: \(reason)\n".utf8))
                case .truncated, .interrupted: print("■ \(files[index]) (\(seconds(aired)) s)")
                }
            }
        }
        if failures.count > 0 { throw ExitCode(1) }
    }
}

final class FailureCount: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() { lock.withLock { value += 1 } }
    var count: Int { lock.withLock { value } }
}

import ArgumentParser
import Foundation
import LoaAudio
import LoaConfig
import LoaCore

struct PlayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play", abstract: "Phát ngay các tệp, liền nhau, qua ALSA (thử đường âm thanh).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp(audioFileHelp)) var files: [String]
    @Option(help: "Tên PCM của ALSA, ví dụ default, pulse, hw:0 (mặc định: device trong loa.toml, nếu có; không thì default).")
    var device: String?

    func run() async throws {
        let clock = SystemClock()
        // A station's loa.toml, when there is one, names its device; without one, ALSA's default.
        let device = try self.device ?? global.configFileIfAny().map { try StationConfig.load($0).device } ?? "default"
        // Each file must open; its length is its own (0: not measured at import), so the files follow
        // each other back to back from a moment from now.
        for file in files { _ = try withStandardErrorSilenced { try SndFileDecoder(path: file) } }
        let entries = files.map { (path: $0, durationSeconds: 0.0, gainDB: 0.0) }
        let program = PlayoutProgram.now(entries, at: clock.now().addingTimeInterval(0.5))
        let files = self.files
        let engine = PlayoutEngine(clock: clock) { ALSAOutput(device: device) }
        let failures = FailureCount()
        await engine.play(program) { event in
            switch event {
            case let .starting(index, _, _, _, _):
                print("▶ \(files[index])")
            case let .ended(index, closing, _, _):
                let aired = closing.airedSeconds
                switch closing.outcome {
                case .completed: print("✓ \(files[index]) (\(formatSeconds(aired)))")
                case .truncated, .interrupted: print("■ \(files[index]) (\(formatSeconds(aired)))")
                default:
                    failures.add()
                    let reason = closing.reason.map { ReasonCatalogue.sentence($0) } ?? closing.outcome.label
                    FileHandle.standardError.write(Data("loa: \(files[index]): \(reason)\n".utf8))
                }
            case let .deviceLost(message):
                FileHandle.standardError.write(Data("loa: \(message)\n".utf8))
            case let .dropout(index, seconds):
                FileHandle.standardError.write(Data("loa: \(ReasonCatalogue.dropout(seconds: seconds, title: files[index], device: device))\n".utf8))
            case .deviceBack, .progress, .relay:
                break
            }
        }
        engine.shutdown()
        if failures.count > 0 { throw ExitCode(1) }
    }
}

final class FailureCount: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() { lock.withLock { value += 1 } }
    var count: Int { lock.withLock { value } }
}

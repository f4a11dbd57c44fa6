import Foundation
import LoaCore
import LoaFeed

/// Prints rows as aligned columns; widths count characters as a reader sees them.
func printTable(_ header: [String], _ rows: [[String]]) {
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, cell in
            i == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
        }.joined(separator: "  ")
    }
    print(line(header))
    print(widths.map { String(repeating: "─", count: $0) }.joined(separator: "  "))
    rows.forEach { print(line($0)) }
}

/// Pretty JSON with stable key order and UTF-8 kept readable.
func printJSON<T: Encodable>(_ value: T) throws { print(try jsonText(value), terminator: "") }

/// ``printJSON(_:)``'s text, ending in a line feed.
func jsonText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
}

func seconds(_ value: Double) -> String { String(format: "%.3f", value) }

/// Seconds kept to the millisecond for JSON, so floating-point noise never reaches a report.
func roundedToMilliseconds(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

/// What a command that takes audio files says it takes: what libsndfile reads, and what FFmpeg's libraries read of
/// what phones record and messaging apps send.
let audioFileHelp = "Tệp âm thanh: WAV, MP3, FLAC, Ogg, M4A/AAC, Opus, WebM, AMR hoặc WMA."

/// Runs `body` with file descriptor 2 pointed at /dev/null: libmpg123 and FFmpeg print their own notes about broken
/// frames, and the reason Loa gives is enough. Only for short commands that run nothing else meanwhile.
func withStandardErrorSilenced<T>(_ body: () throws -> T) throws -> T {
    let saved = dup(STDERR_FILENO)
    let null = open("/dev/null", O_WRONLY)
    if saved >= 0, null >= 0 { dup2(null, STDERR_FILENO) }
    defer {
        if saved >= 0 {
            dup2(saved, STDERR_FILENO)
            close(saved)
        }
        if null >= 0 { close(null) }
    }
    return try body()
}

/// `−23,1 LUFS, đỉnh −3,2 dBTP`, or that the file is silent.
func loudnessText(_ loudness: Loudness) -> String {
    let level = loudness.isSilent ? "im lặng (dưới \(decimalText(Loudness.silenceLUFS)) LUFS)" : "\(decimalText(loudness.integratedLUFS)) LUFS"
    return "\(level), đỉnh \(decimalText(loudness.truePeakDBTP)) dBTP"
}

/// One line redrawn in place on a terminal while files download.
final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private var last = ""

    func show(_ progress: DownloadProgress) {
        let fraction = progress.total > 0 ? Double(progress.received) / Double(progress.total) : 1
        let filled = Int(fraction * 24)
        let line = "\(progress.feed)/\(progress.entry) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 24 - filled))] "
            + "\(Int(fraction * 100))% \(progress.received / 1000)/\(progress.total / 1000) kB"
        lock.withLock {
            guard line != last else { return }
            last = line
            FileHandle.standardOutput.write(Data("\r\u{1B}[K\(line)".utf8))
        }
    }

    func clear() {
        lock.withLock {
            if !last.isEmpty { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
            last = ""
        }
    }
}

/// A value JSON always shows, as `null` when absent (a synthesized `Encodable` leaves a nil optional out).
struct Nullable<Value: Encodable>: Encodable {
    let value: Value?

    init(_ value: Value?) { self.value = value }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}

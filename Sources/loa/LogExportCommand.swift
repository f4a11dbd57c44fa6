import ArgumentParser
import Foundation
import LoaFeed
import LoaStore

struct LogExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Xuất nhật ký kèm chuỗi hash, ký bằng khóa của đài (signing_key): huyện kiểm bằng “loa verify”.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var period: PeriodOptions
    @Option(help: "csv hoặc ndjson.") var format: AiringExport.Format = .csv
    @Option(help: "Tệp xuất; chữ ký ghi vào FILE.sig bên cạnh.") var out: String

    /// Rows read and written at a time: memory stays flat whatever the log's size.
    static let batch: Int64 = 10_000

    func run() async throws {
        let station = try global.station(.read)
        guard let keyFile = station.config.signingKey else {
            throw OperatorError("\(station.config.file.path) chưa có “signing_key”: tạo khóa bằng “loa keygen --out PREFIX” rồi ghi signing_key = \"PREFIX.key\"")
        }
        let key = try FeedSigning.privateKey(at: keyFile.path)
        let range = try period.dates()
        let (start, end) = station.config.calendar.bounds(range.from, range.to)
        let span = try station.log.chainSpan(from: start, to: end)
        // Written under a temporary name and renamed: never a half-written export under the name asked for.
        let temporary = out + ".tmp"
        let header = AiringExport.header(format)
        guard FileManager.default.createFile(atPath: temporary, contents: header),
              let handle = FileHandle(forWritingAtPath: temporary) else {
            throw OperatorError("\(out): không ghi được (\(temporary))")
        }
        var digest = AiringExport.Digest()
        digest.update(header)
        var rows = 0
        do {
            try handle.seekToEnd()
            if let span {
                var low = span.lowerBound
                while low <= span.upperBound {
                    let chunk = try station.log.chain(low...min(low + Self.batch - 1, span.upperBound))
                    let data = AiringExport.encodeRows(chunk, format: format)
                    try handle.write(contentsOf: data)
                    digest.update(data)
                    rows += chunk.count
                    low += Self.batch
                }
            }
            try handle.synchronize()
            try handle.close()
            let signature = try FeedSigning.sign(digest.message, with: key)
            try Data((signature + "\n").utf8).write(to: URL(fileURLWithPath: out + ".sig"), options: .atomic)
            guard rename(temporary, out) == 0 else { throw OperatorError("\(out): không đổi tên được từ \(temporary)") }
        } catch {
            try? handle.close()
            unlink(temporary)
            if let error = error as? OperatorError { throw error }
            throw OperatorError("\(out): không ghi được: \(error.localizedDescription)")
        }
        if let span {
            print("Đã xuất \(rows) lượt phát (seq \(span.lowerBound)–\(span.upperBound)) vào \(out); chữ ký: \(out).sig")
        } else {
            print("Không có lượt phát nào đã kết thúc trong khoảng này; đã ghi \(out) (chỉ tiêu đề) và \(out).sig")
        }
    }
}

extension AiringExport.Format: ExpressibleByArgument {}

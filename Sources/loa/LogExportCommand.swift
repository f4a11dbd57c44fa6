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

    func run() async throws {
        let station = try global.station()
        guard let keyFile = station.config.signingKey else {
            throw OperatorError("\(station.config.file.path) chưa có “signing_key”: tạo khóa bằng “loa keygen --out PREFIX” rồi ghi signing_key = \"PREFIX.key\"")
        }
        let key = try FeedSigning.privateKey(at: keyFile.path)
        let range = try period.dates()
        let (start, end) = station.config.calendar.bounds(range.from, range.to)
        let rows = try station.log.chain(from: start, to: end)
        let data = AiringExport.encode(rows, format: format)
        let signature = try FeedSigning.sign(data, with: key)
        let file = URL(fileURLWithPath: out)
        do {
            try data.write(to: file, options: .atomic)
            try Data((signature + "\n").utf8).write(to: URL(fileURLWithPath: out + ".sig"), options: .atomic)
        } catch {
            throw OperatorError("\(out): không ghi được: \(error.localizedDescription)")
        }
        if let first = rows.first, let last = rows.last {
            print("Đã xuất \(rows.count) lượt phát (seq \(first.seq)–\(last.seq)) vào \(out); chữ ký: \(out).sig")
        } else {
            print("Không có lượt phát nào đã kết thúc trong khoảng này; đã ghi \(out) (chỉ tiêu đề) và \(out).sig")
        }
    }
}

extension AiringExport.Format: ExpressibleByArgument {}

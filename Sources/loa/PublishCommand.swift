import ArgumentParser
import Foundation
import LoaFeed

struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Bên phát: ký và xuất bản một thư mục bản tin thành feed (feed.json + feed.json.sig) cho máy chủ web.",
        discussion: """
        Mỗi tệp âm thanh có thể có tệp đi kèm cùng tên .toml (rcep.mp3 → rcep.toml) với các khóa: id, title, pillar,
        category, campaign, priority (normal, priority, emergency), valid_from, valid_until, airings_per_week hoặc
        airings_total. Không có tệp đi kèm thì tiêu đề là tên tệp. Xuất bản lại chỉ chép tệp mới hoặc đã đổi và tăng sequence.
        """)

    // Every command takes --config; these district-side ones do not read it.
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Thư mục chứa các tệp âm thanh (và tệp .toml đi kèm).") var directory: String
    @Option(name: .long, help: "Khóa bí mật do “loa keygen” tạo (PREFIX.key).") var key: String
    @Option(name: .long, help: "Thư mục feed mà máy chủ web phục vụ.") var out: String
    @Option(name: .long, help: "Tên bên phát ghi trong danh mục.") var publisher: String = "Đài Truyền thanh - Truyền hình huyện"
    @Option(name: .customLong("valid-days"), help: "Số ngày danh mục còn hiệu lực (mặc định 7); xã từ chối danh mục quá hạn, nên xuất bản lại trước đó.",
            transform: OptionValue.days)
    var validDays: Double = 7

    func run() throws {
        let publisher = FeedPublisher(source: URL(fileURLWithPath: directory).standardizedFileURL,
                                      output: URL(fileURLWithPath: out).standardizedFileURL,
                                      publisher: self.publisher, validSeconds: validDays * 86400)
        let report = try withStandardErrorSilenced { try publisher.publish(signingKey: key, now: SystemClock().now()) }
        for notice in report.notices { FileHandle.standardError.write(Data("loa: ⚠ \(notice)\n".utf8)) }
        let recopied = report.recopied.isEmpty ? "" : " (\(report.recopied.count) chép lại vì tệp trong thư mục feed không khớp SHA-256)"
        print("Đã xuất bản feed #\(report.sequence) vào \(out): \(report.added.count) mới, \(report.changed.count) thay đổi, "
              + "\(report.unchanged.count) giữ nguyên\(recopied), \(report.removed.count) gỡ bỏ")
    }
}

import ArgumentParser
import Foundation
import LoaConfig
import LoaCore
import LoaDaemon
import LoaStore

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Mô phỏng lịch phát trên đồng hồ ảo, không phát ra loa, ghi các lượt phát vào một cơ sở dữ liệu riêng.",
        discussion: """
            Bộ lập lịch thật chọn bản tin cho từng ngày từ thư viện của đài; mỗi bản tin được coi là phát trọn vẹn đúng giờ.
            Mặc định ghi vào cơ sở dữ liệu trong loa.toml, nhưng chỉ khi nhật ký ở đó chưa có lượt phát thật nào: lượt phát \
            mô phỏng (thiết bị “simulate”) không bao giờ lẫn vào nhật ký làm bằng chứng. Dùng để thử lịch phát và báo cáo: \
            loa report --database TỆP.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Từ ngày YYYY-MM-DD.") var from: String
    @Option(help: "Đến ngày YYYY-MM-DD (tính cả ngày này).") var to: String
    @Option(help: "Cơ sở dữ liệu nhận các lượt phát mô phỏng (mặc định: cơ sở dữ liệu trong loa.toml, nếu chưa có lượt phát thật).")
    var database: String?

    /// Rows written per transaction: a year of a busy schedule is a few dozen commits, each a few thousand rows.
    static let batch = 5000

    func run() async throws {
        let (first, last) = (try parseDate(from, option: "--from"), try parseDate(to, option: "--to"))
        if last < first { throw OperatorError("--to \(last) trước --from \(first)") }
        let config = try StationConfig.load(global.configFile())
        let target = database.map { URL(fileURLWithPath: $0) } ?? config.database
        let own = target.resolvingSymlinksInPath().standardizedFileURL == config.database.resolvingSymlinksInPath().standardizedFileURL
        // The station's own database is written only when the simulation goes into its (empty) log.
        let station = try Station.load(config: config, access: own ? .write : .read)
        let calendar = station.config.calendar
        let start = calendar.instant(first, .midnight)
        let simulated = own ? station.database : try StationDatabase(path: target)
        let log = AiringLog(simulated)
        if try log.hasAirings(notOn: Simulation.device) {
            throw OperatorError("\(target.path): nhật ký này có lượt phát thật; lượt phát mô phỏng phải ghi vào tệp khác (--database TỆP)")
        }
        if let latest = try log.latestScheduledAt(), latest >= start {
            throw OperatorError("\(target.path): đã có lượt phát mô phỏng đến \(calendar.rfc3339(latest)); chọn tệp khác hoặc mô phỏng từ sau ngày đó")
        }
        // The simulated log carries the library it was planned from, so its reports find requests and titles.
        let library = try station.library.all()
        if !own {
            let copied = SegmentLibrary(simulated)
            let known = Set(try copied.everything().map(\.id))
            for segment in library where !known.contains(segment.id) { try copied.add(segment, importedAt: start) }
        }

        var simulation = Simulation(planner: station.planner, slots: station.schedules.slots, library: library,
                                    station: station.config.station,
                                    history: try log.history(recentSince: start.addingTimeInterval(-8 * 86400)))
        var pending: [AiringRecord] = []
        var written = 0
        var day = first
        while day <= last {
            pending += simulation.airings(on: day)
            if pending.count >= SimulateCommand.batch || day == last {
                try log.insert(pending)
                written += pending.count
                pending.removeAll(keepingCapacity: true)
            }
            day = day.adding(days: 1)
        }
        print("Đã mô phỏng \(first) đến \(last): \(written) lượt phát ghi vào \(target.path)")
    }
}

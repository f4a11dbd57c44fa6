import Foundation
import LoaCore
import TOMLKit

/// What a publisher writes beside an audio file (`rcep.mp3` → `rcep.toml`) for `loa publish`: the
/// metadata and terms of that segment in the feed. Every key is optional; without a sidecar the title is
/// the file name.
public struct SegmentSidecar: Sendable, Hashable {
    public var id: String?
    public var title: String?
    public var pillar: Pillar?
    public var category: String?
    public var campaign: String?
    public var priority: Priority = .normal
    public var validFrom: LocalDate?
    public var validUntil: LocalDate?
    public var requested: RequestedAirings?

    public init() {}

    static let keys = ["id", "title", "pillar", "category", "campaign", "priority", "valid_from", "valid_until",
                       "airings_per_week", "airings_total"]

    /// Reads `file`; each problem is a diagnostic at its line.
    public static func load(_ file: URL) throws(ConfigError) -> SegmentSidecar {
        guard let data = FileManager.default.contents(atPath: file.path), let text = String(data: data, encoding: .utf8) else {
            throw .unreadable(path: file.path, reason: "không đọc được, hoặc không phải UTF-8")
        }
        return try parse(text, file: file.path)
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> SegmentSidecar {
        let table: TOMLTable
        do { table = try parseTOML(text, file: file) } catch { throw .invalid(error) }
        let root = TOMLLineIndex(text: text).table("")
        func fail(_ key: String, _ message: String) -> ConfigError {
            .invalid(Diagnostic(SourceLocation(file: file, line: root?.keys[key] ?? 1), message))
        }
        for key in table.keys where !keys.contains(key) {
            throw fail(key, UnknownKey.message(key, in: nil, known: keys))
        }
        func string(_ key: String) throws(ConfigError) -> String? {
            guard let value = table[key] else { return nil }
            guard let text = value.string, isOneLineText(text) else {
                throw fail(key, "“\(key)” phải là một dòng chữ, không rỗng, không xuống dòng hay ký tự điều khiển")
            }
            return text
        }
        func date(_ key: String) throws(ConfigError) -> LocalDate? {
            guard let value = table[key] else { return nil }
            if let date = value.date, let local = LocalDate(year: date.year, month: Int(date.month), day: Int(date.day)) { return local }
            if let text = value.string, let local = LocalDate(parsing: text) { return local }
            throw fail(key, "“\(key)” phải là ngày dạng 2026-12-31")
        }
        func count(_ key: String) throws(ConfigError) -> Int? {
            guard let value = table[key] else { return nil }
            guard let n = value.int, n > 0 else { throw fail(key, "“\(key)” phải là số nguyên dương") }
            return n
        }
        var sidecar = SegmentSidecar()
        sidecar.id = try string("id")
        if let id = sidecar.id, id.contains(where: { $0 == "/" || $0.isWhitespace }) {
            throw fail("id", "“id” không được chứa dấu cách hoặc “/”")
        }
        sidecar.title = try string("title")
        if let name = try string("pillar") {
            guard let pillar = Pillar(rawValue: name) else {
                throw fail("pillar", "trụ cột không hợp lệ “\(name)” (hợp lệ: \(Pillar.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            sidecar.pillar = pillar
        }
        sidecar.category = try string("category")
        sidecar.campaign = try string("campaign")
        if let name = try string("priority") {
            guard let priority = Priority(rawValue: name) else {
                throw fail("priority", "mức ưu tiên không hợp lệ “\(name)” (hợp lệ: normal, priority, emergency)")
            }
            sidecar.priority = priority
        }
        sidecar.validFrom = try date("valid_from")
        sidecar.validUntil = try date("valid_until")
        if let from = sidecar.validFrom, let until = sidecar.validUntil, until < from {
            throw fail("valid_until", "valid_until \(until) trước valid_from \(from)")
        }
        switch (try count("airings_per_week"), try count("airings_total")) {
        case (let week?, nil): sidecar.requested = .perWeek(week)
        case (nil, let total?): sidecar.requested = .total(total)
        case (nil, nil): break
        case (_?, _?): throw fail("airings_total", "chỉ ghi một trong airings_per_week và airings_total")
        }
        return sidecar
    }
}

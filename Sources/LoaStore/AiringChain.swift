import Crypto
import Foundation
import LoaCore

/// The hash chain over finished airing rows. When a row becomes final it takes the next sequence number and
/// the SHA-256 of the previous row's hash and its own canonical content, stored beside it. A row edited
/// afterwards no longer matches its stored hash; one removed, inserted or moved breaks the link after it. An
/// export carries the rows as these same texts with the chain, so the district recomputes every hash from
/// what it received (`loa verify`).
public enum AiringChain {
    /// The hash the first row links to.
    public static let origin = String(repeating: "0", count: 64)
    /// Names the canonical form rows are chained in now, first in what is hashed. A row keeps the form it was
    /// chained in: a later form is a new version, never a change to an old one.
    public static let version = 3
    /// The text each form's name hashes as, by version.
    public static func name(_ version: Int) -> String { "loa-airing-\(version)" }

    /// The fields of the canonical content, in the order they are hashed; also the leading columns of an export.
    public static let fields = ["seq", "id", "slot", "slot_starts_at", "segment", "title", "pillar", "category", "campaign",
                                "feed", "sha256", "kind", "scheduled_at", "planned_seconds", "started_at", "ended_at",
                                "aired_seconds", "lost_seconds", "outcome", "reason", "reason_code", "policy", "device", "xruns",
                                "station", "priority", "confirmed", "monitor_dbfs", "continues", "from_seconds"]

    /// Fields added to the export after its first columns (form 3): an export written before them has not got them.
    public static let addedInForm3: Set<String> = ["reason_code", "continues", "from_seconds"]

    /// Which of ``fields`` a form hashes, by position, in order; nil for a version this build does not know.
    /// Form 1 (rows chained before station, priority and confirmation were logged) hashes the fields up to `xruns`,
    /// form 2 those up to `monitor_dbfs`, each without `reason_code`; form 3 all of them.
    public static func hashed(_ version: Int) -> [Int]? {
        switch version {
        case 1: formOne
        case 2: formTwo
        case 3: Array(fields.indices)
        default: nil
        }
    }

    private static let formTwo = fields.indices.filter { !addedInForm3.contains(fields[$0]) }
    private static let formOne = formTwo.filter { $0 <= fields.firstIndex(of: "xruns") ?? 0 }

    /// The positions of ``fields`` a form does not hash (empty in a row of that form); nil for an unknown form.
    public static func unhashed(_ version: Int) -> [Int]? {
        switch version {
        case 1: notInFormOne
        case 2: notInFormTwo
        case 3: []
        default: nil
        }
    }

    private static let notInFormOne = fields.indices.filter { !formOne.contains($0) }
    private static let notInFormTwo = fields.indices.filter { !formTwo.contains($0) }

    /// The row's fields as the texts that are hashed and exported: instants in UTC to the millisecond
    /// (RFC 3339), seconds and levels with three decimals, an absent value as the empty text. A row of an
    /// earlier form has the fields it did not hash empty.
    public static func values(seq: Int64, version: Int = version, _ r: AiringRecord) -> [String] {
        let three = version >= 3
        var values = [String(seq), String(r.id ?? 0), r.slot, instant(r.slotStartsAt), r.segmentID, r.title,
                      r.pillar?.rawValue ?? "", r.category ?? "", r.campaign ?? "", r.feed ?? "", r.sha256 ?? "", r.kind.rawValue,
                      instant(r.scheduledAt), threeDecimals(r.plannedSeconds), r.startedAt.map(instant) ?? "",
                      r.endedAt.map(instant) ?? "", threeDecimals(r.airedSeconds), threeDecimals(r.lostSeconds), r.outcome.rawValue,
                      r.reason ?? "", three ? r.reasonCode?.rawValue ?? "" : "", r.policy?.rawValue ?? "", r.device ?? "",
                      String(r.xruns)]
        values.reserveCapacity(fields.count)
        if version >= 2 {
            values += [r.station ?? "", r.priority?.rawValue ?? "", r.confirmed?.rawValue ?? "", r.monitorDBFS.map(threeDecimals) ?? ""]
        } else {
            values += ["", "", "", ""]
        }
        values += three ? [r.continues.map { String($0) } ?? "", threeDecimals(r.fromSeconds)] : ["", ""]
        return values
    }

    /// SHA-256, in lowercase hex, of the previous hash, a line feed and the canonical content: the form's name
    /// and each field it hashes, separated by U+001F (a character no field holds: fields are one line of text).
    /// Nil for a form this build does not know.
    public static func link(previous: String, version: Int = version, values: [String]) -> String? {
        guard let hashed = hashed(version), values.count >= fields.count else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(640)
        bytes.append(contentsOf: previous.utf8)
        bytes.append(0x0A)
        bytes.append(contentsOf: name(version).utf8)
        for index in hashed {
            bytes.append(0x1F)
            bytes.append(contentsOf: values[index].utf8)
        }
        return hexText(SHA256.hash(data: bytes))
    }

    /// A row read back from its texts (``values(seq:version:_:)``); nil when an instant, a number or the outcome
    /// cannot be read. A reason code this build does not know is left out (its detail stays).
    public static func record(_ values: [String]) -> AiringRecord? {
        guard values.count >= fields.count, let id = Int64(values[1]), let slotStartsAt = instant(parsing: values[3]),
              let scheduledAt = instant(parsing: values[12]), let planned = Double(values[13]), let aired = Double(values[16]),
              let lost = Double(values[17]), let outcome = AiringOutcome(rawValue: values[18]), let xruns = Int(values[23]),
              let kind = ItemKind(rawValue: values[11]) else { return nil }
        func optional(_ index: Int) -> String? { values[index].isEmpty ? nil : values[index] }
        func time(_ index: Int) -> Date?? { values[index].isEmpty ? .some(nil) : instant(parsing: values[index]).map { $0 } }
        func number<N: LosslessStringConvertible>(_ index: Int) -> N?? { values[index].isEmpty ? .some(nil) : N(values[index]).map { $0 } }
        guard let startedAt = time(14), let endedAt = time(15), let continues: Int64? = number(28),
              let from: Double? = number(29) else { return nil }
        return AiringRecord(
            id: id, slot: values[2], slotStartsAt: slotStartsAt, segmentID: values[4], title: values[5],
            pillar: optional(6).flatMap(Pillar.init(rawValue:)), campaign: optional(8), path: values[4], sha256: optional(10),
            category: optional(7), feed: optional(9), scheduledAt: scheduledAt, plannedSeconds: planned, startedAt: startedAt,
            endedAt: endedAt, airedSeconds: aired, outcome: outcome, reason: optional(19),
            reasonCode: optional(20).flatMap(ReasonCode.init(rawValue:)), device: optional(22), kind: kind,
            policy: optional(21).flatMap(LatenessPolicy.init(rawValue:)), lostSeconds: lost, xruns: xruns,
            station: optional(24), priority: optional(25).flatMap(Priority.init(rawValue:)),
            confirmed: optional(26).flatMap(OnAirConfirmation.init(rawValue:)), monitorDBFS: optional(27).flatMap(Double.init),
            continues: continues, fromSeconds: from ?? 0)
    }

    /// Reads what ``instant(_:)`` writes: `2026-11-12T12:00:00.000Z`.
    static func instant(parsing text: String) -> Date? {
        let u = Array(text.utf8)
        guard u.count == 24, u[4] == 0x2D, u[7] == 0x2D, u[10] == 0x54, u[13] == 0x3A, u[16] == 0x3A, u[19] == 0x2E,
              u[23] == 0x5A else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var n = 0
            for c in u[range] {
                guard (0x30...0x39).contains(c) else { return nil }
                n = n * 10 + Int(c - 0x30)
            }
            return n
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
              let minute = number(14..<16), let second = number(17..<19), let milli = number(20..<23),
              let date = LocalDate(year: year, month: month, day: day), hour < 24, minute < 60, second < 60 else { return nil }
        let milliseconds = Int64(date.dayNumber) * 86_400_000 + Int64(hour * 3_600_000 + minute * 60_000 + second * 1000 + milli)
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// An instant as RFC 3339 in UTC, to the millisecond: `2026-11-12T12:00:00.000Z`.
    public static func instant(_ date: Date) -> String { RFC3339.string(date, offsetSeconds: nil) }

    /// A number (seconds, a level) with three decimals, rounded to the thousandth: `60.000`, `-0.250`.
    static func threeDecimals(_ value: Double) -> String { RFC3339.threeDecimals(value) }
}

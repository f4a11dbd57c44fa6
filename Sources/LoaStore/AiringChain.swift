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
    /// Names the canonical form, first in what is hashed: a later form would be a new version, never a change.
    public static let version = "loa-airing-1"

    /// The fields of the canonical content, in order; also the leading columns of an export.
    public static let fields = ["seq", "id", "slot", "slot_starts_at", "segment", "title", "pillar", "category", "campaign",
                                "feed", "sha256", "kind", "scheduled_at", "planned_seconds", "started_at", "ended_at",
                                "aired_seconds", "lost_seconds", "outcome", "reason", "policy", "device", "xruns"]

    /// The row's fields as the texts that are hashed and exported: instants in UTC to the millisecond
    /// (RFC 3339), seconds with three decimals, an absent value as the empty text.
    public static func values(seq: Int64, _ r: AiringRecord) -> [String] {
        [String(seq), String(r.id ?? 0), r.slot, instant(r.slotStartsAt), r.segmentID, r.title, r.pillar?.rawValue ?? "",
         r.category ?? "", r.campaign ?? "", r.feed ?? "", r.sha256 ?? "", r.kind.rawValue, instant(r.scheduledAt),
         seconds(r.plannedSeconds), r.startedAt.map(instant) ?? "", r.endedAt.map(instant) ?? "", seconds(r.airedSeconds),
         seconds(r.lostSeconds), r.outcome.rawValue, r.reason ?? "", r.policy?.rawValue ?? "", r.device ?? "",
         String(r.xruns)]
    }

    /// SHA-256, in lowercase hex, of the previous hash, a line feed and the canonical content: the version and
    /// each field, separated by U+001F (a character no field holds: fields are one line of text).
    public static func link(previous: String, values: [String]) -> String {
        var hasher = SHA256()
        hasher.update(data: Data((previous + "\n" + ([version] + values).joined(separator: "\u{1F}")).utf8))
        return hexText(hasher.finalize())
    }

    /// An instant as RFC 3339 in UTC, to the millisecond: `2026-11-12T12:00:00.000Z`.
    public static func instant(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let secondsPart = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let (whole, fraction) = secondsPart.remainder < 0
            ? (secondsPart.quotient - 1, secondsPart.remainder + 1000) : (secondsPart.quotient, secondsPart.remainder)
        var time = time_t(whole)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(fraction))
    }

    static func seconds(_ value: Double) -> String { String(format: "%.3f", value) }
}

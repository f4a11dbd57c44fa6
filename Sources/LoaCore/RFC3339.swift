import Foundation

/// RFC 3339 to the millisecond, the one writer of instants as text: station time with its offset
/// (`2026-11-12T17:15:00.000+07:00`, through ``StationCalendar/rfc3339(_:)``: `loa log`, `loa status`, the daemon's
/// log lines) and UTC with `Z` (`2026-11-12T10:15:00.000Z`: the log's chain and its export, where the text is hashed,
/// so it must never change). Written digit by digit: `String(format:)` was 6 % of the time of exporting a million
/// rows (BENCHMARKS.md).
public enum RFC3339 {
    /// `instant` at `offsetSeconds` from UTC, or in UTC with `Z` when it is nil. The instant is rounded to the
    /// millisecond first, so `…59.9996` is written as the next second.
    public static func string(_ instant: Date, offsetSeconds: Int?) -> String {
        let offset = Int64(offsetSeconds ?? 0)
        let milliseconds = Int64((instant.timeIntervalSince1970 * 1000).rounded()) + offset * 1000
        let (days, inDay) = floorDivision(milliseconds, 86_400_000)
        let date = LocalDate(dayNumber: Int(days))
        var out = [UInt8]()
        out.reserveCapacity(29)
        digits(Int64(date.year), 4, &out); out.append(0x2D); digits(Int64(date.month), 2, &out); out.append(0x2D)
        digits(Int64(date.day), 2, &out)
        out.append(0x54)
        digits(inDay / 3_600_000, 2, &out); out.append(0x3A); digits(inDay / 60_000 % 60, 2, &out); out.append(0x3A)
        digits(inDay / 1000 % 60, 2, &out); out.append(0x2E); digits(inDay % 1000, 3, &out)
        if offsetSeconds == nil {
            out.append(0x5A)
        } else {
            out.append(offset < 0 ? 0x2D : 0x2B)
            let minutes = abs(offset) / 60
            digits(minutes / 60, 2, &out); out.append(0x3A); digits(minutes % 60, 2, &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A number with three decimals, ASCII, rounded to the thousandth: `60.000`, `-0.250`. What the chain hashes and a
    /// reason's detail holds, so it reads back the same everywhere.
    public static func threeDecimals(_ value: Double) -> String {
        let milliseconds = Int64((value * 1000).rounded())
        var out = [UInt8]()
        if milliseconds < 0 { out.append(0x2D) }
        let magnitude = milliseconds.magnitude
        out.append(contentsOf: String(magnitude / 1000).utf8)
        out.append(0x2E)
        digits(Int64(magnitude % 1000), 3, &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The last `width` decimal digits of `value` (≥ 0), with leading zeros.
    private static func digits(_ value: Int64, _ width: Int, _ out: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(0x30 + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    private static func floorDivision(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let (q, r) = a.quotientAndRemainder(dividingBy: b)
        return r < 0 ? (q - 1, r + b) : (q, r)
    }
}

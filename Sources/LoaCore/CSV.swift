import Foundation

/// RFC 4180 CSV, written in one place for every CSV Loa makes: `loa log --format csv`, `loa report --format csv`
/// and `loa log export`. A field holding a comma, a double quote, a carriage return or a line feed is quoted, its
/// quotes doubled; every record ends in CRLF.
public enum CSV {
    /// `value` as one field. The test is on UTF-8 bytes, not `Character`s: in Swift `"\r\n"` is one `Character`,
    /// equal neither to `"\r"` nor to `"\n"`, so a title or a station name holding CRLF would go out unquoted and
    /// split its row in two.
    public static func field(_ value: String) -> String {
        guard value.utf8.contains(where: needsQuotes) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One record: `values` as fields, separated by commas, ending in CRLF.
    public static func record(_ values: [String]) -> String {
        var line = ""
        line.reserveCapacity(512)
        for (index, value) in values.enumerated() {
            if index > 0 { line.append(",") }
            line.append(field(value))
        }
        line.append("\r\n")
        return line
    }

    private static func needsQuotes(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
    }
}

import Foundation
import LoaCore

/// The file `loa log export` writes and `loa verify` checks: finished rows in chain order, each as the texts
/// its hash was computed over (``AiringChain/fields``), then `previous_hash` and `hash`. The columns are stable:
/// a later change would be a new ``AiringChain/version``.
///
/// - CSV: UTF-8 with a byte-order mark (so spreadsheets show the diacritics), a header line of the column
///   names, RFC 4180 quoting, CRLF line ends.
/// - NDJSON: one JSON object per line, every value a string, keys as the column names.
public enum AiringExport {
    public enum Format: String, Sendable, CaseIterable {
        case csv, ndjson
    }

    public static let columns = AiringChain.fields + ["previous_hash", "hash"]

    public static func encode(_ rows: [ChainedAiring], format: Format) -> Data {
        var out = format == .csv ? "\u{FEFF}" + csvLine(columns) : ""
        for row in rows {
            let values = AiringChain.values(seq: row.seq, row.record) + [row.previous, row.hash]
            switch format {
            case .csv: out += csvLine(values)
            case .ndjson: out += jsonLine(values)
            }
        }
        return Data(out.utf8)
    }

    /// What checking an export found.
    public enum Verdict: Sendable, Equatable {
        /// Every row matches its hash and links to the one before: `rows` rows, chain positions `first...last`.
        case intact(rows: Int, first: Int64?, last: Int64?)
        /// The first row that does not hold, in words naming its line and its airing.
        case broken(String)
    }

    /// Recomputes every row's hash from its texts and checks each link to the row before. A row whose texts
    /// were edited no longer matches its hash; a row removed, inserted or moved breaks the sequence or the link.
    public static func verify(_ data: Data) -> Verdict {
        let rows: [(line: Int, values: [String])]
        do { rows = try parse(data) } catch { return .broken((error as? ParseError)?.message ?? "\(error)") }
        let count = AiringChain.fields.count
        var before: (seq: Int64, hash: String)?
        for (line, values) in rows {
            let seqText = values[0], id = values[1], previous = values[count], stated = values[count + 1]
            let name = "dòng \(line) (lượt phát #\(id), seq \(seqText))"
            guard let seq = Int64(seqText) else { return .broken("\(name): seq không phải số") }
            if let before {
                if seq > before.seq + 1 {
                    return .broken("\(name): seq nhảy từ \(before.seq) lên \(seq): có dòng đã bị xóa hoặc đổi chỗ")
                }
                if seq <= before.seq {
                    return .broken("\(name): seq \(seq) sau seq \(before.seq): có dòng đã bị chèn hoặc đổi chỗ")
                }
                if previous != before.hash {
                    return .broken("\(name): không nối với dòng trước (previous_hash khác hash của dòng trước): có dòng đã bị chèn hoặc thay")
                }
            }
            guard AiringChain.link(previous: previous, values: Array(values[0..<count])) == stated else {
                return .broken("\(name): nội dung không khớp hash ghi lúc lượt phát kết thúc: dòng đã bị sửa")
            }
            before = (seq, stated)
        }
        return .intact(rows: rows.count, first: rows.first.flatMap { Int64($0.values[0]) }, last: before?.seq)
    }

    struct ParseError: Error {
        let message: String
    }

    /// The rows of an export, each with its line number in the file (the header is line 1 of a CSV).
    static func parse(_ data: Data) throws -> [(line: Int, values: [String])] {
        guard var text = String(data: data, encoding: .utf8) else { throw ParseError(message: "tệp không phải UTF-8") }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let width = columns.count
        if text.hasPrefix("{") {
            var rows: [(Int, [String])] = []
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw ParseError(message: "dòng \(index + 1): không phải một đối tượng JSON")
                }
                var values: [String] = []
                for column in columns {
                    guard let value = object[column] as? String else {
                        throw ParseError(message: "dòng \(index + 1): thiếu “\(column)” (hoặc không phải chuỗi)")
                    }
                    values.append(value)
                }
                rows.append((index + 1, values))
            }
            return rows
        }
        let records = csvRecords(text)
        guard let header = records.first, header.values == columns else {
            throw ParseError(message: "dòng 1: tiêu đề cột không phải của tệp xuất từ “loa log export”")
        }
        return try records.dropFirst().map { record in
            guard record.values.count == width else {
                throw ParseError(message: "dòng \(record.line): \(record.values.count) cột thay vì \(width)")
            }
            return (record.line, record.values)
        }
    }

    static func csvLine(_ values: [String]) -> String {
        values.map { value in
            value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
        }.joined(separator: ",") + "\r\n"
    }

    static func jsonLine(_ values: [String]) -> String {
        var fields: [String] = []
        for (column, value) in zip(columns, values) {
            var escaped = ""
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": escaped += "\\\""
                case "\\": escaped += "\\\\"
                case "\n": escaped += "\\n"
                case "\r": escaped += "\\r"
                case "\t": escaped += "\\t"
                case _ where scalar.value < 0x20: escaped += String(format: "\\u%04x", scalar.value)
                default: escaped.unicodeScalars.append(scalar)
                }
            }
            fields.append("\"\(column)\":\"\(escaped)\"")
        }
        return "{" + fields.joined(separator: ",") + "}\n"
    }

    /// RFC 4180 records with the line each starts on (a quoted field may span lines).
    static func csvRecords(_ text: String) -> [(line: Int, values: [String])] {
        var records: [(Int, [String])] = []
        var values: [String] = [], field = "", quoted = false, line = 1, start = 1, pendingQuote = false
        var any = false
        for character in text {
            if quoted {
                if pendingQuote {
                    pendingQuote = false
                    if character == "\"" { field.append("\""); continue }
                    quoted = false
                } else if character == "\"" {
                    pendingQuote = true
                    continue
                } else {
                    if character == "\n" || character == "\r\n" { line += 1 }
                    field.append(character)
                    continue
                }
            }
            switch character {
            case "\"" where field.isEmpty: quoted = true; any = true
            case ",": values.append(field); field = ""; any = true
            case "\n", "\r\n":
                if any || !field.isEmpty { values.append(field); records.append((start, values)) }
                values = []; field = ""; any = false
                line += 1
                start = line
            default: field.append(character); any = true
            }
        }
        if pendingQuote { quoted = false }
        if any || !field.isEmpty { values.append(field); records.append((start, values)) }
        return records
    }
}

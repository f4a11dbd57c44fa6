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

    /// A whole export of `rows`: ``header(_:)`` then ``encodeRows(_:format:)``.
    public static func encode(_ rows: [ChainedAiring], format: Format) -> Data {
        header(format) + encodeRows(rows, format: format)
    }

    /// What opens the file: the byte-order mark and the column names for CSV, nothing for NDJSON.
    public static func header(_ format: Format) -> Data {
        format == .csv ? Data(("\u{FEFF}" + csvLine(columns)).utf8) : Data()
    }

    /// Rows as lines of the file, to append after the header and the rows before them.
    public static func encodeRows(_ rows: [ChainedAiring], format: Format) -> Data {
        var out = ""
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
    /// Reads the rows one at a time: memory stays flat whatever the export's size (map a large file).
    public static func verify(_ data: Data) -> Verdict {
        let count = AiringChain.fields.count
        var before: (seq: Int64, hash: String)?
        var rows = 0
        var first: Int64?
        let failure: String? = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> String? in
            let bytes = raw.bindMemory(to: UInt8.self)
            do {
                try forEachRecord(bytes) { line, values in
                    let seqText = values[0], id = values[1], previous = values[count], stated = values[count + 1]
                    let name = "dòng \(line) (lượt phát #\(id), seq \(seqText))"
                    guard let seq = Int64(seqText) else { throw ParseError(message: "\(name): seq không phải số") }
                    if let before {
                        if seq > before.seq + 1 {
                            throw ParseError(message: "\(name): seq nhảy từ \(before.seq) lên \(seq): có dòng đã bị xóa hoặc đổi chỗ")
                        }
                        if seq <= before.seq {
                            throw ParseError(message: "\(name): seq \(seq) sau seq \(before.seq): có dòng đã bị chèn hoặc đổi chỗ")
                        }
                        if previous != before.hash {
                            throw ParseError(message: "\(name): không nối với dòng trước (previous_hash khác hash của dòng trước): có dòng đã bị chèn hoặc thay")
                        }
                    }
                    guard AiringChain.link(previous: previous, values: Array(values[0..<count])) == stated else {
                        throw ParseError(message: "\(name): nội dung không khớp hash ghi lúc lượt phát kết thúc: dòng đã bị sửa")
                    }
                    before = (seq, stated)
                    first = first ?? seq
                    rows += 1
                }
                return nil
            } catch let error as ParseError {
                return error.message
            } catch {
                return "\(error)"
            }
        }
        if let failure { return .broken(failure) }
        return .intact(rows: rows, first: first, last: before?.seq)
    }

    struct ParseError: Error {
        let message: String
    }

    /// Each row of an export with its line number in the file (a CSV's header is line 1), one at a time.
    static func forEachRecord(_ bytes: UnsafeBufferPointer<UInt8>,
                              _ body: (Int, [String]) throws -> Void) throws {
        var start = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
        let width = columns.count
        if start < bytes.count, bytes[start] == UInt8(ascii: "{") {
            var line = 0, position = start
            while position < bytes.count {
                line += 1
                var end = position
                while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
                if end > position {
                    let values = try jsonObject(UnsafeBufferPointer(rebasing: bytes[position..<end]), line: line)
                    try body(line, values)
                }
                position = end + 1
            }
            return
        }
        var header = true
        try csvRecords(UnsafeBufferPointer(rebasing: bytes[start...])) { line, values in
            if header {
                guard values == columns else {
                    throw ParseError(message: "dòng 1: tiêu đề cột không phải của tệp xuất từ “loa log export”")
                }
                header = false
                return
            }
            guard values.count == width else {
                throw ParseError(message: "dòng \(line): \(values.count) cột thay vì \(width)")
            }
            try body(line, values)
        }
        if header { throw ParseError(message: "dòng 1: tiêu đề cột không phải của tệp xuất từ “loa log export”") }
    }

    /// The values of one NDJSON line, in column order: a flat object whose values are all strings.
    static func jsonObject(_ bytes: UnsafeBufferPointer<UInt8>, line: Int) throws -> [String] {
        let bad = ParseError(message: "dòng \(line): không phải một đối tượng JSON của tệp xuất (mọi giá trị là chuỗi)")
        var i = 0
        func skipSpace() { while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0D { i += 1 } }
        func expect(_ c: UInt8) throws {
            skipSpace()
            guard i < bytes.count, bytes[i] == c else { throw bad }
            i += 1
        }
        func string() throws -> String {
            try expect(UInt8(ascii: "\""))
            var out: [UInt8] = []
            while i < bytes.count {
                let c = bytes[i]
                i += 1
                if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                guard c == UInt8(ascii: "\\") else { out.append(c); continue }
                guard i < bytes.count else { throw bad }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard i + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(code) else { throw bad }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    i += 4
                default: out.append(e)
                }
            }
            throw bad
        }
        var object: [String: String] = [:]
        try expect(UInt8(ascii: "{"))
        while true {
            let key = try string()
            try expect(UInt8(ascii: ":"))
            object[key] = try string()
            skipSpace()
            guard i < bytes.count else { throw bad }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { break }
            throw bad
        }
        return try columns.map { column in
            guard let value = object[column] else {
                throw ParseError(message: "dòng \(line): thiếu “\(column)” (hoặc không phải chuỗi)")
            }
            return value
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

    /// RFC 4180 records, each with the line it starts on (a quoted field may span lines), one at a time.
    static func csvRecords(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (Int, [String]) throws -> Void) throws {
        var values: [String] = [], field: [UInt8] = []
        var quoted = false, pendingQuote = false, any = false
        var line = 1, start = 1
        func endField() {
            if field.last == 0x0D, !quoted { field.removeLast() }
            values.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        for c in bytes {
            if quoted {
                if pendingQuote {
                    pendingQuote = false
                    if c == UInt8(ascii: "\"") { field.append(c); continue }
                    quoted = false
                } else if c == UInt8(ascii: "\"") {
                    pendingQuote = true
                    continue
                } else {
                    if c == 0x0A { line += 1 }
                    field.append(c)
                    continue
                }
            }
            switch c {
            case UInt8(ascii: "\"") where field.isEmpty:
                quoted = true
                any = true
            case UInt8(ascii: ","):
                endField()
                any = true
            case 0x0A:
                if any || !field.isEmpty {
                    endField()
                    try body(start, values)
                }
                values.removeAll(keepingCapacity: true)
                any = false
                line += 1
                start = line
            default:
                field.append(c)
                any = true
            }
        }
        if any || !field.isEmpty {
            endField()
            try body(start, values)
        }
    }
}

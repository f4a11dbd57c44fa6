import Crypto
import Foundation
import LoaCore

/// The file `loa log export` writes and `loa verify` checks: finished rows in chain order, each as the texts
/// its hash was computed over (``AiringChain/fields``; those a row's form did not hash are empty), then `version`
/// (the form: `loa-airing-3`), `previous_hash` and `hash`. Columns are only ever added, with a new
/// ``AiringChain/version``; an export with the columns of before form 3 is still read.
///
/// - CSV: UTF-8 with a byte-order mark (so spreadsheets show the diacritics), a header line of the column
///   names, RFC 4180 quoting, CRLF line ends.
/// - NDJSON: one JSON object per line, every value a string, keys as the column names.
public enum AiringExport {
    public enum Format: String, Sendable, CaseIterable {
        case csv, ndjson
    }

    public static let columns = AiringChain.fields + ["version", "previous_hash", "hash"]
    /// The columns of an export written before form 3 (no `reason_code`, `continues`, `from_seconds`): still read,
    /// each row's values put in ``columns``' places, the missing ones empty.
    static let firstColumns = columns.filter { !AiringChain.addedInForm3.contains($0) }
    /// For each of ``columns``, where a first-layout row has it (nil: it has not).
    static let fromFirstColumns: [Int?] = columns.map { firstColumns.firstIndex(of: $0) }

    /// What `FILE.sig` signs: the SHA-256 of the file's exact bytes (32 bytes), computed as the file is written
    /// or read, so neither side holds a large export in memory (Ed25519 reads its whole message twice).
    public struct Digest {
        private var hasher = SHA256()

        public init() {}

        public mutating func update(_ data: Data) { hasher.update(data: data) }

        /// The message the signature covers.
        public var message: Data { Data(hasher.finalize()) }
    }

    /// A whole export of `rows`: ``header(_:)`` then ``encodeRows(_:format:)``.
    public static func encode(_ rows: [ChainedAiring], format: Format) -> Data {
        header(format) + encodeRows(rows, format: format)
    }

    /// What opens the file: the byte-order mark and the column names for CSV, nothing for NDJSON.
    public static func header(_ format: Format) -> Data {
        format == .csv ? Data(("\u{FEFF}" + CSV.record(columns)).utf8) : Data()
    }

    /// Rows as lines of the file, to append after the header and the rows before them.
    public static func encodeRows(_ rows: [ChainedAiring], format: Format) -> Data {
        var out = ""
        for row in rows {
            let values = AiringChain.values(seq: row.seq, version: row.version, row.record)
                + [AiringChain.name(row.version), row.previous, row.hash]
            switch format {
            case .csv: out += CSV.record(values)
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
        var verification = Verification()
        verification.feed(data)
        return verification.verdict
    }

    /// ``verify(_:)`` on the file at `path`, read once, 1 MiB at a time (memory stays flat whatever its size),
    /// with the digest its signature covers (``Digest``), taken in the same read.
    public static func verify(fileAt path: String) -> (verdict: Verdict, digest: Data) {
        let (verdict, digest, _) = read(fileAt: path, keepingRecords: false)
        return (verdict, digest)
    }

    /// The rows of the export at `path` as records (`loa report --merge`), with the verdict on its chain and the
    /// digest its signature covers; the records stop at the first row that does not hold.
    public static func records(fileAt path: String) -> (verdict: Verdict, digest: Data, records: [AiringRecord]) {
        read(fileAt: path, keepingRecords: true)
    }

    private static func read(fileAt path: String, keepingRecords: Bool) -> (Verdict, Data, [AiringRecord]) {
        var verification = Verification(keepingRecords: keepingRecords)
        guard let handle = FileHandle(forReadingAtPath: path) else { return (.broken("\(path): không đọc được"), Data(), []) }
        defer { try? handle.close() }
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { verification.feed(chunk) }
        } catch {
            return (.broken("\(path): lỗi khi đọc: \(error.localizedDescription)"), Data(), [])
        }
        return (verification.verdict, verification.digest.message, verification.records)
    }

    /// An export checked as its bytes arrive, in pieces of any size. Past the first row that fails, the rest is
    /// still taken into the digest, so the signature can be checked whatever the rows say.
    struct Verification {
        private let check: ChainCheck
        private var reader = RecordReader()
        private var failure: String?
        private(set) var digest = Digest()

        init(keepingRecords: Bool = false) { check = ChainCheck(keepingRecords: keepingRecords) }

        /// The rows read so far that held, when asked to keep them.
        var records: [AiringRecord] { check.records }

        mutating func feed(_ chunk: Data) {
            digest.update(chunk)
            guard failure == nil else { return }
            let check = self.check
            do {
                try chunk.withUnsafeBytes { raw in try reader.consume(raw.bindMemory(to: UInt8.self), check.row) }
            } catch {
                failure = Self.describe(error)
            }
        }

        var verdict: Verdict {
            mutating get {
                if failure == nil {
                    do { try reader.finish(check.row) } catch { failure = Self.describe(error) }
                }
                if let failure { return .broken(failure) }
                return .intact(rows: check.rows, first: check.first, last: check.before?.seq)
            }
        }

        private static func describe(_ error: any Error) -> String { (error as? ParseError)?.message ?? "\(error)" }
    }

    /// Checks rows one after another against their hashes and links.
    final class ChainCheck {
        var before: (seq: Int64, hash: String)?
        var rows = 0
        var first: Int64?
        let keepingRecords: Bool
        var records: [AiringRecord] = []

        init(keepingRecords: Bool) { self.keepingRecords = keepingRecords }

        func row(_ line: Int, _ values: [String]) throws {
            let count = AiringChain.fields.count
            let seqText = values[0], id = values[1], form = values[count], previous = values[count + 1], stated = values[count + 2]
            let name = "dòng \(line) (lượt phát #\(id), seq \(seqText))"
            guard let seq = Int64(seqText) else { throw ParseError(message: "\(name): seq không phải số") }
            guard let version = (1...AiringChain.version).first(where: { AiringChain.name($0) == form }),
                  let unhashed = AiringChain.unhashed(version) else {
                throw ParseError(message: "\(name): dạng “\(form)” không biết (bản loa này đọc tới \(AiringChain.name(AiringChain.version)))")
            }
            // A field the row's form did not hash must be empty: anything there would not be covered by the hash.
            if let unhashed = unhashed.first(where: { !values[$0].isEmpty }) {
                throw ParseError(message: "\(name): cột \(AiringChain.fields[unhashed]) có giá trị nhưng dạng \(form) không băm cột này: dòng đã bị sửa")
            }
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
            guard AiringChain.link(previous: previous, version: version, values: values) == stated else {
                throw ParseError(message: "\(name): nội dung không khớp hash ghi lúc lượt phát kết thúc: dòng đã bị sửa")
            }
            before = (seq, stated)
            first = first ?? seq
            rows += 1
            if keepingRecords {
                guard let record = AiringChain.record(values) else {
                    throw ParseError(message: "\(name): giá trị không đọc được (thời điểm, số giây hoặc kết quả)")
                }
                records.append(record)
            }
        }
    }

    struct ParseError: Error {
        let message: String
    }

    /// Reads an export's rows from consecutive chunks of its bytes, each with its line number in the file (a
    /// CSV's header is line 1): the format is told by the first byte after the byte-order mark.
    struct RecordReader {
        private enum Format { case unknown, csv, ndjson }
        private var format = Format.unknown
        private var started = false
        // CSV (RFC 4180): the state of one record, kept across chunks.
        private var values: [String] = [], field: [UInt8] = []
        private var quoted = false, pendingQuote = false, any = false
        private var line = 1, start = 1
        private var header = true
        /// The header named the columns of an export written before form 3.
        private var firstLayout = false
        // NDJSON: the part of a line a chunk ended in.
        private var pending: [UInt8] = []

        mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>, _ body: (Int, [String]) throws -> Void) throws {
            var bytes = chunk[...]
            if !started {
                // A chunk of 1 MiB always holds the mark and the first byte; a tiny test input is whole.
                if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
                guard let first = bytes.first else { return }
                format = first == UInt8(ascii: "{") ? .ndjson : .csv
                started = true
            }
            switch format {
            case .ndjson:
                for c in bytes {
                    if c == 0x0A { try endLine(body) } else { pending.append(c) }
                }
            case .csv, .unknown:
                for c in bytes { try csv(c, body) }
            }
        }

        mutating func finish(_ body: (Int, [String]) throws -> Void) throws {
            switch format {
            case .ndjson: if !pending.isEmpty { try endLine(body) }
            case .csv:
                if any || !field.isEmpty {
                    endField()
                    try record(body)
                }
                if header { throw ParseError(message: "dòng 1: tiêu đề cột không phải của tệp xuất từ “loa log export”") }
            case .unknown: break
            }
        }

        private mutating func endLine(_ body: (Int, [String]) throws -> Void) throws {
            line += 1
            if !pending.isEmpty {
                let values = try pending.withUnsafeBufferPointer { try AiringExport.jsonObject($0, line: line - 1) }
                try body(line - 1, values)
            }
            pending.removeAll(keepingCapacity: true)
        }

        private mutating func endField() {
            if field.last == 0x0D, !quoted { field.removeLast() }
            values.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }

        private mutating func record(_ body: (Int, [String]) throws -> Void) throws {
            defer { values.removeAll(keepingCapacity: true) }
            if header {
                if values == AiringExport.firstColumns {
                    firstLayout = true
                } else if values != AiringExport.columns {
                    throw ParseError(message: "dòng 1: tiêu đề cột không phải của tệp xuất từ “loa log export”")
                }
                header = false
                return
            }
            let expected = firstLayout ? AiringExport.firstColumns.count : AiringExport.columns.count
            guard values.count == expected else {
                throw ParseError(message: "dòng \(start): \(values.count) cột thay vì \(expected)")
            }
            try body(start, firstLayout ? AiringExport.fromFirstColumns.map { $0.map { values[$0] } ?? "" } : values)
        }

        private mutating func csv(_ c: UInt8, _ body: (Int, [String]) throws -> Void) throws {
            if quoted {
                if pendingQuote {
                    pendingQuote = false
                    if c == UInt8(ascii: "\"") { field.append(c); return }
                    quoted = false
                } else if c == UInt8(ascii: "\"") {
                    pendingQuote = true
                    return
                } else {
                    if c == 0x0A { line += 1 }
                    field.append(c)
                    return
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
                    try record(body)
                }
                any = false
                line += 1
                start = line
            default:
                field.append(c)
                any = true
            }
        }
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
            // An export written before form 3 has not got its fields: they are empty, as that row's form did not hash them.
            guard let value = object[column] ?? (AiringChain.addedInForm3.contains(column) ? "" : nil) else {
                throw ParseError(message: "dòng \(line): thiếu “\(column)” (hoặc không phải chuỗi)")
            }
            return value
        }
    }

    static func jsonLine(_ values: [String]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(1024)
        out.append(UInt8(ascii: "{"))
        for (index, (column, value)) in zip(columns, values).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: column.utf8)
            out.append(contentsOf: "\":\"".utf8)
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
                case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
                case 0x0A: out.append(contentsOf: "\\n".utf8)
                case 0x0D: out.append(contentsOf: "\\r".utf8)
                case 0x09: out.append(contentsOf: "\\t".utf8)
                case 0..<0x20: out.append(contentsOf: String(format: "\\u%04x", byte).utf8)
                default: out.append(byte)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(contentsOf: "}\n".utf8)
        return String(decoding: out, as: UTF8.self)
    }
}

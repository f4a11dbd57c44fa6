import LoaCore
import TOMLKit

/// The UTF-8 byte order mark Windows Notepad writes at the start of a file: read past, and kept by edits.
let byteOrderMark = "\u{FEFF}"

/// Parses TOML text, turning a syntax error into a diagnostic at the line and column TOMLKit found, said in
/// Vietnamese with what to fix; TOMLKit's own words stay in parentheses for a technician.
func parseTOML(_ text: String, file: String) throws(Diagnostic) -> TOMLTable {
    // toml++ reads past a BOM itself; taking it off here does not depend on that.
    let body = text.utf8.starts(with: byteOrderMark.utf8) ? String(decoding: text.utf8.dropFirst(byteOrderMark.utf8.count), as: UTF8.self) : text
    do { return try TOMLTable(string: body) } catch let error as TOMLParseError {
        throw Diagnostic(SourceLocation(file: file, line: error.source.begin.line, column: error.source.begin.column),
                         TOMLSyntax.message(error.description))
    } catch {
        throw Diagnostic(SourceLocation(file: file, line: 1), TOMLSyntax.message("\(error)"))
    }
}

/// TOMLKit's (toml++'s) English syntax errors, explained.
enum TOMLSyntax {
    /// `cú pháp TOML sai (Error while parsing …): what it means and what to do`. The detail is kept on one line.
    static func message(_ detail: String) -> String {
        let oneLine = detail.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
        return "cú pháp TOML sai (\(oneLine)): \(advice(detail))"
    }

    /// What to do, for the errors a person typing loa.toml or a schedule by hand makes; a general hint otherwise.
    static func advice(_ detail: String) -> String {
        let quoted = detail.split(separator: "'", omittingEmptySubsequences: false)
        let name = quoted.count >= 3 ? String(quoted[1]) : nil
        func has(_ text: String) -> Bool { detail.contains(text) }
        if has("parsing string") || has("parsing literal string") || has("parsing multi-line") {
            if has("unknown escape sequence") {
                return "dấu \\ trong chuỗi ngoặc kép mở đầu một ký tự đặc biệt: viết \\\\ hoặc dùng ngoặc đơn '…' cho đường dẫn"
            }
            return "chuỗi chưa đóng: thêm dấu ngoặc kép \" ở cuối giá trị (một chuỗi phải nằm trọn trên một dòng)"
        }
        if has("cannot redefine existing table"), has("table header"), let name {
            return "bảng [\(name)] khai báo hai lần: gộp các dòng của nó dưới một dòng [\(name)]"
        }
        if has("cannot redefine existing"), let name {
            return has("as table") ? "“\(name)” đã có giá trị ở trên, không khai báo lại thành bảng được"
                : "khóa “\(name)” viết hai lần: xóa một dòng"
        }
        if has("expected '='") {
            return "thiếu dấu = giữa khóa và giá trị (tên khóa chỉ gồm chữ không dấu, số, - và _)"
        }
        if has("could not determine value type") || has("parsing boolean") {
            return "giá trị không hợp lệ: chữ đặt trong ngoặc kép (ví dụ device = \"hw:1\"), số viết không ngoặc, có/không viết true hoặc false"
        }
        if has("expected value") { return "thiếu giá trị sau dấu =" }
        if has("expected a comment or whitespace") {
            return "sau giá trị chỉ được có chú thích bắt đầu bằng #: mỗi khóa một dòng, chữ nằm trọn trong ngoặc kép"
        }
        if has("parsing array") { return "danh sách chưa đóng: các phần tử cách nhau bằng dấu phẩy, kết thúc bằng ]" }
        if has("parsing inline table") {
            return "bảng trên một dòng {…} sai: các cặp khóa = giá trị cách nhau bằng dấu phẩy, không có dấu phẩy cuối, đóng bằng } trên cùng dòng"
        }
        if has("parsing table header") || has("parsing table array header") {
            return "dòng tên bảng phải là [tên] hoặc [[tên]], đóng ngoặc trên cùng dòng"
        }
        if has("parsing date") || has("parsing time") || has("parsing date-time") {
            return "ngày giờ không hợp lệ: ngày viết YYYY-MM-DD, giờ viết trong ngoặc kép như \"17:30\""
        }
        if has("leading zeroes") { return "số không được bắt đầu bằng 0: viết 1, không phải 01 (giờ và ngày đặt trong ngoặc kép)" }
        if has("parsing floating-point") || has("parsing decimal integer") || has("parsing integer") {
            return "số không hợp lệ: số thập phân viết dấu chấm với chữ số hai bên, ví dụ -16.5"
        }
        if has("expected keys, tables, whitespace or comments") {
            return "dòng này không phải khóa = giá trị, [bảng] hay chú thích bắt đầu bằng #"
        }
        return "kiểm tra dấu ngoặc kép, dấu = và dấu phẩy ở dòng này"
    }
}

/// Where each key of a TOML document was written. TOMLKit parses values but forgets their lines,
/// so this reads the raw text once to point errors at `file:line`.
public struct TOMLLineIndex: Sendable {
    /// A table as written: `[name]`, `[[name]]`, or the root (name "").
    public struct Section: Sendable {
        public let name: String
        public let isArrayElement: Bool
        public let line: Int
        /// Key → 1-based line of its `key =`.
        public var keys: [String: Int]
        /// Keys in the order written, with their lines.
        public var orderedKeys: [(key: String, line: Int)]
    }

    public private(set) var sections: [Section]
    /// The positions in ``sections`` of each `[[name]]`, in order: a schedule of thousands of slots finds each in
    /// one step, not by a scan of all the tables.
    private var arrayPositions: [String: [Int]] = [:]

    public init(text: String) {
        var sections = [Section(name: "", isArrayElement: false, line: 1, keys: [:], orderedKeys: [])]
        var depth = 0 // open brackets of a multi-line value
        var inMultilineString: String? = nil
        // A CRLF line end is one `Character` in Swift: splitting on "\n" alone kept a Windows-edited file one line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (i, rawLine) in lines.enumerated() {
            let number = i + 1
            // A BOM is not a character of the first line: `[[slot]]` right after it is still a header.
            let line = (i == 0 ? rawLine.drop { $0 == "\u{FEFF}" } : rawLine).trimmingCharacters(in: .whitespaces)
            if let delimiter = inMultilineString {
                if TOMLLineIndex.occurrences(of: delimiter, in: line) % 2 == 1 { inMultilineString = nil }
                continue
            }
            if depth > 0 {
                depth += TOMLLineIndex.bracketBalance(line)
                continue
            }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[[") {
                let name = TOMLLineIndex.headerName(line.dropFirst(2), closing: "]]")
                sections.append(Section(name: name, isArrayElement: true, line: number, keys: [:], orderedKeys: []))
                continue
            }
            if line.hasPrefix("[") {
                let name = TOMLLineIndex.headerName(line.dropFirst(), closing: "]")
                sections.append(Section(name: name, isArrayElement: false, line: number, keys: [:], orderedKeys: []))
                continue
            }
            guard let eq = TOMLLineIndex.firstUnquotedEquals(line) else { continue }
            let key = TOMLLineIndex.unquote(line[..<eq].trimmingCharacters(in: .whitespaces))
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            let last = sections.count - 1
            if sections[last].keys[key] == nil { sections[last].keys[key] = number }
            // `loudness.target_lufs = …` writes the key `loudness`.
            if !key.contains("\""), !key.contains("'"), let dot = key.firstIndex(of: ".") {
                let first = key[..<dot].trimmingCharacters(in: .whitespaces)
                if sections[last].keys[first] == nil { sections[last].keys[first] = number }
            }
            sections[last].orderedKeys.append((key, number))
            for delimiter in ["\"\"\"", "'''"] where value.hasPrefix(delimiter) {
                if TOMLLineIndex.occurrences(of: delimiter, in: value) == 1 { inMultilineString = delimiter }
            }
            depth = max(0, TOMLLineIndex.bracketBalance(value))
        }
        self.sections = sections
        for (position, section) in sections.enumerated() where section.isArrayElement {
            arrayPositions[section.name, default: []].append(position)
        }
    }

    /// Every `[[name]]` table, in order.
    public func arrayElements(_ name: String) -> [Section] { (arrayPositions[name] ?? []).map { sections[$0] } }

    /// The line where `key` of `section` is written: its `key =` line, else the header of a table below it
    /// (`[misc]` for a key of the root, `[loudness.extra]` for one of `[loudness]`), else the section's header.
    func line(of key: String, in section: Section) -> Int {
        section.keys[key] ?? header(of: key, in: section)?.line ?? section.line
    }

    /// The first table header that writes `key` of `section` as a table of its own, at or after the section.
    func header(of key: String, in section: Section) -> Section? {
        let name = section.name.isEmpty ? key : section.name + "." + key
        return sections.first { $0.line >= section.line && ($0.name == name || $0.name.hasPrefix(name + ".")) }
    }

    /// The `[name]` table, or the root for "".
    public func table(_ name: String) -> Section? {
        sections.first { !$0.isArrayElement && $0.name == name }
    }

    static func headerName(_ rest: Substring, closing: String) -> String {
        let body = rest.range(of: closing).map { rest[..<$0.lowerBound] } ?? rest
        return unquote(body.trimmingCharacters(in: .whitespaces))
    }

    static func unquote(_ key: String) -> String {
        if key.count >= 2, let f = key.first, f == "\"" || f == "'", key.last == f {
            return String(key.dropFirst().dropLast())
        }
        return key
    }

    static func occurrences(of needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    static func firstUnquotedEquals(_ line: String) -> String.Index? {
        var quote: Character? = nil
        var i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "=" {
                return i
            } else if c == "#" {
                return nil
            }
            i = line.index(after: i)
        }
        return nil
    }

    /// Opening minus closing brackets outside strings and comments.
    static func bracketBalance(_ text: String) -> Int {
        var balance = 0
        var quote: Character? = nil
        for c in text {
            if let q = quote {
                if c == q { quote = nil }
                continue
            }
            switch c {
            case "\"", "'": quote = c
            case "[", "{": balance += 1
            case "]", "}": balance -= 1
            case "#": return balance
            default: break
            }
        }
        return balance
    }
}

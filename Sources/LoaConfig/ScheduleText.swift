import LoaCore
import TOMLKit

/// A schedule file's text, edited line by line so that everything an edit does not touch stays byte-identical:
/// comments, blank lines, key order, quoting, alignment, line endings (LF or CRLF) and a byte order mark.
///
/// Edits work on the raw lines, not on a parsed-and-reprinted document (TOMLKit would drop the comments). Slots
/// are found by their `[[slot]]` headers and `id` line even when the rest of the file does not validate, so a
/// broken slot can still be fixed or removed from the CLI.
public struct ScheduleText: Sendable, Equatable {
    /// The lines, each with its own terminator ("\n", "\r\n", or none for a last line without one).
    public private(set) var lines: [String]
    /// The terminator new lines get: the file's own (its first line's), LF for a new file.
    public let newline: String
    /// The UTF-8 byte order mark the file starts with (Windows Notepad writes one), or "": not part of the first
    /// line, it stays in front whatever an edit does to the lines.
    public let byteOrderMark: String

    public init(_ text: String) {
        byteOrderMark = text.utf8.starts(with: LoaConfig.byteOrderMark.utf8) ? LoaConfig.byteOrderMark : ""
        var lines: [String] = []
        var current: [UInt8] = []
        for byte in text.utf8.dropFirst(byteOrderMark.utf8.count) {
            current.append(byte)
            if byte == UInt8(ascii: "\n") {
                lines.append(String(decoding: current, as: UTF8.self))
                current = []
            }
        }
        if !current.isEmpty { lines.append(String(decoding: current, as: UTF8.self)) }
        self.lines = lines
        newline = lines.first(where: ScheduleText.isTerminated).map { $0.utf8.suffix(2).elementsEqual("\r\n".utf8) ? "\r\n" : "\n" } ?? "\n"
    }

    public var text: String { byteOrderMark + lines.joined() }

    /// One `[[slot]]` table as written: line indices are 0-based into ``lines``.
    public struct SlotBlock: Sendable {
        /// The slot's `id`, or nil when it has none that reads as a string.
        public let id: String?
        /// The `[[slot]]` line.
        public let header: Int
        /// The comment lines right above the header (no blank line between): they describe this slot.
        public let leadingComments: Range<Int>
        /// The last line of the slot's last value (a multi-line array ends on its `]`), or the header.
        public let lastValueLine: Int
        /// The header through the last value, and comment lines right after it that do not lead the next table.
        public let body: ClosedRange<Int>
        /// Each key with the lines of its value, in the order written.
        public let keys: [(key: String, lines: ClosedRange<Int>)]

        public func lines(of key: String) -> ClosedRange<Int>? { keys.first { $0.key == key }?.lines }
    }

    /// The file's `[[slot]]` tables, in order.
    public var slots: [SlotBlock] {
        let index = TOMLLineIndex(text: lines.joined())
        let sections = index.sections
        return sections.indices.compactMap { position -> SlotBlock? in
            let section = sections[position]
            guard section.isArrayElement, section.name == "slot" else { return nil }
            let header = section.line - 1
            // The next table's header (sections are in file order; the root, first, has none).
            let nextHeader = position + 1 < sections.count ? sections[position + 1].line - 1 : lines.count
            var keys: [(String, ClosedRange<Int>)] = []
            for (key, line) in section.orderedKeys {
                keys.append((key, (line - 1)...valueEnd(from: line - 1, before: nextHeader)))
            }
            let lastValue = keys.last?.1.upperBound ?? header
            // Comments just below the last value belong to this slot, unless they run on into the next table's header.
            var end = lastValue
            var probe = lastValue + 1
            while probe < nextHeader, isComment(probe) { probe += 1 }
            if probe > lastValue + 1, probe == nextHeader, nextHeader < lines.count {
                // They lead the next table.
            } else {
                end = probe - 1
            }
            var first = header
            while first > 0, isComment(first - 1) { first -= 1 }
            let idValue = section.keys["id"].flatMap { ScheduleText.value(ofLine: lines[$0 - 1])?.string }
            return SlotBlock(id: idValue, header: header, leadingComments: first..<header, lastValueLine: lastValue,
                             body: header...end, keys: keys)
        }
    }

    /// The one slot with this id, or nil.
    public func slot(_ id: String) -> SlotBlock? { slots.first { $0.id == id } }

    // MARK: - Edits

    /// Appends a slot written as `key = value` lines, after one blank line. Removing it again gives back the
    /// file as it was: a file without a final newline gets a slot without one.
    public mutating func append(slot values: [(key: String, value: String)]) {
        let body = ["[[slot]]"] + values.map { "\($0.key) = \($0.value)" }
        if lines.isEmpty {
            lines = body.map { $0 + newline }
            return
        }
        let endsWithNewline = ScheduleText.isTerminated(lines[lines.count - 1])
        if !endsWithNewline { lines[lines.count - 1] += newline }
        lines.append(newline)
        lines += body.map { $0 + newline }
        if !endsWithNewline { lines[lines.count - 1] = ScheduleText.dropTerminator(lines[lines.count - 1]) }
    }

    /// Removes a slot with the comments that lead it and one blank line that separated it from what came before
    /// (or, at the top of the file, after it).
    public mutating func remove(_ block: SlotBlock) {
        var range = block.leadingComments.lowerBound...block.body.upperBound
        if range.lowerBound > 0, isBlank(range.lowerBound - 1) {
            range = (range.lowerBound - 1)...range.upperBound
        } else if range.upperBound + 1 < lines.count, isBlank(range.upperBound + 1) {
            range = range.lowerBound...(range.upperBound + 1)
        }
        removeLines(range)
    }

    /// Sets `key` in `block` to `value` (already TOML). A key that is there keeps its line's indentation, the text
    /// before its value and its trailing comment; a new key goes after the slot's last value.
    public mutating func set(_ key: String, to value: String, in block: SlotBlock) {
        if let span = block.lines(of: key) {
            replace(span, withKey: key, value: value, keepingComment: true)
        } else {
            insert("\(ScheduleText.indentation(of: lines[block.lastValueLine]))\(key) = \(value)", after: block.lastValueLine)
        }
    }

    /// Writes `key = value` where `old` was (a slot switching from `pillar` to `play`), or at the end when `old`
    /// is not there. The old key's comment described it, so it goes with it.
    public mutating func replace(_ old: String, with key: String, value: String, in block: SlotBlock) {
        guard let span = block.lines(of: old) else { return set(key, to: value, in: block) }
        replace(span, withKey: key, value: value, keepingComment: false)
    }

    /// Removes `key` and its value's lines from `block`; nothing when it is not there.
    public mutating func remove(_ key: String, from block: SlotBlock) {
        if let span = block.lines(of: key) { removeLines(span) }
    }

    // MARK: - Lines

    private mutating func replace(_ span: ClosedRange<Int>, withKey key: String, value: String, keepingComment: Bool) {
        let first = lines[span.lowerBound], last = lines[span.upperBound]
        let terminator = String(last.suffix(from: ScheduleText.contentEnd(last)))
        var prefix: String
        if keepingComment, let equals = ScheduleText.firstUnquotedEquals(first) {
            // "late   = " as written: the alignment stays.
            prefix = String(first[..<first.index(after: equals)])
            prefix += first[first.index(after: equals)...].prefix { $0 == " " || $0 == "\t" }
        } else {
            prefix = "\(ScheduleText.indentation(of: first))\(key) = "
        }
        var comment = ""
        if keepingComment {
            let content = String(last[..<ScheduleText.contentEnd(last)])
            if let hash = ScheduleText.commentStart(content) {
                // The spaces before the comment stay with it, so a column of comments stays aligned where it can.
                var start = hash
                while start > content.startIndex, [" ", "\t"].contains(content[content.index(before: start)]) {
                    start = content.index(before: start)
                }
                comment = String(content[start...])
            }
        }
        lines.replaceSubrange(span, with: [prefix + value + comment + terminator])
    }

    private mutating func insert(_ line: String, after index: Int) {
        if ScheduleText.isTerminated(lines[index]) {
            lines.insert(line + newline, at: index + 1)
        } else {
            // The file's last line had no newline: it gets one, and the new last line goes without.
            lines[index] += newline
            lines.insert(line, at: index + 1)
        }
    }

    /// Removes `range`; when that takes the file's last line and it had no newline, neither has the new last line.
    private mutating func removeLines(_ range: ClosedRange<Int>) {
        let hadNoFinalNewline = range.upperBound == lines.count - 1 && !ScheduleText.isTerminated(lines[range.upperBound])
        lines.removeSubrange(range)
        if hadNoFinalNewline, range.lowerBound == lines.count, let last = lines.indices.last {
            lines[last] = ScheduleText.dropTerminator(lines[last])
        }
    }

    private func trimmed(_ index: Int) -> Substring {
        let line = lines[index]
        return line[..<ScheduleText.contentEnd(line)].drop { $0 == " " || $0 == "\t" }
    }

    private func isBlank(_ index: Int) -> Bool { trimmed(index).allSatisfy { $0 == " " || $0 == "\t" } }
    private func isComment(_ index: Int) -> Bool { trimmed(index).hasPrefix("#") }

    /// The last line of the value whose key is on line `start`: a multi-line array or string runs on.
    private func valueEnd(from start: Int, before limit: Int) -> Int {
        let line = String(lines[start][..<ScheduleText.contentEnd(lines[start])])
        guard let equals = ScheduleText.firstUnquotedEquals(line) else { return start }
        let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        for delimiter in ["\"\"\"", "'''"] where value.hasPrefix(delimiter) {
            guard TOMLLineIndex.occurrences(of: delimiter, in: value) == 1 else { return start }
            var i = start + 1
            while i < limit, !lines[i].contains(delimiter) { i += 1 }
            return min(i, limit - 1)
        }
        var depth = TOMLLineIndex.bracketBalance(value)
        var i = start
        while depth > 0, i + 1 < limit {
            i += 1
            depth += TOMLLineIndex.bracketBalance(lines[i])
        }
        return i
    }

    // MARK: - Text helpers

    /// Whether the line ends in "\n" (alone or after "\r"). Bytes, not `Character`s: "\r\n" is one `Character`,
    /// so `hasSuffix("\n")` is false on a CRLF line.
    static func isTerminated(_ line: String) -> Bool { line.utf8.last == UInt8(ascii: "\n") }

    /// Where a line's terminator begins.
    static func contentEnd(_ line: String) -> String.Index {
        guard isTerminated(line) else { return line.endIndex }
        return line.utf8.index(line.endIndex, offsetBy: line.utf8.suffix(2).elementsEqual("\r\n".utf8) ? -2 : -1)
    }

    static func dropTerminator(_ line: String) -> String { String(line[..<contentEnd(line)]) }

    static func indentation(of line: String) -> String { String(line.prefix { $0 == " " || $0 == "\t" }) }

    static func firstUnquotedEquals(_ line: String) -> String.Index? { TOMLLineIndex.firstUnquotedEquals(line) }

    /// The `#` that starts the line's comment, outside strings.
    static func commentStart(_ line: String) -> String.Index? {
        var quote: Character? = nil
        var escaped = false
        var i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            if let q = quote {
                if escaped { escaped = false } else if c == "\\" && q == "\"" { escaped = true } else if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "#" {
                return i
            }
            i = line.index(after: i)
        }
        return nil
    }

    /// The value of a one-line `key = value`, parsed as TOML on its own.
    static func value(ofLine line: String) -> TOMLValueConvertible? {
        guard let table = try? TOMLTable(string: dropTerminator(line)), let key = table.keys.first else { return nil }
        return table[key]
    }
}

/// Values written into schedule files, in the form the sample schedules use.
public enum TOMLText {
    /// A basic string: quotes, backslashes and control characters escaped; Vietnamese stays as it is.
    public static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16, uppercase: true)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    public static func array(_ items: [String]) -> String { "[" + items.map(string).joined(separator: ", ") + "]" }

    /// Days as the sample schedules write them: `"daily"`, a range `"mon-fri"`, or a list `["mon", "wed"]`, whatever
    /// the case, spaces or repeats typed. Text that names no days is written as typed, for the parser to name.
    public static func days(_ text: String) -> String {
        guard let days = DaySet(parsing: text) else { return string(text) }
        let normal = days.description
        return normal.contains(",") ? array(normal.split(separator: ",").map(String.init)) : string(normal)
    }

    /// A date as a bare TOML date when it is one (`from = 2026-11-12`), else quoted, so the parser names what is wrong.
    public static func date(_ text: String) -> String { LocalDate(parsing: text) != nil ? text : string(text) }
}

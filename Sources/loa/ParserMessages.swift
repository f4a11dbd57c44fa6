import ArgumentParser
import Foundation

/// ArgumentParser's own messages (an unknown option, a missing argument, a value it cannot read) are in English;
/// the officer reads Vietnamese. Each known form is said again in Vietnamese, with the help to read; a form not
/// known here is left as it is rather than guessed at.
enum ParserMessages {
    /// `english` as ArgumentParser wrote it, for the command named by `arguments` (the words before the options).
    static func vietnamese(_ english: String, arguments: [String]) -> String {
        let path = commandPath(arguments)
        let help = "xem “\(path.joined(separator: " ")) --help”"
        // A word where a command should be names one that does not exist, whatever the parser made of the words after
        // it (`loa schedul list`: "2 unexpected arguments"; `loa log exprot --out x`: "unknown option --out").
        if let unknown = unknownCommand(arguments, path: path) {
            let typed = path.dropFirst() + [unknown.word]
            let meant = unknown.meant.map { " (có phải “\((path.dropFirst() + [$0]).joined(separator: " "))” không?)" } ?? ""
            return "không có lệnh “\(typed.joined(separator: " "))”\(meant) — \(help)"
        }
        for (pattern, say) in forms {
            guard let regex = try? NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]),
                  let match = regex.firstMatch(in: english, range: NSRange(english.startIndex..., in: english)) else { continue }
            let groups = (1..<match.numberOfRanges).map { index in
                Range(match.range(at: index), in: english).map { String(english[$0]) } ?? ""
            }
            return "\(say(groups)) — \(help)"
        }
        return english
    }

    /// `loa` and the subcommands named at the head of `arguments`.
    static func commandPath(_ arguments: [String]) -> [String] {
        var command: any ParsableCommand.Type = Loa.self
        var path = ["loa"]
        for word in arguments {
            guard let sub = command.configuration.subcommands.first(where: { $0._commandName == word }) else { break }
            path.append(word)
            command = sub
        }
        return path
    }

    /// The word after `path` when the command `path` names has subcommands and the word is none of them (nor an
    /// option), with the subcommand it most likely meant: the nearest by edit distance, at most 2 away, or the only
    /// one that begins with it.
    static func unknownCommand(_ arguments: [String], path: [String]) -> (word: String, meant: String?)? {
        var command: any ParsableCommand.Type = Loa.self
        for word in path.dropFirst() {
            guard let sub = command.configuration.subcommands.first(where: { $0._commandName == word }) else { return nil }
            command = sub
        }
        var names = command.configuration.subcommands.map { $0._commandName }
        // ArgumentParser's own `help` is a command of `loa` too.
        if path.count == 1 { names.append("help") }
        guard !command.configuration.subcommands.isEmpty, path.count - 1 < arguments.count else { return nil }
        let word = arguments[path.count - 1]
        guard !word.hasPrefix("-"), !names.contains(word) else { return nil }
        let near = names.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }?.0
        let beginning = names.filter { $0.hasPrefix(word) }
        return (word, near ?? (word.count >= 2 && beginning.count == 1 ? beginning[0] : nil))
    }

    /// Levenshtein distance between `a` and `b`, in characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// ". Please provide one of 'a', 'b' or 'c'." and the bulleted form, as " (chọn: a, b, c)"; ": what is expected"
    /// (a check of Loa's own, see ``OptionValue``) as " (what is expected)".
    static func choices(_ tail: String) -> String {
        if tail.hasPrefix(": ") { return " (\(tail.dropFirst(2)))" }
        let bullets = tail.split(separator: "\n").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("- ") }.map { String($0.dropFirst(2)) }
        let values: [String]
        if !bullets.isEmpty {
            values = bullets
        } else {
            values = tail.split(separator: "'").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        }
        return values.isEmpty ? "" : " (chọn: \(values.joined(separator: ", ")))"
    }

    /// ArgumentParser's help (`loa --help`, `loa help log`, `loa schedule`) with its own words in Vietnamese: the
    /// headings, the lines of --help and --version, "(default)". Loa's own text is already Vietnamese; anything else
    /// that prints with a success code (the version, a completion script) is not help and is left as it is. The JSON
    /// of `--experimental-dump-help`, which the man page is made from, is not touched.
    static func vietnameseHelp(_ english: String) -> String {
        guard english.hasPrefix("OVERVIEW: ") || english.hasPrefix("USAGE: ") else { return english }
        var inUsage = false
        let lines = english.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var line = String(line)
            if let usage = replacingPrefix(of: line, "USAGE: ", with: "CÁCH DÙNG: ") {
                inUsage = true
                line = usage
            } else if inUsage, line.hasPrefix("       ") {
                // The usage's following lines, indented under its first word.
                line = String(repeating: " ", count: "CÁCH DÙNG: ".count - "USAGE: ".count) + line
            } else {
                inUsage = false
            }
            if let overview = replacingPrefix(of: line, "OVERVIEW: ", with: "TỔNG QUAN: ") { line = overview }
            if let heading = headings[line] { return heading }
            for (english, vietnamese) in phrases { line = keepingColumns(line, english, vietnamese) }
            // "(values: a, b; default: a)" wrapped before its "default:".
            if line.drop { $0 == " " }.hasPrefix("default:"), let range = line.range(of: "default:") {
                line.replaceSubrange(range, with: "mặc định:")
            }
            // "See 'loa help log <subcommand>' for detailed help."
            if let see = line.range(of: "See '"), let end = line.range(of: "' for detailed help."), see.upperBound <= end.lowerBound {
                line = line[..<see.lowerBound] + "Xem “" + line[see.upperBound..<end.lowerBound] + "” để biết chi tiết." + line[end.upperBound...]
            }
            return line
        }
        return lines.joined(separator: "\n")
    }

    private static let headings = ["ARGUMENTS:": "ĐỐI SỐ:", "OPTIONS:": "TÙY CHỌN:", "SUBCOMMANDS:": "LỆNH CON:"]

    private static let phrases = [
        ("Show subcommand help information.", "Hiện trợ giúp của một lệnh."),
        ("Show help information.", "Hiện trợ giúp này."),
        ("Show the version.", "Hiện phiên bản."),
        ("<subcommand>", "<lệnh>"),
        ("<options>", "<tùy chọn>"),
        (" (default)", " (mặc định)"),
        ("(default:", "(mặc định:"),
        ("; default:", "; mặc định:"),
        ("(values:", "(giá trị:"),
    ]

    private static func replacingPrefix(of line: String, _ prefix: String, with replacement: String) -> String? {
        line.hasPrefix(prefix) ? replacement + line.dropFirst(prefix.count) : nil
    }

    /// `line` with `english` said in `vietnamese`; where the Vietnamese is longer and a run of spaces follows (a label
    /// padded to the column of its help), that run is shortened by as much, so the help still starts in its column.
    private static func keepingColumns(_ line: String, _ english: String, _ vietnamese: String) -> String {
        guard let range = line.range(of: english) else { return line }
        var after = line[range.upperBound...]
        let longer = vietnamese.count - english.count
        let spaces = after.prefix { $0 == " " }.count
        if longer > 0, spaces > longer + 1 { after = after.dropFirst(longer) }
        return line[..<range.lowerBound] + vietnamese + after
    }

    /// "--count" of "--count <count>".
    static func optionName(_ synopsis: String) -> String {
        synopsis.split(separator: " ").first.map(String.init) ?? synopsis
    }

    private static let forms: [(String, @Sendable ([String]) -> String)] = [
        (#"^Unknown option '([^']+)'\. Did you mean '([^']+)'\?$"#, { "không có tùy chọn \($0[0]) (có phải \($0[1]) không?)" }),
        // The two-line form for "-xy": its first line says enough.
        (#"^Unknown option '([^']+)'(\n.*)?$"#, { "không có tùy chọn \($0[0])" }),
        (#"^Missing value for '([^']+)'$"#, { "thiếu giá trị sau \(optionName($0[0]))" }),
        (#"^Missing expected argument '([^']+)'$"#, { "thiếu \($0[0])" }),
        (#"^Missing one of: (.+)$"#, { "thiếu một trong: \($0[0].replacingOccurrences(of: "'", with: ""))" }),
        (#"^Missing required subcommand\.$"#, { _ in "thiếu lệnh con" }),
        (#"^Unexpected argument '(.*)'$"#, { "thừa đối số “\($0[0])”" }),
        (#"^(\d+) unexpected arguments: '(.*)'$"#, { "thừa \($0[0]) đối số: “\($0[1].replacingOccurrences(of: "', '", with: "”, “"))”" }),
        (#"^The value '(.*)' is invalid for '([^']+)'(.*)$"#, {
            "\(optionName($0[1])): giá trị “\($0[0])” không hợp lệ\(choices($0[2]))"
        }),
        (#"^The value '(.*)' is invalid\.?(.*)$"#, { "giá trị “\($0[0])” không hợp lệ\(choices($0[1]))" }),
        (#"^The option '([^']+)' does not take any value, but '(.*)' was specified\.$"#,
         { "tùy chọn \($0[0]) không nhận giá trị (đã cho “\($0[1])”)" }),
        (#"^Invalid option: (.+)$"#, { "tùy chọn không hợp lệ: \($0[0])" }),
        (#"^Value to be set with flag '([^']+)'.* had already been set with flag '([^']+)'.*$"#,
         { "chỉ chọn một: \($0[1]) hoặc \($0[0])" }),
    ]
}

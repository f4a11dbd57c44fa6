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
        // A word `loa` itself does not take is a command that does not exist.
        let unexpected = "Unexpected argument '"
        if path == ["loa"], english.hasPrefix(unexpected), english.hasSuffix("'") {
            return "không có lệnh “\(english.dropFirst(unexpected.count).dropLast())” — \(help)"
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

    /// ". Please provide one of 'a', 'b' or 'c'." and the bulleted form, as " (chọn: a, b, c)"; ": reason" as it is.
    static func choices(_ tail: String) -> String {
        if tail.hasPrefix(": ") { return tail }
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

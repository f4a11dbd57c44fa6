import ArgumentParser
import Foundation
import LoaConfig
import LoaCore

@main
struct Loa: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loa",
        abstract: "Loa: điều khiển phát thanh cho đài truyền thanh cấp xã.",
        version: Loa.version,
        subcommands: [DaemonCommand.self, PlayCommand.self, ScheduleCommand.self, SegmentCommand.self,
                      LogCommand.self, ReportCommand.self, StatusCommand.self, AnnounceCommand.self, FetchCommand.self,
                      KeygenCommand.self, PublishCommand.self, VerifyCommand.self, SimulateCommand.self, DoctorCommand.self])

    /// What `loa --version` prints (and the `.deb` will be numbered by).
    static let version = "0.13.0"

    /// Exit 0 on success, 1 with one line on stderr on any user error: never a stack trace.
    static func main() async {
        let arguments = joiningNegativeValues(hoistingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch let error as ConfigError where error.summary != nil {
            // Several problems in one file: each on its own line, as `loa schedule validate` prints a schedule's.
            for problem in error.problems { FileHandle.standardError.write(Data("\(problem)\n".utf8)) }
            fail("\(error.summary ?? ""): sửa từng dòng trên rồi chạy lại")
        } catch let error as any OperatorFacingError {
            fail(error.description)
        } catch {
            // `--help`, `loa help X`, a command without its subcommand and `--version` arrive as errors with a success
            // code: the whole text, on stdout; help in Vietnamese.
            if Loa.exitCode(for: error) == .success {
                print(ParserMessages.vietnameseHelp(Loa.fullMessage(for: error)))
                Foundation.exit(0)
            }
            let message = ParserMessages.vietnamese(Loa.message(for: error), arguments: arguments)
            fail(message.split(separator: "\n").first.map(String.init) ?? message)
        }
    }

    /// `--config X` and `--config=X` may stand anywhere before the command that runs: `loa --config x.toml schedule
    /// list`, `loa schedule --config x.toml list`. ArgumentParser knows the option only on that command, so each is
    /// moved to just after its name. Only the words before it are looked at, one command level at a time: what follows the command
    /// is its own (a `--config` there is already in its place, and a value of another option is never taken).
    static func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
        var command: any ParsableCommand.Type = Loa.self
        var words: [String] = [], hoisted: [String] = []
        var i = 0
        while i < arguments.count {
            if arguments[i] == "--config", i + 1 < arguments.count {
                hoisted += arguments[i...(i + 1)]
                i += 2
            } else if arguments[i].hasPrefix("--config=") {
                hoisted.append(arguments[i])
                i += 1
            } else if let sub = command.configuration.subcommands.first(where: { $0._commandName == arguments[i] }) {
                words.append(arguments[i])
                command = sub
                i += 1
            } else {
                break
            }
        }
        // A command that only groups others takes no --config: before a word that names no command, `--config` would
        // be the error reported instead of that word. One with a default subcommand (`loa log`) passes it on.
        let groupsOnly = !command.configuration.subcommands.isEmpty && command.configuration.defaultSubcommand == nil
        // Right after the command's words, so that it stays before a `--` that ends the options.
        return words + (groupsOnly ? [] : hoisted) + arguments[i...]
    }

    /// `--year -5`: ArgumentParser takes `-5` for an option of its own and says the value is missing. No Loa option
    /// is named by a digit, so a negative number after an option is that option's value: it is given as `--year=-5`,
    /// to be taken, or refused for what it is.
    static func joiningNegativeValues(_ arguments: [String]) -> [String] {
        var joined: [String] = []
        for (i, word) in arguments.enumerated() {
            if let option = joined.last, option.hasPrefix("--"), option.count > 2, !option.contains("="),
               !arguments[..<i].contains("--"), word.count > 1, word.first == "-",
               word.dropFirst().first.map({ $0.isNumber || $0 == "." }) == true {
                joined[joined.count - 1] = option + "=" + word
            } else {
                joined.append(word)
            }
        }
        return joined
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("loa: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

/// A problem the operator can fix, said in one line.
struct OperatorError: OperatorFacingError {
    let description: String
    init(_ description: String) { self.description = description }
}

import ArgumentParser

struct SegmentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment", abstract: "Thư viện bản tin.", subcommands: [SegmentAddCommand.self, SegmentListCommand.self])
}

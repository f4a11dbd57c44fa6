import Foundation
import LoaCore
import Logging

/// The daemon's log lines on stderr, in the station's time so the officer reads the hour the loudspeaker spoke.
///
/// On a terminal or into a file: `2026-11-26T17:15:00.012+07:00 info Phát “Bản tin” (asean-toi), lệch 0 ms`.
/// Under systemd (`JOURNAL_STREAM` set, stderr going to the journal): `<6>Phát …` with no time of its own, since
/// the journal stamps each line and reads the `<N>` prefix as the syslog priority (`SyslogLevelPrefix=`, on by
/// default), so `journalctl -p warning -u loa` shows warnings and worse.
public struct StationLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let calendar: StationCalendar
    let clock: any WallClock
    let journal: Bool
    let write: @Sendable (String) -> Void

    /// `environment` decides journal or plain lines; `write` gets each whole line, newline included.
    public init(calendar: StationCalendar, clock: any WallClock, environment: [String: String],
                write: @escaping @Sendable (String) -> Void = StationLogHandler.standardError) {
        self.calendar = calendar
        self.clock = clock
        journal = StationLogHandler.isJournal(environment)
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        let merged = self.metadata.merging(metadata ?? [:]) { $1 }
        let extra = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        // One line per entry whatever the message holds: a newline would split it into two journal entries.
        let text = "\(message)\(extra)".replacingOccurrences(of: "\n", with: " ⏎ ")
        if journal {
            write("<\(StationLogHandler.syslogPriority(level))>\(text)\n")
        } else {
            write("\(calendar.rfc3339(clock.now())) \(level) \(text)\n")
        }
    }

    /// Whether stderr is the journal: systemd sets `JOURNAL_STREAM` to its device and inode.
    static func isJournal(_ environment: [String: String]) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"], !stream.isEmpty else { return false }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        // Only when stderr is still that stream: a command started from a unit but redirected is not the journal.
        var info = stat()
        guard fstat(2, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

    /// RFC 5424 severities, as journald reads them.
    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    @Sendable public static func standardError(_ line: String) {
        FileHandle.standardError.write(Data(line.utf8))
    }
}

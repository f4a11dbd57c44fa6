import Foundation
import LoaCore

/// Makes a ``ScheduleChange`` to a station's schedule files: finds the file, edits its text surgically, checks the
/// whole schedule as it would be, and only then replaces the file (temporary file, fsync, rename, fsync of the
/// folder), so the daemon's reload sees the old file or the new one, never half of one.
public struct ScheduleEditor: Sendable {
    public let folder: URL
    /// Diagnostics name files relative to this (the folder of loa.toml), as `loa schedule validate` does.
    public let base: URL

    public init(config: StationConfig) {
        folder = config.schedules
        base = config.file.deletingLastPathComponent()
    }

    /// What an edit would do: the file, its text now and after.
    public struct Draft: Sendable {
        public let file: URL
        public let display: String
        public let before: String
        public let after: String
    }

    /// The edited text of the file the change belongs in: `file` (a name in schedules/, `.toml` optional) when
    /// given; else the file that holds the slot; for `add`, the one file there is, or the file whose slots start
    /// nearest the new one (morning slots beside morning slots), or `lich-phat.toml` in an empty folder.
    public func draft(_ change: ScheduleChange, file: String?) throws(ConfigError) -> Draft {
        let existing: [URL]
        if case .add = change, !FileManager.default.fileExists(atPath: folder.path) {
            // A station set up without schedules yet: the first slot makes the folder.
            do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
                throw .refused("\(folder.path): không tạo được thư mục lịch phát: \(error.localizedDescription)")
            }
        }
        do { existing = try ScheduleSet.files(in: folder) } catch {
            throw .refused("\(folder.path): không có hoặc không đọc được thư mục lịch phát (xem “schedules =” trong loa.toml)")
        }
        let url: URL
        if let file {
            url = try named(file)
            if case .add = change {} else if !existing.contains(url) {
                throw .refused("không có tệp lịch \(ScheduleSet.displayPath(url, base: base))")
            }
        } else if case let .add(_, settings) = change {
            url = try placeForNewSlot(starting: settings.start, among: existing)
        } else {
            url = try holder(of: change.id, among: existing)
        }
        let creates = !FileManager.default.fileExists(atPath: url.path)
        let before = creates ? "" : try read(url)
        var text = ScheduleText(before)
        let display = ScheduleSet.displayPath(url, base: base)
        // Lines are found by a raw scan; a file TOML cannot read could put them anywhere. It is mended by hand first.
        do { _ = try parseTOML(before, file: display) } catch {
            throw .refused("\(error); sửa tay lỗi này trước (loa schedule validate), rồi chạy lại")
        }
        if case .add = change, let elsewhere = try? holder(of: change.id, among: existing.filter { $0 != url }) {
            throw .refused("đã có khung giờ “\(change.id)” trong \(ScheduleSet.displayPath(elsewhere, base: base))")
        }
        try change.apply(to: &text, file: display)
        return Draft(file: url, display: display, before: before, after: text.text)
    }

    /// The problems the edited schedule has that it did not have before (an edit may leave alone a problem
    /// elsewhere, but may not add one). `validate` checks a whole schedule set as `loa schedule validate` does.
    public func introducedProblems(_ draft: Draft, validate: (ScheduleSet) throws -> [Diagnostic]) throws -> [Diagnostic] {
        let before = try validate(ScheduleSet.load(folder: folder, relativeTo: base))
        let after = try validate(ScheduleSet.load(folder: folder, relativeTo: base, replacing: [draft.file: draft.after]))
        return ScheduleEditor.introduced(before: before, after: after)
    }

    /// Problems in `after` not in `before`, compared without line numbers: an edit moves the lines below it. A
    /// problem that counts several (a slot's overlaps) is new only when its subject was not there or now counts more:
    /// taking one slot out of overlapping ones changes the others' words, not what is wrong with them.
    public static func introduced(before: [Diagnostic], after: [Diagnostic]) -> [Diagnostic] {
        func key(_ d: Diagnostic) -> String {
            d.location.file + "\u{1F}" + d.message.replacingOccurrences(of: #"\.toml:\d+"#, with: ".toml", options: .regularExpression)
        }
        var remaining: [String: Int] = [:]
        var tallies: [String: [Int]] = [:]
        for problem in before {
            if let tally = problem.tally { tallies[tally.subject, default: []].append(tally.count) } else { remaining[key(problem), default: 0] += 1 }
        }
        return after.filter { problem in
            if let tally = problem.tally {
                // Matched against the largest count left for the subject (a duplicate id may give it two).
                guard let counts = tallies[tally.subject], let largest = counts.max(), let at = counts.firstIndex(of: largest) else { return true }
                tallies[tally.subject]?.remove(at: at)
                return tally.count > largest
            }
            let k = key(problem)
            guard let n = remaining[k], n > 0 else { return true }
            remaining[k] = n - 1
            return false
        }
    }

    /// Replaces the file with the draft's text, keeping its permissions; a schedule file that is a symbolic link
    /// has its target replaced, and the link stays. A file the edit leaves empty (its last slot removed, in a file
    /// an `add` created) is removed, so that add then remove gives back the folder as it was.
    public func write(_ draft: Draft) throws(ConfigError) {
        let target = draft.file.resolvingSymlinksInPath()
        if draft.after.isEmpty {
            guard unlink(target.path) == 0 || errno == ENOENT else {
                throw .refused("\(draft.display): không xóa được tệp rỗng: \(String(cString: strerror(errno)))")
            }
            return
        }
        let mode = (try? FileManager.default.attributesOfItem(atPath: target.path)[.posixPermissions] as? NSNumber)
            .map { mode_t($0.uint16Value) } ?? 0o644
        do {
            try AtomicFile.write(Data(draft.after.utf8), to: target, mode: mode)
        } catch {
            throw .refused("\(draft.display): không ghi được: \(error)")
        }
    }

    /// Holds the schedules folder's edit lock (`.loa-edit.lock`, hidden so it is never read as a schedule) for
    /// `body`: two edits at once would each read the file, and the second rename would drop the first's change.
    public func exclusively<T>(_ body: () throws -> T) throws -> T {
        // No folder yet: nothing to race over (an add makes it, anything else is refused).
        guard FileManager.default.fileExists(atPath: folder.path) else { return try body() }
        let path = folder.appendingPathComponent(".loa-edit.lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ConfigError.refused("\(path): không mở được khóa sửa lịch: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw ConfigError.refused("\(path): không khóa được: \(String(cString: strerror(errno)))") }
        }
        return try body()
    }

    private func read(_ url: URL) throws(ConfigError) -> String {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .unreadable(path: ScheduleSet.displayPath(url, base: base), reason: "không mở được tệp")
        }
        // Not `String(data:encoding:)`: Foundation drops a byte order mark, and the edit would write the file back without it.
        guard let text = String(validating: data, as: UTF8.self) else {
            throw .unreadable(path: ScheduleSet.displayPath(url, base: base), reason: "tệp không phải UTF-8")
        }
        return text
    }

    private func named(_ file: String) throws(ConfigError) -> URL {
        let name = file.hasSuffix(".toml") ? file : file + ".toml"
        guard !name.contains("/"), !name.hasPrefix(".") else {
            throw .refused("--file \(file): chỉ tên tệp trong thư mục lịch phát, ví dụ “toi.toml”")
        }
        return folder.appendingPathComponent(name)
    }

    /// The file holding slot `id`; refused when none or several do.
    private func holder(of id: String, among files: [URL]) throws(ConfigError) -> URL {
        var found: [URL] = []
        for url in files where (try? ScheduleText(read(url)).slot(id)) != nil { found.append(url) }
        guard let first = found.first else {
            throw .refused("không có khung giờ “\(id)” trong \(ScheduleSet.displayPath(folder, base: base)) (xem: loa schedule list)")
        }
        guard found.count == 1 else {
            throw .refused("khung giờ “\(id)” có trong \(found.count) tệp (\(found.map { ScheduleSet.displayPath($0, base: base) }.joined(separator: ", "))): chọn một bằng --file")
        }
        return first
    }

    private func placeForNewSlot(starting start: String?, among files: [URL]) throws(ConfigError) -> URL {
        guard files.count > 1 else { return files.first ?? folder.appendingPathComponent("lich-phat.toml") }
        guard let seconds = start.flatMap(TimeOfDay.init(parsing:))?.secondsSinceMidnight else { return files[0] }
        var best: (url: URL, distance: Int)? = nil
        for url in files {
            let starts = ScheduleParser.parse((try? read(url)) ?? "", file: url.lastPathComponent).slots.map(\.start.secondsSinceMidnight)
            guard let nearest = starts.map({ abs($0 - seconds) }).min() else { continue }
            if best.map({ nearest < $0.distance }) ?? true { best = (url, nearest) }
        }
        return best?.url ?? files[0]
    }
}

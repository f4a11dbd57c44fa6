import CHostClock
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LoaCore

// The host's health as `loa doctor` and `loa status` report it: free disk space (statvfs) and whether the system
// clock is synchronised (adjtimex). The probes are thin reads of the kernel; what the figures mean (ok, warning,
// failure) is decided by pure code on their values, tested with explicit inputs.

/// The free space of the file system holding a path, as `statvfs(3)` reports it.
public struct DiskSpace: Sendable, Hashable {
    /// The path asked about (the database, the audio folder).
    public var path: String
    /// Bytes an unprivileged process may still write (`f_bavail`): the daemon does not run as root.
    public var availableBytes: Int64
    /// The file system's size in bytes (`f_blocks`).
    public var totalBytes: Int64
    /// Tells two paths on the same file system apart from two on different ones (`f_fsid`).
    public var fileSystem: UInt64

    public init(path: String, availableBytes: Int64, totalBytes: Int64, fileSystem: UInt64 = 0) {
        self.path = path
        self.availableBytes = availableBytes
        self.totalBytes = totalBytes
        self.fileSystem = fileSystem
    }

    /// The share of the file system still free, 0 to 1 (1 for a file system that reports no size).
    public var availableFraction: Double {
        totalBytes > 0 ? Double(availableBytes) / Double(totalBytes) : 1
    }

    /// How this much free space should be judged (see ``DiskThresholds``).
    public func verdict(_ thresholds: DiskThresholds = .standard) -> HealthVerdict {
        if availableBytes < thresholds.failureBytes { return .fail }
        if availableBytes < thresholds.warningBytes || availableFraction < thresholds.warningFraction { return .warning }
        return .ok
    }

    /// `còn 41,9 GB trống trên 252,0 GB (17 %)`.
    public var summary: String {
        "còn \(sizeText(availableBytes)) trống trên \(sizeText(totalBytes)) (\(Int((availableFraction * 100).rounded(.down))) %)"
    }
}

/// Where free space turns into a warning or a failure. These are judgements, not measurements: the airing log
/// grows by about 400 bytes a row (BENCHMARKS.md), so 50 MB is months of airings but only a few minutes of a
/// playout copy (11 MB a minute of stereo): below it, the next fetch or import will fail and SQLite may soon
/// refuse the log's writes. 500 MB (or 5 % of the disk, whichever comes first) leaves the technician days to act.
public struct DiskThresholds: Sendable, Hashable {
    /// Below this many bytes: a warning.
    public var warningBytes: Int64
    /// Below this share of the file system: a warning.
    public var warningFraction: Double
    /// Below this many bytes: a failure.
    public var failureBytes: Int64

    public init(warningBytes: Int64, warningFraction: Double, failureBytes: Int64) {
        self.warningBytes = warningBytes
        self.warningFraction = warningFraction
        self.failureBytes = failureBytes
    }

    /// 500 MB or 5 % for a warning, 50 MB for a failure.
    public static let standard = DiskThresholds(warningBytes: 500_000_000, warningFraction: 0.05, failureBytes: 50_000_000)
}

/// The kernel's view of the system clock's discipline (`adjtimex(2)`).
public struct ClockSync: Sendable, Hashable {
    /// False while the kernel's `STA_UNSYNC` is set: nothing (NTP, chrony, systemd-timesyncd) has disciplined the
    /// clock, so slot times are only as right as the clock was when it was last set by hand.
    public var synchronized: Bool
    /// The largest error the kernel admits to, in seconds (`maxerror`; 16 s when unsynchronised).
    public var maxErrorSeconds: Double
    /// The estimated error, in seconds (`esterror`).
    public var estimatedErrorSeconds: Double

    public init(synchronized: Bool, maxErrorSeconds: Double, estimatedErrorSeconds: Double) {
        self.synchronized = synchronized
        self.maxErrorSeconds = maxErrorSeconds
        self.estimatedErrorSeconds = estimatedErrorSeconds
    }

    /// A clock nobody disciplines, or one whose admitted error exceeds `tolerance` seconds, is a warning: the station
    /// still airs, on a clock that may drift from the district's. Never a failure (a station with no network airs).
    /// A second is a judgement: listeners notice a bulletin a second late no more than one on time.
    public func verdict(tolerance: Double = 1) -> HealthVerdict {
        synchronized && maxErrorSeconds <= tolerance ? .ok : .warning
    }

    /// `đã đồng bộ (sai số tối đa 0,2 giây)` or `chưa đồng bộ …`.
    public var summary: String {
        synchronized
            ? "đã đồng bộ (sai số tối đa \(errorText(maxErrorSeconds)))"
            : "chưa đồng bộ (không có NTP, chrony hay systemd-timesyncd điều chỉnh đồng hồ; giờ phát chỉ đúng bằng đồng hồ máy)"
    }

    private func errorText(_ seconds: Double) -> String {
        seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : formatSeconds(seconds)
    }
}

/// Reads the host's health from the kernel. Each call is one system call; nothing is cached.
public enum HostHealth {
    /// Free space on the file system holding `path`. A path that does not exist yet (a database before the first
    /// run) is measured at its nearest existing parent folder, where it will be created.
    public static func diskSpace(at path: String) throws(DaemonError) -> DiskSpace {
        var probe = URL(fileURLWithPath: path).standardizedFileURL
        while !FileManager.default.fileExists(atPath: probe.path), probe.path != "/" { probe.deleteLastPathComponent() }
        var info = statvfs()
        guard statvfs(probe.path, &info) == 0 else {
            throw .hostProbe(what: path, reason: DaemonError.words(errno: errno))
        }
        let unit = Int64(info.f_frsize > 0 ? info.f_frsize : info.f_bsize)
        return DiskSpace(path: path, availableBytes: Int64(info.f_bavail) * unit, totalBytes: Int64(info.f_blocks) * unit,
                         fileSystem: UInt64(info.f_fsid))
    }

    /// Whether the system clock is synchronised, from `adjtimex(2)` read-only: no dependency on `timedatectl` or a
    /// running systemd.
    public static func clockSync() throws(DaemonError) -> ClockSync {
        let state = loa_clock_read()
        guard state.state >= 0 else { throw .hostProbe(what: "adjtimex", reason: DaemonError.words(errno: state.error)) }
        return ClockSync(synchronized: state.status & loa_sta_unsync == 0 && state.state != TIME_ERROR,
                         maxErrorSeconds: Double(state.maxerror) / 1e6, estimatedErrorSeconds: Double(state.esterror) / 1e6)
    }
}

/// `1,5 GB`, `320,0 MB`, `12 kB`: disk sizes, with a decimal comma.
public func sizeText(_ bytes: Int64) -> String {
    bytes >= 1_000_000_000 ? decimalText(Double(bytes) / 1e9) + " GB" : byteText(Int(bytes))
}

import Foundation
import LoaCore
import LoaDaemon
import Testing

@Suite("Host health: free disk space and clock synchronisation, judged on explicit figures")
struct HostHealthTests {
    let gigabyte: Int64 = 1_000_000_000

    func space(available: Int64, total: Int64) -> DiskSpace {
        DiskSpace(path: "/var/lib/loa/loa.sqlite", availableBytes: available, totalBytes: total)
    }

    @Test("Plenty of room is ok; under 500 MB or under 5 % is a warning; under 50 MB is a failure, whatever the share")
    func diskThresholds() async throws {
        #expect(space(available: 40 * gigabyte, total: 250 * gigabyte).verdict() == .ok)
        #expect(space(available: 500_000_000, total: 1 * gigabyte).verdict() == .ok)
        #expect(space(available: 499_999_999, total: 1 * gigabyte).verdict() == .warning)
        // 5 % of a large disk is still a warning, though gigabytes are free.
        #expect(space(available: 10 * gigabyte, total: 250 * gigabyte).verdict() == .warning)
        #expect(space(available: 13 * gigabyte, total: 250 * gigabyte).verdict() == .ok)
        #expect(space(available: 50_000_000, total: 60_000_000).verdict() == .warning, "50 MB itself is not yet a failure")
        #expect(space(available: 49_999_999, total: 50_000_000).verdict() == .fail)
        #expect(space(available: 0, total: 0).verdict() == .fail)
        let strict = DiskThresholds(warningBytes: 2 * gigabyte, warningFraction: 0.5, failureBytes: gigabyte)
        #expect(space(available: 1_500_000_000, total: 2 * gigabyte).verdict(strict) == .warning)
    }

    @Test("The free space reads with a decimal comma and the share rounded down")
    func diskSummary() async throws {
        #expect(space(available: 41_900_000_000, total: 252_000_000_000).summary == "còn 41,9 GB trống trên 252,0 GB (16 %)")
        #expect(space(available: 320_000_000, total: 2 * gigabyte).summary == "còn 320,0 MB trống trên 2,0 GB (16 %)")
    }

    @Test("A clock nobody disciplines, or one admitting more than a second of error, is a warning, never a failure")
    func clockVerdict() async throws {
        #expect(ClockSync(synchronized: true, maxErrorSeconds: 0.2, estimatedErrorSeconds: 0.001).verdict() == .ok)
        #expect(ClockSync(synchronized: true, maxErrorSeconds: 1.5, estimatedErrorSeconds: 0.5).verdict() == .warning)
        #expect(ClockSync(synchronized: false, maxErrorSeconds: 16, estimatedErrorSeconds: 16).verdict() == .warning)
        #expect(ClockSync(synchronized: true, maxErrorSeconds: 0.2, estimatedErrorSeconds: 0).summary == "đã đồng bộ (sai số tối đa 200 ms)")
        #expect(ClockSync(synchronized: false, maxErrorSeconds: 16, estimatedErrorSeconds: 16).summary.hasPrefix("chưa đồng bộ"))
    }

    @Test("Verdicts order from ok to fail, so the worst of several is their maximum")
    func verdictOrder() async throws {
        #expect(HealthVerdict.ok < .warning && HealthVerdict.warning < .fail)
        #expect([HealthVerdict.warning, .ok, .fail, .ok].max() == .fail)
        #expect([HealthVerdict.ok: "✓", .warning: "!", .fail: "✗"].allSatisfy { $0.key.symbol == $0.value })
    }

    @Test("The disk probe reads this machine: statvfs gives a size for the temporary folder and for a path not made yet")
    func probesAnswer() async throws {
        let folder = try Harness.temporaryFolder("loa-host")
        defer { try? FileManager.default.removeItem(at: folder) }
        let here = try HostHealth.diskSpace(at: folder.path)
        #expect(here.totalBytes > 0 && here.availableBytes > 0 && here.availableBytes <= here.totalBytes)
        // A database before the first run is measured where it will be created.
        let later = try HostHealth.diskSpace(at: folder.appendingPathComponent("chua/co/loa.sqlite").path)
        #expect(later.fileSystem == here.fileSystem && later.path.hasSuffix("chua/co/loa.sqlite"))
    }

    /// The kernel's clock discipline read by Python through ctypes, a read of its own (its own `struct timex`, checked
    /// by the `tolerance` field, which the kernel always reports as 500 ppm in 16.16 fixed point): `state status
    /// maxerror esterror`, maxerror and esterror in microseconds.
    static let adjtimexScript = """
        import ctypes, sys
        L, I = ctypes.c_long, ctypes.c_int
        class Timex(ctypes.Structure):
            _fields_ = [("modes", ctypes.c_uint), ("offset", L), ("freq", L), ("maxerror", L), ("esterror", L),
                        ("status", I), ("constant", L), ("precision", L), ("tolerance", L), ("sec", L), ("usec", L),
                        ("tick", L), ("ppsfreq", L), ("jitter", L), ("shift", I), ("stabil", L), ("jitcnt", L),
                        ("calcnt", L), ("errcnt", L), ("stbcnt", L), ("tai", I), ("padding", I * 11)]
        tx = Timex()
        state = ctypes.CDLL("libc.so.6", use_errno=True).adjtimex(ctypes.byref(tx))
        if state < 0 or tx.tolerance != 500 << 16:
            sys.exit("adjtimex: state %d, tolerance %d" % (state, tx.tolerance))
        print(state, tx.status, tx.maxerror, tx.esterror)
        """

    @Test("The clock probe reads what the kernel says: adjtimex's figures within the kernel's bounds, and as Python's own read of adjtimex gives them just before and after")
    func clockProbeReadsTheKernel() async throws {
        func kernel() async throws -> (synchronized: Bool, maxError: Double, estimatedError: Double) {
            let read = try await Harness.run("/usr/bin/python3", ["-c", Self.adjtimexScript])
            let fields = read.out.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            try #require(read.status == 0 && fields.count == 4, "python3's adjtimex: \(read)")
            // STA_UNSYNC is 0x40; TIME_ERROR (5) is the state of a clock nobody disciplines.
            return (fields[1] & 0x40 == 0 && fields[0] != 5, Double(fields[2]) / 1e6, Double(fields[3]) / 1e6)
        }
        let before = try await kernel()
        let probed = try HostHealth.clockSync()
        let after = try await kernel()
        // The kernel caps both errors at NTP_PHASE_LIMIT (16 s) and marks the clock unsynchronised when it reaches it.
        #expect((0...16).contains(probed.maxErrorSeconds) && (0...16).contains(probed.estimatedErrorSeconds), "\(probed)")
        #expect(probed.maxErrorSeconds < 16 || !probed.synchronized, "\(probed)")
        // Between the two reads the maximum error grows by 500 µs a second unless a time daemon sets it: the probe's
        // figures lie between Python's (a millisecond either side for the growth while the reads run).
        func between(_ value: Double, _ a: Double, _ b: Double) -> Bool { min(a, b) - 0.001 <= value && value <= max(a, b) + 0.001 }
        #expect(between(probed.maxErrorSeconds, before.maxError, after.maxError), "probe \(probed), python \(before) then \(after)")
        #expect(between(probed.estimatedErrorSeconds, before.estimatedError, after.estimatedError), "probe \(probed), python \(before) then \(after)")
        #expect(before.synchronized != after.synchronized || probed.synchronized == before.synchronized, "probe \(probed), python \(before) then \(after)")
    }
}

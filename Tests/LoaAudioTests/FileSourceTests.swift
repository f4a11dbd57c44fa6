import Foundation
import LoaAudio
import Testing

@Suite("A file decoded ahead on its own thread")
struct FileSourceTests {
    /// Every format and rate a station receives, each made from the same programme: a tone over noise, stereo.
    static let formats: [(format: String, rate: Int)] = ["wav", "flac", "mp3"].flatMap { format in [44100, 48000].map { (format, $0) } }

    /// `seconds` of a tone over pink noise as `t.FORMAT` at `rate`; `mp3` is lame's 128 kb/s, `mp3-vbr` its VBR at
    /// quality 6 (with its Xing tag), both from a WAV.
    static func programme(_ fixtures: Fixtures, format: String, rate: Int, seconds: Double = 6) throws -> URL {
        let mp3 = format.hasPrefix("mp3")
        let source = try fixtures.synth(mp3 ? "src.wav" : "t.\(format)", seconds: seconds, rate: rate,
                                        ["pinknoise", "synth", "\(seconds)", "sine", "mix", "440", "vol", "0.4"])
        guard mp3 else { return source }
        let url = fixtures.folder.appendingPathComponent("t.mp3")
        let quality = format == "mp3-vbr" ? ["-V", "6", "--resample", rate == 44100 ? "44.1" : "48"] : ["-b", "128"]
        try fixtures.run("/usr/bin/lame", ["--quiet"] + quality + [source.path, url.path])
        return url
    }

    /// Everything `source` gives, read `chunk` frames at a time, waiting a little whenever it is behind.
    static func readAll(_ source: FileSource, chunk: Int = 1000, pause: Double = 0.0005) -> (samples: [Float], end: SourceRead) {
        let channels = source.format.channels
        var samples: [Float] = []
        var buffer = [Float](repeating: 0, count: chunk * channels)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let result = buffer.withUnsafeMutableBufferPointer { out in
                out.baseAddress.map { source.read(into: $0, frames: chunk) } ?? .ended
            }
            switch result {
            case let .frames(n): samples += buffer[0..<(n * channels)]
            case .underflow: Thread.sleep(forTimeInterval: pause)
            case .ended, .failed: return (samples, result)
            }
        }
        return (samples, .underflow)
    }

    /// What the plain decoder gives of `path` before it ends or throws, and what it threw.
    static func decodeUntilFailure(_ path: String) throws -> (samples: [Float], error: AudioError?) {
        let decoder = try SndFileDecoder(path: path)
        var all: [Float] = []
        var buffer = [Float](repeating: 0, count: 4096 * 2)
        while true {
            do {
                let n = try buffer.withUnsafeMutableBufferPointer { (out) throws(AudioError) -> Int in
                    guard let base = out.baseAddress else { return 0 }
                    return try decoder.read(into: base, frames: 4096)
                }
                if n == 0 { return (all, nil) }
                all += buffer[0..<(n * 2)]
            } catch {
                return (all, error)
            }
        }
    }

    /// How many of this process's descriptors are open on `path`.
    static func openDescriptors(of path: String) -> Int {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == path }.count
    }

    static func largestDifference(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test("From the start, the frames read are the plain decoder's, bit for bit", arguments: formats)
    func fromTheStartBitExact(format: String, rate: Int) throws {
        let fixtures = try Fixtures()
        let url = try Self.programme(fixtures, format: format, rate: rate)
        let expected = try decodeAll(url.path)
        let source = try FileSource(path: url.path)
        defer { source.close() }
        let (samples, end) = Self.readAll(source, chunk: 777)
        #expect(end == .ended)
        #expect(source.entry == .atStart)
        #expect(samples.count == expected.count)
        let same = samples == expected
        #expect(same, "\(format) \(rate) Hz: largest difference \(Self.largestDifference(samples[...], expected[...]))")
        let length = try #require(source.lengthFrames)
        // WAV and FLAC give their length exactly; an MP3's header counts its encoder's padding out only roughly.
        #expect(abs(length - expected.count / 2) <= (format == "mp3" ? 1200 : 1), "\(length) vs \(expected.count / 2)")
    }

    /// The largest difference a seek may make against decoding from the start and dropping, per case: nothing for WAV,
    /// FLAC and Ogg at the output rate; one rounding of libmpg123's filter bank (2⁻²⁴) for MP3; and once resampled, the
    /// order in which libsoxr's filter sums (−128 dBFS, far under a 24-bit step).
    static func seekTolerance(format: String, rate: Int) -> Float {
        if rate != 48000 { return 4e-7 }
        return format.hasPrefix("mp3") ? 1.0 / Float(1 << 24) : 0
    }

    /// A VBR MP3 at the output rate too (there a bare seek of libmpg123 is off by up to 0.26 for 1,820 samples), and
    /// Ogg Vorbis.
    @Test("Entered at an offset by seeking, it gives what decoding from the start and dropping to there gives",
          arguments: formats + [("mp3-vbr", 48000), ("ogg", 44100), ("ogg", 48000)])
    func offsetBySeekMatchesDecodeAndSkip(format: String, rate: Int) throws {
        let fixtures = try Fixtures()
        let url = try Self.programme(fixtures, format: format, rate: rate)
        let whole = try decodeAll(url.path)
        let tolerance = Self.seekTolerance(format: format, rate: rate)
        // A frame in, one inside the MP3 settling distance, one off every grid, and one well into the file.
        for offset in [1, 4607, 120_001, 200_000] {
            let expected = whole[(offset * 2)...]
            let sought = try FileSource(path: url.path, startFrame: offset)
            let (samples, end) = Self.readAll(sought)
            sought.close()
            #expect(end == .ended)
            #expect(sought.entry == .seek, "\(format) \(rate) Hz at \(offset)")
            #expect(samples.count == expected.count, "\(format) \(rate) Hz at \(offset): \(samples.count / 2) frames, not \(expected.count / 2)")
            let difference = Self.largestDifference(samples[...], expected)
            #expect(difference <= tolerance, "\(format) \(rate) Hz at \(offset): off by up to \(difference)")

            let skipped = try FileSource(path: url.path, startFrame: offset, seeking: false)
            let (decoded, _) = Self.readAll(skipped)
            skipped.close()
            #expect(skipped.entry == .decodeAndSkip)
            let same = decoded[...] == expected
            #expect(same, "\(format) \(rate) Hz at \(offset): decode-and-skip differs")
        }
    }

    @Test("Entered past its end, a file ends at once, with no frames", arguments: [true, false])
    func offsetPastTheEnd(seeking: Bool) throws {
        let fixtures = try Fixtures()
        let url = try Self.programme(fixtures, format: "flac", rate: 48000, seconds: 1)
        let source = try FileSource(path: url.path, startFrame: 48000 * 3, seeking: seeking)
        defer { source.close() }
        let (samples, end) = Self.readAll(source)
        #expect(end == .ended)
        #expect(samples.count == 0)
        // libsndfile refuses a seek past the length its header gives: the source decodes its way there instead.
        #expect(source.entry == .decodeAndSkip)
    }

    @Test("A consumer slower than the decoder never finds more than the ring's capacity decoded ahead, and loses nothing")
    func slowConsumerKeepsTheRingBounded() throws {
        let fixtures = try Fixtures()
        let url = try Self.programme(fixtures, format: "wav", rate: 48000, seconds: 10)
        let expected = try decodeAll(url.path)
        let source = try FileSource(path: url.path, bufferSeconds: 0.5)
        defer { source.close() }
        #expect(source.capacityFrames == 24000)
        // 1,000 frames every 2 ms: 10 s of audio in about 1 s, far slower than libsndfile reads a WAV.
        var seenAhead = 0
        let channels = source.format.channels
        var samples: [Float] = []
        var buffer = [Float](repeating: 0, count: 1000 * channels)
        loop: while true {
            seenAhead = max(seenAhead, source.bufferedFrames)
            let result = buffer.withUnsafeMutableBufferPointer { out in
                out.baseAddress.map { source.read(into: $0, frames: 1000) } ?? .ended
            }
            switch result {
            case let .frames(n): samples += buffer[0..<(n * channels)]
            case .underflow: break
            case .ended, .failed: break loop
            }
            Thread.sleep(forTimeInterval: 0.002)
        }
        #expect(source.highWaterFrames <= source.capacityFrames, "\(source.highWaterFrames) frames held at once")
        #expect(seenAhead <= source.capacityFrames)
        // The decoder did run ahead as far as the ring let it: the bound was what held it.
        #expect(source.highWaterFrames >= source.capacityFrames - 4096, "\(source.highWaterFrames)")
        let same = samples == expected, difference = Self.largestDifference(samples[...], expected[...])
        #expect(same, "\(samples.count / 2) frames read of \(expected.count / 2), largest difference \(difference)")
    }

    @Test("While the decoder is behind, a read says so at once instead of waiting")
    func underflowIsReportedNotWaitedFor() throws {
        let fixtures = try Fixtures()
        // Three minutes of MP3 entered near its end by decoding everything before: the decoder is behind for a while.
        let url = try Self.programme(fixtures, format: "mp3", rate: 44100, seconds: 180)
        let source = try FileSource(path: url.path, startFrame: 48000 * 175, seeking: false)
        defer { source.close() }
        var buffer = [Float](repeating: 0, count: 4096 * 2)
        var underflows = 0, slowest = 0.0
        var first: SourceRead?
        for _ in 0..<20 {
            let start = Date()
            let result = buffer.withUnsafeMutableBufferPointer { out in
                out.baseAddress.map { source.read(into: $0, frames: 4096) } ?? .ended
            }
            slowest = max(slowest, Date().timeIntervalSince(start))
            if first == nil { first = result }
            if result == .underflow { underflows += 1 }
        }
        #expect(first == .underflow)
        #expect(underflows > 0)
        #expect(source.entry == nil, "the decoder had already reached the entry")
        // A read copies at most 4096 frames under a lock it shares with nothing slow: far under a millisecond, and 50 ms
        // even on a loaded machine; one that waited for the decoder would take the skip's 0.3 s or more.
        #expect(slowest < 0.05, "a read took \(slowest) s")
        let (rest, end) = Self.readAll(source)
        #expect(end == .ended)
        #expect(abs(rest.count / 2 - 5 * 48000) < 2000, "\(rest.count / 2) frames after the entry")
    }

    /// A FLAC cut in half (libFLAC loses sync at the cut) and an MP3 with 20 KB of garbage a third of the way in
    /// (libmpg123 fails there).
    static let damaged: [(format: String, rate: Int, cut: Bool)] = [("flac", 44100, true), ("flac", 48000, true), ("mp3", 44100, false)]

    @Test("A damaged file reports its failure after every good frame before it", arguments: damaged)
    func failureAfterTheGoodFrames(format: String, rate: Int, cut: Bool) throws {
        let fixtures = try Fixtures()
        let url = try Self.programme(fixtures, format: format, rate: rate, seconds: 6)
        let intact = try decodeAll(url.path)
        var bytes = try Data(contentsOf: url)
        if cut {
            bytes = bytes.prefix(bytes.count / 2)
        } else {
            for k in (bytes.count / 3)..<(bytes.count / 3 + 20000) { bytes[k] = UInt8(truncatingIfNeeded: k &* 7919) }
        }
        let damaged = fixtures.folder.appendingPathComponent("hong.\(format)")
        try bytes.write(to: damaged)
        let (good, error) = try Self.decodeUntilFailure(damaged.path)
        let decodeError = try #require(error, "libsndfile read the damaged \(format) to an end without an error")

        let source = try FileSource(path: damaged.path)
        defer { source.close() }
        let (samples, end) = Self.readAll(source)
        #expect(end == .failed(decodeError))
        if case let .failed(failure) = end {
            #expect(failure.description.hasPrefix(damaged.path + ": không giải mã được: tệp hỏng hoặc bị cắt giữa chừng"), "\(failure)")
        }
        let same = samples == good
        #expect(same, "\(samples.count / 2) frames read, the plain decoder gave \(good.count / 2)")
        // The good frames are the intact file's up to near the damage (the decoder's last frame before it may differ).
        let share = Double(samples.count) / Double(intact.count)
        #expect(share > (cut ? 0.45 : 0.28) && share < (cut ? 0.55 : 0.38), "\(share) of the file before the failure")
        let clean = samples.count - 2 * 4800
        let sameAsIntact = samples[..<clean] == intact[..<clean]
        #expect(sameAsIntact, "largest difference from the intact file \(Self.largestDifference(samples[..<clean], intact[..<clean]))")
    }

    @Test("Close returns at once while the decoder waits for room in a full ring, and its thread has ended")
    func closeWhileTheDecoderWaits() throws {
        let fixtures = try Fixtures()
        let url = try Self.programme(fixtures, format: "wav", rate: 48000, seconds: 10)
        let source = try FileSource(path: url.path, bufferSeconds: 0.5)
        let deadline = Date().addingTimeInterval(10)
        while source.bufferedFrames < source.capacityFrames - 4096 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(source.bufferedFrames >= source.capacityFrames - 4096, "the ring never filled")
        #expect(Self.openDescriptors(of: url.path) == 1)
        // Closed from another thread, watched with a time limit: a close that hangs fails here instead of hanging the suite.
        let closed = DispatchSemaphore(value: 0)
        let start = Date()
        let stillOpen = LockedCount()
        let path = url.path
        Thread { [source] in
            source.close()
            // At once, before anything else runs here: the decode thread let go of the file before close returned.
            stillOpen.set(Self.openDescriptors(of: path))
            closed.signal()
        }.start()
        let returned = closed.wait(timeout: .now() + 2) == .success
        let elapsed = Date().timeIntervalSince(start)
        #expect(returned, "close did not return within 2 s")
        #expect(elapsed < 0.25, "close took \(elapsed) s")
        #expect(stillOpen.value == 0, "the file was still open when close returned")
        var buffer = [Float](repeating: 0, count: 2)
        #expect(source.read(into: &buffer, frames: 1) == .ended)
        #expect(source.bufferedFrames == 0)
    }

    @Test("A source let go without a close stops its thread and closes its file")
    func droppedWithoutClose() throws {
        let fixtures = try Fixtures()
        let url = try Self.programme(fixtures, format: "wav", rate: 48000, seconds: 10)
        do {
            let source = try FileSource(path: url.path, bufferSeconds: 0.5)
            let deadline = Date().addingTimeInterval(10)
            while source.bufferedFrames < source.capacityFrames - 4096 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            #expect(Self.openDescriptors(of: url.path) == 1)
        }
        // The decode thread does not hold the source, so its deinit ran here and waited for the thread.
        #expect(Self.openDescriptors(of: url.path) == 0)
    }

    @Test("A file that cannot be opened is refused when the source is made, naming it")
    func refusedAtOpen() throws {
        let fixtures = try Fixtures()
        let missing = fixtures.folder.appendingPathComponent("khong-co.mp3").path
        #expect(throws: AudioError.decode(path: missing, message: "không có tệp này")) { try FileSource(path: missing) }
        let garbage = fixtures.folder.appendingPathComponent("rac.wav")
        try Data(repeating: 0x55, count: 5000).write(to: garbage)
        do {
            _ = try FileSource(path: garbage.path)
            Issue.record("a file of garbage was opened")
        } catch {
            #expect(error.description.hasPrefix(garbage.path + ": không giải mã được"))
        }
    }
}

/// A count one thread sets and another reads.
final class LockedCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = -1
    var value: Int { lock.withLock { count } }
    func set(_ value: Int) { lock.withLock { count = value } }
}

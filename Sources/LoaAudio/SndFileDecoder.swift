import CSndFile
import CSoxr
import Foundation
import LoaCore

/// What a file's header and body say: libsndfile's reading, or FFmpeg's for what libsndfile refuses.
public struct MediaInfo: Sendable, Hashable {
    public var frames: Int
    public var sampleRate: Int
    public var channels: Int
    /// libsndfile's names, e.g. `WAV/Signed 16 bit PCM`, `M1A/MPEG Layer III`, `FLAC/Signed 16 bit PCM`, `OGG/Vorbis`,
    /// `OGG/Opus`; for what FFmpeg reads, container and codec, e.g. `MP4/AAC`, `ADTS/AAC`, `WEBM/OPUS`, `AMR/AMR_NB`,
    /// `ASF/WMAV2`.
    public var format: String
    /// EBU R128 loudness of the whole file as played; only ``SndFileDecoder/probe(path:)`` measures it.
    public var loudness: Loudness? = nil
    /// The frames the file's header announces (an MP3's Xing/LAME frame count, FLAC's STREAMINFO, a WAV's data
    /// chunk): after ``SndFileDecoder/probe(path:)``, more than ``frames`` when the file ends early (a cut copy).
    public var declaredFrames: Int? = nil

    public var durationSeconds: Double { Double(frames) / Double(sampleRate) }

    /// The seconds the header announces beyond what decodes, when that is more than a tenth of a second and 1 %:
    /// the file was cut (a copy stopped midway, a download cut short). nil when it is whole as far as can be told.
    public var missingSeconds: Double? {
        guard let declaredFrames, declaredFrames > frames else { return nil }
        let missing = Double(declaredFrames - frames) / Double(sampleRate)
        return missing >= Segment.minimumSeconds && Double(declaredFrames - frames) > 0.01 * Double(declaredFrames) ? missing : nil
    }

    /// What the officer is told of a file that ends early.
    public var missingWarning: String? {
        missingSeconds.map { missing in
            "tệp kết thúc sớm: phần đầu tệp ghi \(formatSeconds(Double(declaredFrames ?? frames) / Double(sampleRate))) nhưng chỉ giải mã được "
                + "\(formatSeconds(durationSeconds)) (thiếu \(formatSeconds(missing)); tệp bị cắt khi chép hoặc tải): chép lại bản đầy đủ"
        }
    }
}

/// Decodes a file and converts it to the output format (channel mapping, and libsoxr when the rates differ): WAV,
/// MP3, FLAC and Ogg with libsndfile, and what libsndfile refuses (M4A/AAC, WebM, AMR, WMA) with FFmpeg's libraries,
/// chosen by the file's content (``openAudioFile(_:)``).
///
/// The first sample of the file is the first sample out, whatever the format: libsndfile trims MP3
/// encoder delay and padding (LAME tag), FFmpeg an AAC or Opus encoder's priming as the container says, and
/// libsoxr's linear-phase filter is compensated for its delay.
/// Resampling uses libsoxr's medium-quality recipe: passband flat to 91 % of the lower Nyquist
/// (20 kHz from 44.1 kHz), 96 dB stopband, broadcast-grade for speech and music, at about a tenth of
/// libsamplerate's `SRC_SINC_FASTEST` cost, whose 80 % passband was also narrower.
public final class SndFileDecoder {
    public let path: String
    public let info: MediaInfo
    public let output: AudioFormat
    private let file: any AudioFileReader
    private var resampler: soxr_t?
    /// Channels carried through the resampler: the fewer of the file's and the output's, so a mono
    /// file is resampled once and copied to both channels after, and extra channels are dropped before.
    private let carried: Int
    private var readBuffer: [Float]      // file channels, interleaved; `carried` channels once compacted
    private var pendingStart = 0, pendingCount = 0
    private var resampled: [Float]       // `carried` channels at the output rate, before widening
    private var endOfInput = false
    private var finished = false
    /// A decode error met after good frames: thrown by the read after they have been returned.
    private var failure: AudioError?

    private static let chunkFrames = 4096

    public init(path: String, output: AudioFormat = .broadcast) throws(AudioError) {
        self.path = path
        self.output = output
        file = try openAudioFile(path)
        info = file.info
        carried = min(info.channels, output.channels)
        readBuffer = [Float](repeating: 0, count: SndFileDecoder.chunkFrames * info.channels)
        resampled = info.channels < output.channels ? [Float](repeating: 0, count: SndFileDecoder.chunkFrames * carried) : []
        if info.sampleRate != output.sampleRate {
            resampler = try SndFileDecoder.makeResampler(from: info.sampleRate, to: output.sampleRate, channels: carried, path: path)
        }
    }

    /// libsoxr, medium quality, for interleaved float; the same recipe for playout and for the playout copy.
    static func makeResampler(from inRate: Int, to outRate: Int, channels: Int, path: String) throws(AudioError) -> soxr_t? {
        var error: soxr_error_t?
        var io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        var quality = soxr_quality_spec(UInt(SOXR_MQ), 0)
        // One thread: soxr's OpenMP workers spin, which costs many times the work on a busy machine.
        var runtime = soxr_runtime_spec(1)
        let state = soxr_create(Double(inRate), Double(outRate), UInt32(channels), &error, &io, &quality, &runtime)
        if let error {
            if let state { soxr_delete(state) }
            throw .resample(path: path, message: String(cString: error))
        }
        return state
    }

    deinit {
        if let resampler { soxr_delete(resampler) }
    }

    /// Fills up to `frames` frames of `buffer` (output format, interleaved); returns how many.
    /// Returns 0 only at the end of the file. A decode error is thrown once every good frame before it has been
    /// returned (the resampler's tail included).
    public func read(into buffer: UnsafeMutablePointer<Float>, frames: Int) throws(AudioError) -> Int {
        var produced = 0
        while produced < frames, !finished {
            let want = frames - produced
            let out = buffer + produced * output.channels
            let generated = if let resampler {
                try resample(resampler, into: out, frames: want)
            } else {
                copy(into: out, frames: want)
            }
            produced += generated
            if generated == 0 && endOfInput && pendingCount == 0 { finished = true }
        }
        if produced == 0, let failure { throw failure }
        return produced
    }

    /// Moves, before the first read, so that the next read returns output frame `frame` (counted at the output rate
    /// from the file's first frame) by seeking in the file, and returns true; returns false, having moved nothing,
    /// when the file cannot be sought there (a length in the header shorter than the file, a stream that cannot seek,
    /// a file FFmpeg reads): the caller then decodes and drops with ``skip(frames:)``.
    ///
    /// The file is sought a little before `frame`, to a frame where the input and output grids meet (every 147 input
    /// frames from 44.1 to 48 kHz), and the frames up to `frame` are decoded and dropped, so that the decoder and the
    /// resampler have the history a decode from the start would have given them. What follows is that decode: bit
    /// for bit for WAV, FLAC and Ogg at the output rate, within 2⁻²⁴ (one rounding) for MP3, and within 4·10⁻⁷ once
    /// resampled (the filter's sums taken in another order), all measured by the tests.
    public func seek(toFrame frame: Int) throws(AudioError) -> Bool {
        guard frame > 0 else { return true }
        let common = SndFileDecoder.gcd(info.sampleRate, output.sampleRate)
        let inStep = info.sampleRate / common, outStep = output.sampleRate / common
        let preroll = (info.format.contains("MPEG") ? SndFileDecoder.mpegPrerollFrames : 0)
            + (resampler == nil ? 0 : SndFileDecoder.resamplerPrerollFrames)
        let block = max(0, frame / outStep * inStep - preroll) / inStep
        guard file.seek(toFrame: block * inStep) else { return false }
        if let resampler { soxr_clear(resampler) }
        (pendingStart, pendingCount, endOfInput, finished, failure) = (0, 0, false, false, nil)
        _ = try skip(frames: frame - block * outStep)
        return true
    }

    /// Decodes and drops up to `frames` output frames; returns how many there were (fewer at the end of the file).
    public func skip(frames: Int) throws(AudioError) -> Int {
        var scratch = [Float](repeating: 0, count: SndFileDecoder.chunkFrames * output.channels)
        var done = 0
        while done < frames {
            let n = try scratch.withUnsafeMutableBufferPointer { (samples) throws(AudioError) -> Int in
                guard let base = samples.baseAddress else { return 0 }
                return try read(into: base, frames: min(SndFileDecoder.chunkFrames, frames - done))
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Input frames decoded and dropped before an MPEG seek point. libmpg123 starts there without the bit reservoir
    /// and filter-bank state of the frames before: a bare seek into a VBR MP3 was off by up to 0.34 for about 2,000
    /// samples; after four frames of 1,152 the output matched a decode from the start to 2⁻²⁴.
    static let mpegPrerollFrames = 4608
    /// Input frames a fresh resampler is fed before the seek point: libsoxr's medium-quality filter settles within
    /// 256 output frames (measured from 22.05, 32 and 44.1 kHz to 48 kHz); this is over eight times that from 44.1 kHz.
    static let resamplerPrerollFrames = 2048

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    /// Without resampling: straight from libsndfile into the caller's buffer when the channels agree.
    private func copy(into out: UnsafeMutablePointer<Float>, frames: Int) -> Int {
        guard !endOfInput else { return 0 }
        if info.channels == output.channels { return readFile(into: out, frames: frames) }
        let n = readBuffer.withUnsafeMutableBufferPointer { all in
            all.baseAddress.map { readFile(into: $0, frames: min(frames, SndFileDecoder.chunkFrames)) } ?? 0
        }
        readBuffer.withUnsafeBufferPointer { src in
            guard let base = src.baseAddress else { return }
            SndFileDecoder.map(base, channels: info.channels, into: out, channels: output.channels, frames: n)
        }
        return n
    }

    private func resample(_ state: soxr_t, into out: UnsafeMutablePointer<Float>, frames: Int) throws(AudioError) -> Int {
        if pendingCount == 0, !endOfInput { refill() }
        let widen = carried < output.channels
        let capacity = widen ? min(frames, SndFileDecoder.chunkFrames) : frames
        var used = 0, generated = 0
        let error: soxr_error_t? = readBuffer.withUnsafeBufferPointer { src in
            resampled.withUnsafeMutableBufferPointer { wide in
                guard let base = src.baseAddress else { return nil }
                // A null input tells soxr the input has ended, so it flushes the filter's tail.
                let input = endOfInput && pendingCount == 0 ? nil : UnsafeRawPointer(base + pendingStart * carried)
                let target = widen ? UnsafeMutableRawPointer(wide.baseAddress) : UnsafeMutableRawPointer(out)
                return soxr_process(state, input, pendingCount, &used, target, capacity, &generated)
            }
        }
        if let error { throw .resample(path: path, message: String(cString: error)) }
        pendingStart += used
        pendingCount -= used
        if widen {
            resampled.withUnsafeBufferPointer { src in
                guard let base = src.baseAddress else { return }
                SndFileDecoder.map(base, channels: carried, into: out, channels: output.channels, frames: generated)
            }
        }
        return generated
    }

    /// Reads a chunk and keeps only the channels the resampler carries.
    private func refill() {
        let frames = readBuffer.withUnsafeMutableBufferPointer { all in
            all.baseAddress.map { readFile(into: $0, frames: SndFileDecoder.chunkFrames) } ?? 0
        }
        let inCh = info.channels, keep = carried
        if keep < inCh {
            readBuffer.withUnsafeMutableBufferPointer { buffer in
                // In place, front to back: frame f's kept channels land at or before where they were read.
                for f in 0..<frames {
                    for c in 0..<keep { buffer[f * keep + c] = buffer[f * inCh + c] }
                }
            }
        }
        pendingStart = 0
        pendingCount = frames
    }

    /// Mono is copied to every output channel; extra input channels beyond the output's are dropped.
    private static func map(_ src: UnsafePointer<Float>, channels inCh: Int,
                            into dst: UnsafeMutablePointer<Float>, channels outCh: Int, frames: Int) {
        if inCh == 1 && outCh == 2 {
            for f in 0..<frames {
                let s = src[f]
                dst[2 * f] = s
                dst[2 * f + 1] = s
            }
            return
        }
        for f in 0..<frames {
            for c in 0..<outCh { dst[f * outCh + c] = src[f * inCh + min(c, inCh - 1)] }
        }
    }

    /// Reads up to `frames` file frames. The input ends at the file's end or at an error; the frames read before an
    /// error are kept, and the error is thrown after them.
    private func readFile(into out: UnsafeMutablePointer<Float>, frames: Int) -> Int {
        let n = file.read(into: out, frames: frames)
        if let error = file.failure { failure = error }
        if n == 0 || failure != nil { endOfInput = true }
        return n
    }

    /// Decodes the whole file to prove it is playable, to count its real frames (MP3 headers can lie)
    /// and, in the same pass, to measure its loudness and, given `playoutCopy` (a path), to write the
    /// file's playout copy there (see ``PlayoutCopyWriter``). Any format the decoder reads is probed the same way, and
    /// its length is the frames decoded, whatever a container says (an AMR or raw AAC file's is a guess from its bit
    /// rate). Throws what the decoding library said if any part fails; a copy that was not finished is removed.
    public static func probe(path: String, playoutCopy: String? = nil, output: AudioFormat = .broadcast) throws(AudioError) -> MediaInfo {
        let file = try openAudioFile(path)
        var info = file.info
        let meter = try LoudnessMeter(sampleRate: info.sampleRate, channels: info.channels, source: path)
        let copy = try playoutCopy.map { (destination) throws(AudioError) in
            try PlayoutCopyWriter(destination: destination, sourceRate: info.sampleRate, channels: info.channels,
                                  output: output, source: path)
        }
        var buffer = [Float](repeating: 0, count: chunkFrames * info.channels)
        var total = 0
        while case let n = buffer.withUnsafeMutableBufferPointer({ samples in
            samples.baseAddress.map { file.read(into: $0, frames: chunkFrames) } ?? 0
        }), n > 0 {
            total += n
            try meter.add(buffer, frames: n)
            if let copy {
                let inCh = info.channels, keep = copy.channels
                try buffer.withUnsafeMutableBufferPointer { (samples) throws(AudioError) in
                    guard let base = samples.baseAddress else { return }
                    // Channels past the copy's are dropped in place, front to back, once the meter has seen them.
                    if keep < inCh {
                        for f in 0..<n { for c in 0..<keep { base[f * keep + c] = base[f * inCh + c] } }
                    }
                    try copy.add(base, frames: n)
                }
            }
        }
        if let failure = file.failure { throw failure }
        guard total > 0 else { throw .decode(path: path, message: "tệp không có mẫu âm thanh nào") }
        // A piece of a file decodes to a few frames that would air as nothing and be counted as an airing.
        guard Double(total) / Double(info.sampleRate) >= Segment.minimumSeconds else {
            throw .decode(path: path, message: "chỉ giải mã được \(secondsText(Double(total) / Double(info.sampleRate))) âm thanh, "
                          + "dưới \(secondsText(Segment.minimumSeconds)): tệp bị cắt hoặc chỉ là một mẩu, chép lại bản đầy đủ")
        }
        try copy?.finish()
        info.declaredFrames = file.declaredFrames
        info.frames = total
        info.loudness = meter.loudness
        return info
    }

    /// The frames a RIFF/WAVE file's `data` chunk declares, from its `fmt ` block size; nil for other files and for
    /// a size left open (0 or 0xFFFFFFFF, as a recorder writing a stream leaves it). libsndfile trims a declared
    /// size the file cannot hold, so a WAV cut in half would otherwise look whole.
    static func wavDeclaredFrames(_ path: String) -> Int? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 12), head.count == 12,
              head.prefix(4) == Data("RIFF".utf8), head.suffix(4) == Data("WAVE".utf8) else { return nil }
        func le(_ bytes: Data) -> Int { bytes.reversed().reduce(0) { $0 << 8 | Int($1) } }
        var offset: UInt64 = 12
        var blockAlign: Int?
        // A handful of chunks at most come before `data` (fmt, fact, LIST, bext…): the walk is bounded.
        for _ in 0..<64 {
            guard (try? handle.seek(toOffset: offset)) != nil, let header = try? handle.read(upToCount: 8), header.count == 8 else { return nil }
            let id = String(decoding: header.prefix(4), as: UTF8.self), size = le(header.suffix(4))
            if id == "fmt ", let fmt = try? handle.read(upToCount: 14), fmt.count == 14 {
                blockAlign = le(fmt.subdata(in: 12..<14))
            }
            if id == "data" {
                // A recorder killed before it closed the file leaves the largest size it could write there.
                guard let blockAlign, blockAlign > 0, size > 0, size < 0x7FFF_0000 else { return nil }
                return size / blockAlign
            }
            offset += 8 + UInt64(size) + UInt64(size & 1)
        }
        return nil
    }

    /// Whether an MPEG audio file's first frame carries a Xing, Info or VBRI tag: the encoder's count of its frames.
    static func mpegHasFrameCount(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard var head = try? handle.read(upToCount: 10) else { return false }
        var start: UInt64 = 0
        // An ID3v2 tag comes first: its size is four 7-bit bytes.
        if head.count == 10, head.prefix(3) == Data("ID3".utf8) {
            start = 10 + head[6...9].reduce(0) { $0 << 7 | UInt64($1 & 0x7F) }
        }
        guard (try? handle.seek(toOffset: start)) != nil, let frame = try? handle.read(upToCount: 4096) else { return false }
        head = frame
        return [Data("Xing".utf8), Data("Info".utf8), Data("VBRI".utf8)].contains { head.range(of: $0) != nil }
    }

    static func formatName(_ format: Int32) -> String {
        var major = SF_FORMAT_INFO(format: format & Int32(SF_FORMAT_TYPEMASK), name: nil, extension: nil)
        var sub = SF_FORMAT_INFO(format: format & Int32(SF_FORMAT_SUBMASK), name: nil, extension: nil)
        sf_command(nil, Int32(SFC_GET_FORMAT_INFO), &major, Int32(MemoryLayout<SF_FORMAT_INFO>.size))
        sf_command(nil, Int32(SFC_GET_FORMAT_INFO), &sub, Int32(MemoryLayout<SF_FORMAT_INFO>.size))
        let majorName = major.extension.map { String(cString: $0).uppercased() } ?? "?"
        let subName = sub.name.map { String(cString: $0) } ?? "?"
        return "\(majorName)/\(subName)"
    }
}

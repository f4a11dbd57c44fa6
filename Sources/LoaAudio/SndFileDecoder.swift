import CSampleRate
import CSndFile
import Foundation
import LoaCore

/// What libsndfile reads from a file's header and body.
public struct MediaInfo: Sendable, Hashable {
    public var frames: Int
    public var sampleRate: Int
    public var channels: Int
    /// e.g. `WAV/PCM_16`, `MPEG/MPEG_LAYER_III`, `FLAC/PCM_16`, `OGG/VORBIS`.
    public var format: String
    /// EBU R128 loudness of the whole file as played; only ``SndFileDecoder/probe(path:)`` measures it.
    public var loudness: Loudness? = nil

    public var durationSeconds: Double { Double(frames) / Double(sampleRate) }
}

/// Decodes WAV, MP3, FLAC and Ogg with libsndfile and converts to the output format
/// (channel mapping, then libsamplerate when the rates differ).
public final class SndFileDecoder {
    public let path: String
    public let info: MediaInfo
    public let output: AudioFormat
    private var file: OpaquePointer
    private var resampler: OpaquePointer?
    private let ratio: Double
    private var readBuffer: [Float]      // file channels, interleaved
    private var mapped: [Float]          // output channels, at the file's rate
    private var mappedStart = 0, mappedCount = 0
    private var endOfInput = false
    private var finished = false

    private static let chunkFrames = 4096

    public init(path: String, output: AudioFormat = .broadcast) throws(AudioError) {
        self.path = path
        self.output = output
        (file, info) = try SndFileDecoder.open(path)
        ratio = Double(output.sampleRate) / Double(info.sampleRate)
        readBuffer = [Float](repeating: 0, count: SndFileDecoder.chunkFrames * info.channels)
        mapped = [Float](repeating: 0, count: SndFileDecoder.chunkFrames * output.channels)
        if info.sampleRate != output.sampleRate {
            var error: Int32 = 0
            resampler = src_new(Int32(SRC_SINC_FASTEST), Int32(output.channels), &error)
            if resampler == nil {
                sf_close(file)
                throw .resample(path: path, message: String(cString: src_strerror(error)))
            }
        }
    }

    deinit {
        sf_close(file)
        if let resampler { src_delete(resampler) }
    }

    /// Fills up to `frames` frames of `buffer` (output format, interleaved); returns how many.
    /// Returns 0 only at the end of the file.
    public func read(into buffer: UnsafeMutablePointer<Float>, frames: Int) throws(AudioError) -> Int {
        var produced = 0
        while produced < frames, !finished {
            if mappedCount == 0, !endOfInput { try refill() }
            let want = frames - produced
            let out = buffer + produced * output.channels
            if let resampler {
                let generated: Int
                do { generated = try resample(resampler, into: out, frames: want) } catch { throw error }
                produced += generated
                if generated == 0 && endOfInput && mappedCount == 0 { finished = true }
            } else {
                let n = min(want, mappedCount)
                mapped.withUnsafeBufferPointer { src in
                    guard let base = src.baseAddress else { return }
                    out.update(from: base + mappedStart * output.channels, count: n * output.channels)
                }
                mappedStart += n
                mappedCount -= n
                produced += n
                if mappedCount == 0 && endOfInput { finished = true }
            }
        }
        return produced
    }

    private func refill() throws(AudioError) {
        let frames = try SndFileDecoder.readFrames(file, into: &readBuffer, path: path)
        if frames == 0 { endOfInput = true }
        let inCh = info.channels, outCh = output.channels
        readBuffer.withUnsafeBufferPointer { src in
            mapped.withUnsafeMutableBufferPointer { dst in
                for f in 0..<frames {
                    for c in 0..<outCh {
                        // Mono is copied to every output channel; extra input channels beyond the output's are dropped.
                        dst[f * outCh + c] = src[f * inCh + min(c, inCh - 1)]
                    }
                }
            }
        }
        mappedStart = 0
        mappedCount = frames
    }

    private func resample(_ state: OpaquePointer, into out: UnsafeMutablePointer<Float>, frames: Int) throws(AudioError) -> Int {
        var data = SRC_DATA()
        let status: Int32 = mapped.withUnsafeBufferPointer { src in
            guard let base = src.baseAddress else { return 0 }
            data.data_in = base + mappedStart * output.channels
            data.input_frames = mappedCount
            data.data_out = out
            data.output_frames = frames
            data.end_of_input = endOfInput ? 1 : 0
            data.src_ratio = ratio
            return src_process(state, &data)
        }
        if status != 0 { throw .resample(path: path, message: String(cString: src_strerror(status))) }
        mappedStart += Int(data.input_frames_used)
        mappedCount -= Int(data.input_frames_used)
        return Int(data.output_frames_gen)
    }

    /// Decodes the whole file to prove it is playable, to count its real frames (MP3 headers can lie)
    /// and, in the same pass, to measure its loudness. Throws what libsndfile said if any part fails.
    public static func probe(path: String) throws(AudioError) -> MediaInfo {
        var (handle, info) = try open(path)
        defer { sf_close(handle) }
        let meter = try LoudnessMeter(sampleRate: info.sampleRate, channels: info.channels, source: path)
        var buffer = [Float](repeating: 0, count: chunkFrames * info.channels)
        var total = 0
        while case let n = try readFrames(handle, into: &buffer, path: path), n > 0 {
            total += n
            try meter.add(buffer, frames: n)
        }
        guard total > 0 else { throw .decode(path: path, message: "tệp không có mẫu âm thanh nào") }
        info.frames = total
        info.loudness = meter.loudness
        return info
    }

    /// Opens `path` with libsndfile and reads its header; the caller closes the handle.
    static func open(_ path: String) throws(AudioError) -> (OpaquePointer, MediaInfo) {
        var sfInfo = SF_INFO()
        guard let handle = sf_open(path, Int32(SFM_READ), &sfInfo) else { throw openError(path) }
        guard sfInfo.channels > 0, sfInfo.samplerate > 0 else {
            sf_close(handle)
            throw .decode(path: path, message: "tệp không có kênh âm thanh")
        }
        return (handle, MediaInfo(frames: Int(sfInfo.frames), sampleRate: Int(sfInfo.samplerate),
                                  channels: Int(sfInfo.channels), format: formatName(sfInfo.format)))
    }

    /// Reads up to a chunk of interleaved frames into `buffer` (sized for a chunk); 0 at the end of the file.
    static func readFrames(_ handle: OpaquePointer, into buffer: inout [Float], path: String) throws(AudioError) -> Int {
        let n = buffer.withUnsafeMutableBufferPointer { sf_readf_float(handle, $0.baseAddress, sf_count_t(chunkFrames)) }
        if n < 0 || sf_error(handle) != 0 { throw .decode(path: path, message: String(cString: sf_strerror(handle))) }
        return Int(n)
    }

    /// libsndfile's own message for a failed open is often about the wrong thing (it blames pipes for
    /// an unknown format), so say what the operator can act on and keep its words in brackets.
    static func openError(_ path: String) -> AudioError {
        let detail = String(cString: sf_strerror(nil))
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .decode(path: path, message: "không có tệp này")
        }
        if isDirectory.boolValue { return .decode(path: path, message: "đây là thư mục, không phải tệp âm thanh") }
        guard FileManager.default.isReadableFile(atPath: path) else { return .decode(path: path, message: "không có quyền đọc") }
        return .decode(path: path, message: "không phải WAV, MP3, FLAC hay Ogg, hoặc tệp bị hỏng (libsndfile: \(detail))")
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

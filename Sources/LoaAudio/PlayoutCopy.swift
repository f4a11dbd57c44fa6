import CSndFile
import CSoxr
import Foundation

/// The playout copy of a library file: its decoded audio at the output rate as 16-bit PCM WAV, with the
/// file's own channels (one or two; channels past the second are dropped, as playout drops them).
///
/// Made once at import, so airing it costs a WAV read and no MP3/FLAC decode or resampling (as Rivendell
/// does). Mono stays mono: the decoder copies it to both output channels at no cost. The original file stays
/// the reference for the SHA-256, the loudness and the reports.
///
/// Fed by ``SndFileDecoder/probe(path:playoutCopy:)`` in the same pass that measures loudness. The audio is
/// written to a temporary name beside the destination, synced, and renamed over it, so a copy under its real
/// name is always whole.
public final class PlayoutCopyWriter {
    /// Where the finished copy lives.
    public let destination: String
    /// The copy's channel count: the source's, at most the output's.
    public let channels: Int
    let temporary: String
    let source: String
    private var file: OpaquePointer?
    private var resampler: soxr_t?
    private var converted: [Float]
    private var finished = false

    /// The copy's folder under the audio folder: hidden, so it is not taken for content.
    public static let folderName = ".playout"

    /// The copy's path relative to the audio folder, named by the original's SHA-256 (one copy per content).
    public static func relativePath(sha256: String) -> String { "\(folderName)/\(sha256).wav" }

    /// Whether a copy at `path` has the size a copy of `durationSeconds` of `channels` channels has (±1 %,
    /// at least ±0.1 s): a copy cut short by a full disk, or not a copy at all, is not aired.
    public static func isSane(path: String, durationSeconds: Double, channels: Int,
                              output: AudioFormat = .broadcast) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attributes[.size] as? NSNumber)?.doubleValue else { return false }
        let bytesPerSecond = Double(output.sampleRate * min(max(channels, 1), output.channels) * 2)
        let expected = durationSeconds * bytesPerSecond
        return abs(size - 44 - expected) <= max(expected / 100, bytesPerSecond / 10)
    }

    /// Opens the temporary file. `sourceRate` and `channels` describe the audio ``add(_:frames:)`` receives.
    public init(destination: String, sourceRate: Int, channels: Int, output: AudioFormat = .broadcast,
                source: String) throws(AudioError) {
        self.destination = destination
        self.channels = min(channels, output.channels)
        self.source = source
        temporary = destination + ".tmp-\(getpid())"
        converted = [Float](repeating: 0, count: 8192 * self.channels)
        do {
            try FileManager.default.createDirectory(atPath: (destination as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
        } catch {
            throw .playoutCopy(path: destination, message: error.localizedDescription)
        }
        unlink(temporary)
        var info = SF_INFO()
        info.samplerate = Int32(output.sampleRate)
        info.channels = Int32(self.channels)
        info.format = Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)
        guard let handle = sf_open(temporary, Int32(SFM_WRITE), &info) else {
            throw .playoutCopy(path: destination, message: String(cString: sf_strerror(nil)))
        }
        file = handle
        // The resampler's overshoot past full scale is clipped, not wrapped round to the other sign.
        sf_command(handle, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        if sourceRate != output.sampleRate {
            resampler = try SndFileDecoder.makeResampler(from: sourceRate, to: output.sampleRate, channels: self.channels, path: source)
        }
    }

    deinit {
        if let file { sf_close(file) }
        if let resampler { soxr_delete(resampler) }
        if !finished { unlink(temporary) }
    }

    /// Adds `frames` interleaved frames of ``channels`` channels at the source rate.
    public func add(_ samples: UnsafePointer<Float>, frames: Int) throws(AudioError) {
        guard let resampler else { return try write(samples, frames: frames) }
        var offset = 0
        while offset < frames {
            let (used, generated) = try process(resampler, samples + offset * channels, frames: frames - offset)
            if used == 0 && generated == 0 { break }
            offset += used
        }
    }

    /// Flushes the resampler's tail, syncs the file to disk and renames it to ``destination``.
    public func finish() throws(AudioError) {
        if let resampler {
            // A null input tells soxr the input has ended: it gives out the filter's tail until it returns nothing.
            while try process(resampler, nil, frames: 0).generated > 0 {}
        }
        guard let handle = file else { return }
        file = nil
        guard sf_close(handle) == 0 else { throw .playoutCopy(path: destination, message: "không đóng được tệp tạm") }
        // sf_close writes the header last, so the sync comes after it, then the rename, then the folder's entry.
        try sync(temporary)
        guard rename(temporary, destination) == 0 else { throw .playoutCopy(path: destination, message: String(cString: strerror(errno))) }
        finished = true
        try sync((destination as NSString).deletingLastPathComponent)
    }

    /// One soxr call; writes what it generated and returns how many input frames it took and how many it made.
    private func process(_ state: soxr_t, _ input: UnsafePointer<Float>?, frames: Int) throws(AudioError)
        -> (used: Int, generated: Int) {
        var used = 0, generated = 0
        let capacity = converted.count / channels
        let error: soxr_error_t? = converted.withUnsafeMutableBufferPointer { out in
            soxr_process(state, input.map(UnsafeRawPointer.init), frames, &used, UnsafeMutableRawPointer(out.baseAddress),
                         capacity, &generated)
        }
        if let error { throw .resample(path: source, message: String(cString: error)) }
        if generated > 0 {
            try converted.withUnsafeBufferPointer { (out) throws(AudioError) in
                guard let base = out.baseAddress else { return }
                try write(base, frames: generated)
            }
        }
        return (used, generated)
    }

    private func write(_ samples: UnsafePointer<Float>, frames: Int) throws(AudioError) {
        guard let file, frames > 0 else { return }
        if sf_writef_float(file, samples, sf_count_t(frames)) != sf_count_t(frames) {
            throw .playoutCopy(path: destination, message: String(cString: sf_strerror(file)))
        }
    }

    private func sync(_ path: String) throws(AudioError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .playoutCopy(path: destination, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .playoutCopy(path: destination, message: String(cString: strerror(errno))) }
    }
}

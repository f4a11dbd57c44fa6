import Foundation

/// A file as an ``AudioSource``: decoded and converted to the engine's format by ``SndFileDecoder`` on a thread of
/// its own (`loa-decode`), a few seconds ahead of the output, into a bounded ring. The output thread only copies
/// frames out: it never decodes, resamples, seeks or waits on the disk.
///
/// Entered at `startFrame` (a join mid-item, a resumption after a preemption), the file is sought by frame where
/// libsndfile can (``SndFileDecoder/seek(toFrame:)``: WAV, FLAC, Ogg and MP3 alike) and decoded and dropped up to
/// there otherwise (a file FFmpeg reads, such as an M4A whose playout copy is missing), on the decode thread either
/// way: a join deep into a long MP3 costs the output thread nothing.
///
/// The file is opened, and its header read, when the source is made: a file that is missing, unreadable or not
/// audio is refused there, naming it. A decode error later is read as ``SourceRead/failed(_:)`` after every good
/// frame before it.
public final class FileSource: AudioSource, @unchecked Sendable {
    /// How the decode thread reached ``startFrame``.
    public enum Entry: Sendable, Hashable {
        /// From the first frame: there was nothing to reach.
        case atStart
        /// By seeking in the file (and decoding the few frames before the entry that settle the decoder).
        case seek
        /// By decoding and dropping every frame before it: the file could not be sought, or seeking was not asked.
        case decodeAndSkip
    }

    public let path: String
    /// What the file's header says (its own rate, channels and format).
    public let info: MediaInfo
    public let format: AudioFormat
    /// Where the first frame read sits in the file, in frames at ``format``'s rate.
    public let startFrame: Int
    public let lengthFrames: Int?
    /// Frames the ring holds at most: the most this source ever keeps decoded ahead.
    public var capacityFrames: Int { ring.capacity }
    public var bufferedFrames: Int { ring.available }
    /// The most frames the ring has held at once, never above ``capacityFrames``.
    public var highWaterFrames: Int { ring.highWater }
    /// How ``startFrame`` was reached; nil while the decode thread is still getting there.
    public var entry: Entry? { job.entry }

    private let ring: FrameRing
    private let job: DecodeJob

    /// The ring's default length: enough to ride out a slow disk or a busy machine, 960 KB at 48 kHz stereo.
    public static let defaultBufferSeconds = 2.5

    /// Opens `path` and starts decoding it from `startFrame` (frames at `format`'s rate from the file's first) on a
    /// thread of its own, keeping up to `bufferSeconds` decoded ahead (a minute at most, one chunk at least).
    /// `seeking: false` decodes and drops up to `startFrame` instead of seeking (for comparison: the two give the
    /// same frames).
    public init(path: String, format: AudioFormat = .broadcast, startFrame: Int = 0,
                bufferSeconds: Double = FileSource.defaultBufferSeconds, seeking: Bool = true) throws(AudioError) {
        let decoder = try SndFileDecoder(path: path, output: format)
        self.path = path
        self.format = format
        self.startFrame = max(0, startFrame)
        info = decoder.info
        // libsndfile says SF_COUNT_MAX for a length it does not know (an Ogg stream cut short).
        lengthFrames = info.frames > 0 && info.frames < Int.max / 4
            ? Int((Double(info.frames) * Double(format.sampleRate) / Double(info.sampleRate)).rounded()) : nil
        // A minute at most: the ring is allocated whole, and a length that is not a number must not trap.
        let seconds = bufferSeconds.isFinite ? min(bufferSeconds, 60) : FileSource.defaultBufferSeconds
        ring = FrameRing(channels: format.channels,
                         capacity: max(DecodeJob.chunkFrames, Int(max(0, seconds) * Double(format.sampleRate))))
        job = DecodeJob(decoder: decoder, ring: ring, startFrame: self.startFrame, seeking: seeking)
        let thread = Thread { [job] in job.run() }
        thread.name = "loa-decode"
        thread.start()
    }

    deinit { close() }

    public func read(into buffer: UnsafeMutablePointer<Float>, frames: Int) -> SourceRead {
        ring.read(into: buffer, frames: frames)
    }

    public func waitForFrames(upTo seconds: Double) -> Bool { ring.waitForFrames(upTo: seconds) }

    /// Wakes the decode thread and waits until it has closed the file and ended: at once while it waits for room, or
    /// after the chunk (about a millisecond) or the seek it is in the middle of.
    public func close() {
        ring.close(waitForProducer: true)
    }
}

/// What the decode thread holds: the decoder (its own from the start, released before the thread ends) and the ring
/// it fills. It does not hold the ``FileSource``, so a source nobody holds any more is closed by its `deinit`.
private final class DecodeJob: @unchecked Sendable {
    /// Frames decoded at a time: the ring's producer waits until this much is free.
    static let chunkFrames = 4096
    /// Frames decoded and dropped between two looks at whether the source was closed, when skipping to the entry.
    static let skipStepFrames = 48000

    private var decoder: SndFileDecoder?
    private let ring: FrameRing
    private let startFrame: Int
    private let seeking: Bool
    private let lock = NSLock()
    private var reached: FileSource.Entry?

    init(decoder: SndFileDecoder, ring: FrameRing, startFrame: Int, seeking: Bool) {
        self.decoder = decoder
        self.ring = ring
        self.startFrame = startFrame
        self.seeking = seeking
    }

    var entry: FileSource.Entry? { lock.withLock { reached } }

    func run() {
        if let decoder { fill(from: decoder) }
        // The file is closed before the source's close() may return.
        decoder = nil
        ring.producerDidExit()
    }

    /// Decodes into the ring until the file ends, fails, or the source is closed.
    private func fill(from decoder: SndFileDecoder) {
        do {
            guard try enter(decoder) else { return }
            let channels = ring.channels
            while let room = ring.room(atLeast: DecodeJob.chunkFrames), let base = room.baseAddress {
                let n = try decoder.read(into: base, frames: min(room.count / channels, DecodeJob.chunkFrames))
                if n == 0 {
                    ring.finish(.ended)
                    return
                }
                ring.commit(n)
            }
        } catch {
            ring.finish(.failed(error))
        }
    }

    /// Reaches the start frame; false when the source was closed on the way.
    private func enter(_ decoder: SndFileDecoder) throws(AudioError) -> Bool {
        if startFrame == 0 {
            lock.withLock { reached = .atStart }
            return true
        }
        if seeking, try decoder.seek(toFrame: startFrame) {
            lock.withLock { reached = .seek }
            return true
        }
        var left = startFrame
        while left > 0 {
            if ring.isClosed { return false }
            let n = try decoder.skip(frames: min(left, DecodeJob.skipStepFrames))
            if n == 0 { break }
            left -= n
        }
        lock.withLock { reached = .decodeAndSkip }
        return true
    }
}

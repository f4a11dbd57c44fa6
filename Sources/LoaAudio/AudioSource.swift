/// Where the output thread takes an item's audio from: a file decoded ahead (``FileSource``), and later a live relay
/// of a stream or a line input. Every source hands out the engine's format, interleaved Float32 at
/// ``format``'s rate and channels, so the output thread never decodes, resamples or waits on a disk or a network.
///
/// A source is read by one thread at a time (the output thread) and never blocks it: ``read(into:frames:)`` returns
/// what is ready now, and says when nothing is, so that the output decides what the loudspeaker hears meanwhile
/// (silence, a fade, the next item). The work of producing the frames (decoding, receiving) runs on a thread of
/// the source's own, into a bounded buffer: MPD's split between its decoder and output threads is the model.
///
/// ```swift
/// let source = try FileSource(path: path, format: engine.format, startFrame: joinAt)
/// defer { source.close() }
/// switch source.read(into: buffer, frames: 4096) {
/// case let .frames(n): write(buffer, n)     // n ≥ 1, maybe fewer than asked
/// case .underflow: fillWithSilence()        // behind: try again next period
/// case .ended: nextItem()
/// case let .failed(error): report(error)    // after every good frame before it
/// }
/// ```
public protocol AudioSource: AnyObject, Sendable {
    /// The format of every frame ``read(into:frames:)`` returns: the engine's.
    var format: AudioFormat { get }
    /// The whole source's length in frames at ``format``'s rate, counted from its first frame (not from where it
    /// was entered), when it is known before the end: a file's header gives it (an MP3 without a Xing or VBRI tag
    /// only an estimate). nil for a source with no end known in advance, such as a live stream.
    var lengthFrames: Int? { get }
    /// Frames ready now: a read of up to this many returns them all without underflow.
    var bufferedFrames: Int { get }
    /// Copies up to `frames` ready frames (interleaved, `frames × format.channels` floats) into `buffer`, without
    /// blocking, and says how many, or why none. After ``SourceRead/ended``, ``SourceRead/failed(_:)`` or
    /// ``close()``, every later read says the same again (``SourceRead/ended`` after a close).
    func read(into buffer: UnsafeMutablePointer<Float>, frames: Int) -> SourceRead
    /// Waits, for at most `seconds`, until a read will not underflow; true when it will. For the output thread after
    /// an underflow: a short, bounded wait for a producer that fell behind, while the device plays what it holds.
    func waitForFrames(upTo seconds: Double) -> Bool
    /// Stops the source's thread and waits for it to end (promptly, even while it waits for room in a full
    /// buffer), and lets go of the file or connection. Safe to call more than once.
    func close()
}

/// What one ``AudioSource/read(into:frames:)`` gave.
public enum SourceRead: Sendable, Equatable {
    /// This many frames, at least one, were copied into the buffer: fewer than asked when no more were ready.
    case frames(Int)
    /// None ready yet, though more will come: the decoder or the network is behind. Nothing was waited for; read
    /// again later. The loudspeaker goes without this source's audio until then (an underflow).
    case underflow
    /// Every frame has been read: the file's end, or a stream that closed normally.
    case ended
    /// Nothing more will come: the file could not be decoded past this point, or the stream broke. Every good
    /// frame before the fault has been returned by earlier reads.
    case failed(AudioError)
}

/// A place samples go: a sound card, or nowhere at a pace. Never sleeps inside: it says how long
/// until it can take more, and the output thread decides how to wait (MPD's output plugins are the model).
public protocol AudioOutput: AnyObject {
    /// The PCM or sink name, for logs and errors.
    var name: String { get }
    var format: AudioFormat { get }
    func open() throws(AudioError)
    /// Takes as many frames as fit now without blocking; returns how many it took.
    func write(_ samples: UnsafeBufferPointer<Float>) throws(AudioError) -> Int
    /// How long until `write` will take more frames; zero when it would now.
    func timeUntilWritable() throws(AudioError) -> Duration
    /// Frames written but not yet heard.
    func queuedFrames() throws(AudioError) -> Int
    /// Blocks until everything written has been heard.
    func drain() throws(AudioError)
    func close()
    /// Lets go of a device that failed while keeping its place at the sound server until `close`: what is
    /// queued is dropped, but the stream stays, so that the server does not find itself with nothing to
    /// play before the replacement is open. Outputs with no server behind them just close.
    func retire()
    /// Underruns recovered from since `open`.
    var xruns: Int { get }
}

/// Takes every frame at once and never plays it: for runs against a virtual clock and unit tests of
/// the engine. `onWrite` lets a virtual clock advance by the audio written, as a real device would.
public final class DiscardOutput: AudioOutput {
    public let name = "null"
    public let format: AudioFormat
    public var xruns: Int { 0 }
    private let onWrite: @Sendable (Int) -> Void

    public init(format: AudioFormat = .broadcast, onWrite: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.format = format
        self.onWrite = onWrite
    }

    public func open() throws(AudioError) {}
    public func write(_ samples: UnsafeBufferPointer<Float>) throws(AudioError) -> Int {
        let frames = samples.count / format.channels
        onWrite(frames)
        return frames
    }
    public func timeUntilWritable() throws(AudioError) -> Duration { .zero }
    public func queuedFrames() throws(AudioError) -> Int { 0 }
    public func drain() throws(AudioError) {}
    public func close() {}
}

extension AudioOutput {
    public func retire() { close() }
}

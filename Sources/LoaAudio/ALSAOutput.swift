import CALSA
import Foundation

/// Plays through an ALSA PCM with libasound, non-blocking, 16-bit interleaved.
public final class ALSAOutput: AudioOutput {
    public let name: String
    public let format: AudioFormat
    /// How much audio the device buffers; more survives scheduling hiccups, less reacts faster.
    public let latency: Duration
    public private(set) var xruns = 0
    private var pcm: OpaquePointer?
    private var periodFrames = 1024
    private var bufferFrames = 8192
    private var scratch: [Int16] = []
    /// Lets the thread holding a retired PCM close it.
    private var release: DispatchSemaphore?

    public init(device: String, format: AudioFormat = .broadcast, latency: Duration = .milliseconds(200)) {
        self.name = device
        self.format = format
        self.latency = latency
    }

    deinit { close() }

    private func fail(_ code: Int32) -> AudioError {
        .device(name: name, code: code, message: String(cString: snd_strerror(code)))
    }

    /// How long opening may take. The pulse plugin waits for its sound server without a timeout: a frozen
    /// server (SIGSTOP, a hung daemon) would hold the output thread, every later slot and SIGTERM with it.
    public static let openTimeout = 2.0

    public func open() throws(AudioError) {
        guard pcm == nil else { return }
        loa_alsa_silence_library_errors()
        let attempt = try OpenAttempt.start(device: name, format: format, latency: latency)
        guard attempt.wait(seconds: ALSAOutput.openTimeout) else {
            throw .stalled(name: name, seconds: ALSAOutput.openTimeout)
        }
        guard let handle = attempt.handle else { throw fail(attempt.code) }
        var bufferSize: snd_pcm_uframes_t = 0, periodSize: snd_pcm_uframes_t = 0
        if snd_pcm_get_params(handle, &bufferSize, &periodSize) >= 0, periodSize > 0 {
            periodFrames = Int(periodSize)
            bufferFrames = Int(bufferSize)
        }
        pcm = handle
        xruns = 0
    }

    public func write(_ samples: UnsafeBufferPointer<Float>) throws(AudioError) -> Int {
        guard let pcm else { throw fail(-EBADFD) }
        let frames = samples.count / format.channels
        if scratch.count < samples.count { scratch = [Int16](repeating: 0, count: samples.count) }
        if let base = samples.baseAddress {
            scratch.withUnsafeMutableBufferPointer { loa_float_to_s16(base, $0.baseAddress, samples.count) }
        }
        while true {
            let written = scratch.withUnsafeBufferPointer { snd_pcm_writei(pcm, $0.baseAddress, snd_pcm_uframes_t(frames)) }
            if written >= 0 {
                // A PCM that was just prepared would wait for a full buffer; start it so time runs from now.
                if snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED, written > 0 { snd_pcm_start(pcm) }
                return Int(written)
            }
            let code = Int32(written)
            if code == -EAGAIN { return 0 }
            if code == -EPIPE || code == -ESTRPIPE || code == -EINTR {
                xruns += 1
                let recovered = snd_pcm_recover(pcm, code, 1)
                if recovered < 0 { throw fail(recovered) }
                continue
            }
            throw fail(code)
        }
    }

    public func timeUntilWritable() throws(AudioError) -> Duration {
        guard let pcm else { throw fail(-EBADFD) }
        let avail = snd_pcm_avail_update(pcm)
        if avail < 0 {
            let code = Int32(avail)
            if code == -EPIPE || code == -ESTRPIPE {
                xruns += 1
                let recovered = snd_pcm_recover(pcm, code, 1)
                if recovered < 0 { throw fail(recovered) }
                return .zero
            }
            throw fail(code)
        }
        // Wake when half the buffer is free, not every period: a sound server's periods are short, and each
        // wake-up costs more than the write it allows. Half the buffer (100 ms) still stands between us and
        // an underrun.
        let wanted = max(periodFrames, bufferFrames / 2)
        if Int(avail) >= wanted { return .zero }
        let missing = wanted - Int(avail)
        return .microseconds(max(1000, missing * 1_000_000 / format.sampleRate))
    }

    public func queuedFrames() throws(AudioError) -> Int {
        guard let pcm else { throw fail(-EBADFD) }
        if snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED {
            // Not started yet: some plugins (pulse) refuse delay queries; what is buffered is what is queued.
            let avail = snd_pcm_avail_update(pcm)
            return avail < 0 ? 0 : max(0, bufferFrames - Int(avail))
        }
        var delay: snd_pcm_sframes_t = 0
        let rc = snd_pcm_delay(pcm, &delay)
        if rc < 0 {
            if rc == -EPIPE { return 0 }
            throw fail(rc)
        }
        return max(0, Int(delay))
    }

    public func drain() throws(AudioError) {
        guard let pcm else { return }
        snd_pcm_nonblock(pcm, 0)
        let rc = snd_pcm_drain(pcm)
        if rc < 0, rc != -EPIPE { throw fail(rc) }
    }

    /// Closes on a thread of its own: closing drops what is queued, and the pulse plugin waits for its
    /// sound server to acknowledge that without a timeout, so a frozen server would hold the caller.
    public func close() {
        release?.signal()
        release = nil
        guard let pcm else { return }
        self.pcm = nil
        ClosingHandle(pcm).closeOnOwnThread()
    }

    /// Drops what is queued, on a thread of its own (the pulse plugin waits for its server without a timeout),
    /// and closes only once `close` is called. PulseAudio's null sink, left with no stream and no monitor
    /// reader for an instant, renders its whole 2 s block ahead and cannot rewind it: a stream opened after
    /// that is not read for up to 2 s, which the stall watchdog takes for a second stall (measured: 1.0 to
    /// 1.9 s of no progress after a reopen, none when the old stream was still there).
    public func retire() {
        guard let pcm else { return }
        self.pcm = nil
        let handle = ClosingHandle(pcm), release = DispatchSemaphore(value: 0)
        self.release = release
        let thread = Thread {
            snd_pcm_drop(handle.pcm)
            release.wait()
            snd_pcm_close(handle.pcm)
        }
        thread.name = "loa-alsa-retire"
        thread.start()
    }
}

/// One `snd_pcm_open` + `snd_pcm_set_params`, on a thread of its own so that the caller can give up on it.
/// An attempt given up on closes what it opens if it ever returns; while one is still stuck, a new one for
/// the same device and direction is refused rather than piling up threads behind a frozen server.
final class OpenAttempt: @unchecked Sendable {
    private static let registry = NSLock()
    nonisolated(unsafe) private static var stuck: Set<String> = []

    private let lock = NSLock()
    private let finished = DispatchSemaphore(value: 0)
    private var abandoned = false
    private(set) var handle: OpaquePointer?
    private(set) var code: Int32 = 0

    static func start(device: String, stream: snd_pcm_stream_t = SND_PCM_STREAM_PLAYBACK, format: AudioFormat,
                      latency: Duration) throws(AudioError) -> OpenAttempt {
        // A capture and a playback of the same PCM are two different opens: one stuck must not refuse the other.
        let key = (stream == SND_PCM_STREAM_CAPTURE ? "capture:" : "playback:") + device
        let busy = registry.withLock { stuck.contains(key) }
        if busy { throw .stalled(name: device, seconds: ALSAOutput.openTimeout) }
        let attempt = OpenAttempt(key: key)
        let micros = UInt32(latency.components.seconds * 1_000_000 + latency.components.attoseconds / 1_000_000_000_000)
        let thread = Thread {
            var handle: OpaquePointer?
            var rc = snd_pcm_open(&handle, device, stream, SND_PCM_NONBLOCK)
            if rc >= 0, let opened = handle {
                rc = snd_pcm_set_params(opened, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED,
                                        UInt32(format.channels), UInt32(format.sampleRate), 1, micros)
                if rc < 0 {
                    snd_pcm_close(opened)
                    handle = nil
                }
            }
            let keep: Bool = attempt.lock.withLock {
                attempt.code = rc < 0 ? rc : 0
                guard !attempt.abandoned else { return false }
                attempt.handle = rc >= 0 ? handle : nil
                return true
            }
            if !keep {
                if rc >= 0, let handle { snd_pcm_close(handle) }
                registry.withLock { _ = stuck.remove(key) }
            }
            attempt.finished.signal()
        }
        thread.name = "loa-alsa-open"
        thread.start()
        return attempt
    }

    private let key: String
    private init(key: String) { self.key = key }

    /// Whether the attempt finished within `seconds`; if not, it is given up on.
    func wait(seconds: Double) -> Bool {
        if finished.wait(timeout: .now() + seconds) == .success { return true }
        return lock.withLock {
            if handle != nil || code != 0 { return true }
            abandoned = true
            OpenAttempt.registry.withLock { _ = OpenAttempt.stuck.insert(key) }
            return false
        }
    }
}

/// A PCM handle handed to the thread that closes it.
struct ClosingHandle: @unchecked Sendable {
    let pcm: OpaquePointer
    init(_ pcm: OpaquePointer) { self.pcm = pcm }

    /// `snd_pcm_close` on a thread of its own: the pulse plugin waits for its sound server without a timeout,
    /// so a frozen server would hold the caller (the output thread, the monitor's capture thread).
    func closeOnOwnThread() {
        let thread = Thread { snd_pcm_close(pcm) }
        thread.name = "loa-alsa-close"
        thread.start()
    }
}

import CALSA
import Foundation
import LoaCore

/// The monitor line: a capture that turns what it hears into level windows stamped on the station's clock.
/// One protocol so the daemon's monitor can be driven by a scripted capture as well as by ALSA.
public protocol LevelCapture: AnyObject {
    /// The device's name, for messages.
    var name: String { get }
    /// Opens the device and starts capturing.
    func open() throws(AudioError)
    /// Waits up to `seconds` for input, reads everything captured so far, and returns the windows it completed
    /// (possibly none). Throws when the device failed or has delivered nothing for too long.
    func read(waiting seconds: Double) throws(AudioError) -> [MonitorWindow]
    /// Lets the device go; `open` may be called again.
    func close()
}

/// Captures an ALSA PCM with libasound (non-blocking, 16-bit interleaved) and measures its RMS level in short
/// windows. Each window is stamped with when it was heard, from the frames counted since capture started and
/// an anchor: when frame 0 was heard, estimated at each read as the clock less the frames the device still
/// holds (`snd_pcm_delay`) and those read so far. A read the scheduler delayed would stamp its frames late and
/// leave a false gap between windows (measured through PulseAudio under load: a silent run broken, its warning
/// lost), so the anchor takes the earliest estimate at once and follows later ones by at most a millisecond a
/// read: enough for a sound card's clock drifting against the system's (50 ppm is 0.05 ms a second).
public final class ALSACapture: LevelCapture {
    public let name: String
    public let rate: Int
    /// The length of one level window: short enough to see a dead line within seconds, long enough that a
    /// window holds a few periods of the lowest voice.
    public let windowSeconds: Double
    /// No input for this long, without an error, is a stall: the device is let go of and opened again.
    public static let stallSeconds = 2.0
    /// The first input may take longer: through PulseAudio a null sink's monitor delivered its first frames 1.2 s
    /// after the open (measured on an idle machine), and a loaded one must not take that for a stall.
    public static let firstInputSeconds = 5.0
    private let clock: any WallClock
    private var pcm: OpaquePointer?
    private var channels = 2
    private var buffer: [Int16] = []
    /// Sum of squares per channel, and frames, of the window being filled.
    private var sums: [Double] = []
    private var framesInWindow = 0
    private var lastInput = 0.0
    private var receivedAny = false
    /// When frame 0 of this run of contiguous frames was heard, and the frames read since.
    private var anchor: Date? = nil
    private var framesRead = 0
    /// What the device buffers: a larger delay than this is not believed.
    private var bufferFrames = 0

    /// Captures `device` (an ALSA PCM name) at `rate`, in windows of `windowSeconds`, stamped with `clock`.
    public init(device: String, clock: any WallClock, rate: Int = 48000, windowSeconds: Double = 0.1) {
        self.name = device
        self.clock = clock
        self.rate = rate
        self.windowSeconds = windowSeconds
    }

    deinit { close() }

    private var windowFrames: Int { max(1, Int((Double(rate) * windowSeconds).rounded())) }

    private func fail(_ code: Int32) -> AudioError {
        .capture(name: name, code: code, message: String(cString: snd_strerror(code)))
    }

    public func open() throws(AudioError) {
        guard pcm == nil else { return }
        loa_alsa_silence_library_errors()
        var code: Int32 = -EINVAL
        // A line-in is stereo on most cards; an input that only takes mono refuses two channels with EINVAL.
        for channels in [2, 1] where code == -EINVAL {
            let attempt: OpenAttempt
            do {
                attempt = try OpenAttempt.start(device: name, stream: SND_PCM_STREAM_CAPTURE,
                                                format: AudioFormat(sampleRate: rate, channels: channels), latency: .milliseconds(200))
            } catch {
                throw .captureStalled(name: name, seconds: ALSAOutput.openTimeout)
            }
            guard attempt.wait(seconds: ALSAOutput.openTimeout) else {
                throw .captureStalled(name: name, seconds: ALSAOutput.openTimeout)
            }
            guard let handle = attempt.handle else {
                code = attempt.code
                continue
            }
            // Capture runs only once started; a read would start it too, but time should run from the open.
            snd_pcm_start(handle)
            var bufferSize: snd_pcm_uframes_t = 0, periodSize: snd_pcm_uframes_t = 0
            bufferFrames = snd_pcm_get_params(handle, &bufferSize, &periodSize) >= 0 ? Int(bufferSize) : rate / 5
            pcm = handle
            self.channels = channels
            buffer = [Int16](repeating: 0, count: windowFrames * channels)
            resetWindow()
            lastInput = clock.monotonicSeconds()
            receivedAny = false
            return
        }
        throw fail(code)
    }

    /// Starts a new run of contiguous frames: after an open or an overrun.
    private func resetWindow() {
        sums = [Double](repeating: 0, count: channels)
        framesInWindow = 0
        anchor = nil
        framesRead = 0
    }

    public func read(waiting seconds: Double) throws(AudioError) -> [MonitorWindow] {
        guard let pcm else { throw fail(-EBADFD) }
        let waited = snd_pcm_wait(pcm, Int32(max(1, seconds * 1000)))
        if waited < 0 { try recover(pcm, waited) }
        var windows: [MonitorWindow] = []
        let capacity = buffer.count / channels
        while true {
            let read = buffer.withUnsafeMutableBufferPointer { snd_pcm_readi(pcm, $0.baseAddress, snd_pcm_uframes_t(capacity)) }
            if read == -snd_pcm_sframes_t(EAGAIN) || read == 0 { break }
            if read < 0 {
                try recover(pcm, Int32(read))
                continue
            }
            let frames = Int(read)
            lastInput = clock.monotonicSeconds()
            receivedAny = true
            // When the last frame read was heard: what the device holds beyond it was captured after it. The pulse
            // plugin reports half a second more than its buffer for the first half second of a capture (measured:
            // 486 ms falling to 0 by 50 ms a read, then 0): a delay beyond the buffer is not believed.
            var delay: snd_pcm_sframes_t = 0
            let now = clock.now()
            let believed = snd_pcm_delay(pcm, &delay) >= 0 && delay >= 0 && Int(delay) <= bufferFrames
            let lastHeard = now.addingTimeInterval(believed ? -Double(delay) / Double(rate) : 0)
            let estimate = lastHeard.addingTimeInterval(-Double(framesRead + frames) / Double(rate))
            let start = anchor.map { estimate < $0 ? estimate : $0.addingTimeInterval(min(0.001, estimate.timeIntervalSince($0))) }
                ?? estimate
            anchor = start
            for frame in 0..<frames {
                for channel in 0..<channels {
                    let sample = Double(buffer[frame * channels + channel])
                    sums[channel] += sample * sample
                }
                framesInWindow += 1
                guard framesInWindow == windowFrames else { continue }
                // The loudest channel: a mono line wired to one input of a stereo pair must not read 3 dB low.
                let power = (sums.max() ?? 0) / Double(windowFrames) / (32768.0 * 32768.0)
                let end = start.addingTimeInterval(Double(framesRead + frame + 1) / Double(rate))
                windows.append(MonitorWindow(start: end.addingTimeInterval(-windowSeconds), seconds: windowSeconds,
                                             dbfs: power > 0 ? 10 * log10(power) : OnAirCheck.floorDBFS))
                sums = [Double](repeating: 0, count: channels)
                framesInWindow = 0
            }
            framesRead += frames
        }
        let silentFor = clock.monotonicSeconds() - lastInput
        let limit = receivedAny ? ALSACapture.stallSeconds : ALSACapture.firstInputSeconds
        if windows.isEmpty, silentFor > limit { throw .captureStalled(name: name, seconds: silentFor) }
        return windows
    }

    /// An overrun (the reader fell behind) loses audio but not the device: the window being filled is
    /// dropped, since its frames are no longer contiguous, and capture starts again.
    private func recover(_ pcm: OpaquePointer, _ code: Int32) throws(AudioError) {
        guard code == -EPIPE || code == -ESTRPIPE || code == -EINTR else { throw fail(code) }
        let recovered = snd_pcm_recover(pcm, code, 1)
        if recovered < 0 { throw fail(recovered) }
        snd_pcm_start(pcm)
        resetWindow()
    }

    /// Closes on a thread of its own: the pulse plugin waits for its sound server without a timeout.
    public func close() {
        guard let pcm else { return }
        self.pcm = nil
        ClosingHandle(pcm).closeOnOwnThread()
    }
}

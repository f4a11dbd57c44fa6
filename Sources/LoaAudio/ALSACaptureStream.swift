import CALSA
import Foundation

/// A line input read as audio (not only measured, as the monitor line is): an ALSA capture PCM, non-blocking,
/// opened with the engine's rate (the plug layer converts when the card cannot) and read into interleaved float.
final class ALSACaptureStream {
    let device: String
    let rate: Int
    private(set) var channels: Int
    private var pcm: OpaquePointer?
    private var shorts: [Int16] = []
    private var floats: [Float] = []
    private var wanted: Int
    private var got = 0

    init(device: String, rate: Int, channels: Int) {
        self.device = device
        self.rate = rate
        self.channels = channels
        wanted = channels
    }

    deinit { close() }

    private func fail(_ code: Int32) -> AudioError {
        .capture(name: device, code: code, message: String(cString: snd_strerror(code)))
    }

    func open() throws(AudioError) {
        loa_alsa_silence_library_errors()
        let attempt = try OpenAttempt.start(device: device, stream: SND_PCM_STREAM_CAPTURE,
                                            format: AudioFormat(sampleRate: rate, channels: wanted), latency: .milliseconds(200))
        guard attempt.wait(seconds: ALSAOutput.openTimeout) else { throw .captureStalled(name: device, seconds: ALSAOutput.openTimeout) }
        guard let handle = attempt.handle else { throw fail(attempt.code) }
        snd_pcm_start(handle)
        pcm = handle
        let frames = rate / 10
        shorts = [Int16](repeating: 0, count: frames * channels)
        floats = [Float](repeating: 0, count: frames * wanted)
    }

    /// Waits up to `seconds` for audio, then reads what is there (up to 100 ms): the frames read, 0 when none came.
    func read(waiting seconds: Double) throws(AudioError) -> Int {
        guard let pcm else { throw fail(-EBADFD) }
        let waited = snd_pcm_wait(pcm, Int32(max(1, seconds * 1000)))
        if waited < 0 { try recover(pcm, waited) }
        let capacity = shorts.count / channels
        let read = shorts.withUnsafeMutableBufferPointer { snd_pcm_readi(pcm, $0.baseAddress, snd_pcm_uframes_t(capacity)) }
        if read == -snd_pcm_sframes_t(EAGAIN) || read == 0 { return 0 }
        if read < 0 {
            try recover(pcm, Int32(read))
            return 0
        }
        got = Int(read)
        for i in 0..<(got * channels) { floats[i] = Float(shorts[i]) / 32768 }
        return got
    }

    /// The frames of the last read.
    func withSamples(_ body: (UnsafePointer<Float>) throws(UpstreamFault) -> Void) throws(UpstreamFault) {
        try floats.withUnsafeBufferPointer { (buffer) throws(UpstreamFault) in
            if let base = buffer.baseAddress { try body(base) }
        }
    }

    /// An overrun (the thread fell behind) loses audio, not the device.
    private func recover(_ pcm: OpaquePointer, _ code: Int32) throws(AudioError) {
        guard code == -EPIPE || code == -ESTRPIPE || code == -EINTR else { throw fail(code) }
        let recovered = snd_pcm_recover(pcm, code, 1)
        if recovered < 0 { throw fail(recovered) }
        snd_pcm_start(pcm)
    }

    func close() {
        guard let pcm else { return }
        self.pcm = nil
        ClosingHandle(pcm).closeOnOwnThread()
    }
}

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

    public init(device: String, format: AudioFormat = .broadcast, latency: Duration = .milliseconds(200)) {
        self.name = device
        self.format = format
        self.latency = latency
    }

    deinit { close() }

    private func fail(_ code: Int32) -> AudioError {
        .device(name: name, code: code, message: String(cString: snd_strerror(code)))
    }

    public func open() throws(AudioError) {
        guard pcm == nil else { return }
        loa_alsa_silence_library_errors()
        var handle: OpaquePointer?
        var rc = snd_pcm_open(&handle, name, SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK)
        guard rc >= 0, let handle else { throw fail(rc) }
        let micros = UInt32(latency.components.seconds * 1_000_000 + latency.components.attoseconds / 1_000_000_000_000)
        rc = snd_pcm_set_params(handle, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED,
                                UInt32(format.channels), UInt32(format.sampleRate), 1, micros)
        guard rc >= 0 else {
            snd_pcm_close(handle)
            throw fail(rc)
        }
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
        if Int(avail) >= periodFrames { return .zero }
        let missing = periodFrames - Int(avail)
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

    public func close() {
        if let pcm {
            snd_pcm_close(pcm)
            self.pcm = nil
        }
    }
}

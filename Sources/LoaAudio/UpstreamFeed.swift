import CALSA
import CFFmpeg
import CSoxr
import Foundation
import LoaCore

/// A live upstream (an Icecast, Shoutcast or HLS stream, or a line input), received on a thread of its own
/// (`loa-relay`) and converted to the engine's format into a bounded buffer, a few seconds ahead of the loudspeaker.
///
/// The thread connects (the connection opens at the relay's lead, before the slot), decodes with FFmpeg's libraries
/// (or reads the ALSA capture), measures the level in 100 ms windows, and resamples with libsoxr's variable-rate
/// converter, whose ratio a ``DriftController`` moves to keep the buffer at its target against the difference
/// between the upstream's clock and the sound card's. A fault (no data for the source's `stall` seconds, a closed
/// connection, an HTTP error, undecodable data, a capture device missing or busy) ends the connection; the thread
/// waits (``reconnectDelay(afterFailures:tuning:)``) and connects again until closed. Nothing it waits on blocks
/// another thread: every FFmpeg call is bounded by an interrupt callback that watches the time and ``close()``.
///
/// The output side (``RelayMix``) reads it without ever waiting, and learns what it needs from ``observation()``.
public final class UpstreamFeed: @unchecked Sendable {
    public let source: UpstreamSource
    public let format: AudioFormat
    let ring: FrameRing
    private let clock: any WallClock
    private let lock = NSLock()
    private var status = Status()
    /// Reads and trims of the ring: the output thread's reads and the receiving thread's trims of old audio are one
    /// consumer, taken in turn.
    private let consumer = NSLock()
    private let stopping = StopFlag()

    struct Status {
        var state: RelayState = .connecting
        var connected = false
        var runs = LevelRuns(thresholdDB: -40)
        var fault: Reason?
        var faultMessage: String?
        var formatText: String?
        var connectedAt: Date?
        var correction = 0.0
        /// Whether the output side is airing the upstream (the drift controller steers only then).
        var consuming = false
        var events: [UpstreamEvent] = []
    }

    /// What the upstream did, for the relay's row.
    public enum UpstreamEvent: Sendable, Hashable {
        case connected(at: Date, format: String)
        case lost(at: Date, reason: Reason, message: String)
    }

    /// A moment's view of the upstream, for `loa status`.
    public struct Snapshot: Sendable, Hashable {
        public var state: RelayState
        public var connected: Bool
        public var bufferedSeconds: Double
        public var levelDB: Double
        public var fault: Reason?
        public var faultMessage: String?
        public var format: String?
        public var connectedAt: Date?
        /// The resampler's correction against the sound card's clock, as a fraction (0.005 is 0.5 %).
        public var correction: Double
    }

    /// Starts receiving `source` now. The receiving thread holds the feed until ``close()``: call it.
    public init(source: UpstreamSource, format: AudioFormat = .broadcast, clock: any WallClock) {
        self.source = source
        self.format = format
        self.clock = clock
        let tuning = source.tuning
        // The target, the trim's margin above it, and a chunk of room.
        ring = FrameRing(channels: format.channels,
                         capacity: Int((min(tuning.bufferSeconds, 30) + UpstreamFeed.trimMarginSeconds + 1) * Double(format.sampleRate)))
        status.runs = LevelRuns(thresholdDB: tuning.silenceThresholdDB)
        let receiver = UpstreamReceiver(feed: self)
        let thread = Thread { receiver.run() }
        thread.name = "loa-relay"
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit { close() }

    /// Audio above the target by more than this is dropped, oldest first: the relay is never more than this staler
    /// than its target, whatever the clocks do or while the fallback airs.
    static let trimMarginSeconds = 1.0

    public var bufferedSeconds: Double { Double(ring.available) / Double(format.sampleRate) }

    /// What ``RelaySwitch`` needs.
    public func observation() -> UpstreamObservation {
        let buffered = bufferedSeconds
        return lock.withLock {
            UpstreamObservation(connected: status.connected, bufferedSeconds: buffered, soundSeconds: status.runs.soundSeconds,
                                silentSeconds: status.runs.silentSeconds, fault: status.connected ? nil : status.fault)
        }
    }

    public func snapshot() -> Snapshot {
        let buffered = bufferedSeconds
        return lock.withLock {
            Snapshot(state: status.state, connected: status.connected, bufferedSeconds: buffered, levelDB: status.runs.levelDB,
                     fault: status.fault, faultMessage: status.faultMessage, format: status.formatText,
                     connectedAt: status.connectedAt, correction: status.correction)
        }
    }

    /// The connections and faults since the last call.
    public func drainEvents() -> [UpstreamEvent] {
        lock.withLock {
            defer { status.events.removeAll() }
            return status.events
        }
    }

    /// The output side says whether it airs the upstream (relaying) or not (fallback, preempted).
    public func setConsuming(_ consuming: Bool, state: RelayState) {
        lock.withLock {
            status.consuming = consuming
            if status.connected || state == .fallback { status.state = state }
        }
    }

    /// Copies ready frames without waiting.
    func read(into buffer: UnsafeMutablePointer<Float>, frames: Int) -> SourceRead {
        consumer.withLock { ring.read(into: buffer, frames: frames) }
    }

    /// Drops the oldest audio so that at most `seconds` stay: what is aired is never staler than that.
    func trim(toSeconds seconds: Double) {
        consumer.withLock {
            let excess = ring.available - Int(seconds * Double(format.sampleRate))
            if excess > 0 { ring.discard(excess) }
        }
    }

    /// Stops the thread and returns at once, without waiting for it to end: every FFmpeg call it may be in is
    /// interrupted, but a name lookup (getaddrinfo, on a station whose DNS is unreachable) cannot be, and a stop or the
    /// end of a slot must not wait on it. The thread holds what it uses and lets it go when it ends. Safe to call more
    /// than once.
    public func close() {
        stopping.set()
        ring.close(waitForProducer: false)
    }

    var isClosing: Bool { stopping.isSet }

    /// Whether the receiving thread has ended (after ``close()``, once whatever it was in has returned).
    public var hasEnded: Bool { ring.producerHasExited }

    // MARK: The receiving thread's side

    func update(_ change: (inout Status) -> Void) { lock.withLock { change(&status) } }
    func read<T>(_ value: (Status) -> T) -> T { lock.withLock { value(status) } }
    var now: Date { clock.now() }
    var monotonic: Double { clock.monotonicSeconds() }
    func wait(_ seconds: Double) { stopping.wait(seconds, clock: clock) }
}

/// A flag the receiving thread waits on between connections.
final class StopFlag: @unchecked Sendable {
    private let condition = NSCondition()
    private var value = false
    var isSet: Bool { condition.withLock { value } }
    func set() {
        condition.withLock {
            value = true
            condition.broadcast()
        }
    }
    func wait(_ seconds: Double, clock: any WallClock) {
        condition.lock()
        if !value { clock.wait(seconds, on: condition) }
        condition.unlock()
    }
}

/// Why a connection ended, in the terms of a row.
struct UpstreamFault: Error {
    var reason: Reason
    var message: String
}

/// The receiving thread: connects, reads, converts, and connects again.
private final class UpstreamReceiver: @unchecked Sendable {
    /// Held strongly: the feed lives until its thread has ended (``UpstreamFeed/close()`` must be called).
    let feed: UpstreamFeed
    var tuning: RelayTuning { feed.source.tuning }
    let rate: Int
    let channels: Int
    var drift: DriftController
    /// libsoxr's variable-rate converter, made for the input rate it was made for.
    var resampler: soxr_t?
    var resamplerRate = 0
    var converted: [Float] = []
    var resampled: [Float] = []
    /// The level window being filled.
    var windowSum = 0.0
    var windowFrames = 0
    var windowLength: Int { rate / 10 }
    var producedSinceStep = 0
    /// Whether the buffer was full since the last drift step: the receiver waited for the loudspeaker.
    var heldBack = false
    var wasConsuming = false
    /// Whether the source is read at the loudspeaker's pace (HLS: segments fetched as the buffer has room), so that
    /// its clock is not followed: a live edge a little further away is all a slower card makes of it.
    var paced = false

    init(feed: UpstreamFeed) {
        self.feed = feed
        rate = feed.format.sampleRate
        channels = feed.format.channels
        drift = DriftController(targetSeconds: feed.source.tuning.bufferSeconds)
    }

    deinit { if let resampler { soxr_delete(resampler) } }

    func run() {
        var failures = 0
        while !feed.isClosing {
            feed.update {
                $0.state = .connecting
                $0.connected = false
                $0.runs.reset()
            }
            let fault: UpstreamFault
            do {
                switch feed.source.input {
                case let .stream(url): try StreamConnection(url: url, receiver: self).pump()
                case let .capture(device): try CaptureConnection(device: device, receiver: self).pump()
                }
                fault = UpstreamFault(reason: Reason(.relayEnded), message: "máy chủ đóng luồng")
            } catch {
                fault = error
            }
            if feed.isClosing { break }
            let wasConnected = feed.read(\.connected)
            failures = wasConnected ? 1 : failures + 1
            let at = feed.now
            feed.update {
                $0.connected = false
                $0.state = $0.consuming ? .connecting : $0.state
                $0.fault = fault.reason
                $0.faultMessage = fault.message
                $0.events.append(.lost(at: at, reason: fault.reason, message: fault.message))
                $0.runs.reset()
            }
            feed.wait(reconnectDelay(afterFailures: failures, tuning: tuning))
        }
        feed.ring.producerDidExit()
    }

    /// The connection delivers: called once its format is known and its first audio decoded.
    func connected(format: String) {
        let at = feed.now
        feed.update {
            $0.connected = true
            $0.state = $0.consuming ? .relaying : .buffering
            $0.formatText = format
            $0.connectedAt = at
            $0.fault = nil
            $0.faultMessage = nil
            $0.events.append(.connected(at: at, format: format))
        }
    }

    /// Interleaved float frames at `inputRate` with the engine's channels: level, drift, resampling, into the ring.
    func deliver(_ samples: UnsafePointer<Float>, frames: Int, inputRate: Int) throws(UpstreamFault) {
        guard frames > 0 else { return }
        measure(samples, frames: frames)
        let state = try resampler(for: inputRate)
        let consuming = feed.read(\.consuming)
        // Only the loudspeaker's pace says anything of the clocks; a source read at that pace (HLS) has no drift to follow.
        if consuming && !wasConsuming {
            // The level starts from what it is when the upstream goes on air, not from before.
            drift.hold(bufferedSeconds: feed.bufferedSeconds)
        }
        wasConsuming = consuming
        if !consuming || paced {
            producedSinceStep = 0
        } else if producedSinceStep >= rate / 10 {
            let correction: Double
            if heldBack {
                // The buffer was full: the source is ahead of the card by its own delivery, not by its clock.
                drift.hold(bufferedSeconds: feed.bufferedSeconds)
                correction = drift.correction
                heldBack = false
            } else {
                correction = drift.step(bufferedSeconds: feed.bufferedSeconds, elapsedSeconds: Double(producedSinceStep) / Double(rate))
            }
            producedSinceStep = 0
            soxr_set_io_ratio(state, Double(inputRate) / Double(rate) * (1 + correction), 4800)
            feed.update { $0.correction = correction }
        }
        let outCapacity = Int(Double(frames) * Double(rate) / Double(inputRate) * 1.1) + 64
        if resampled.count < outCapacity * channels { resampled = [Float](repeating: 0, count: outCapacity * channels) }
        var consumed = 0
        while consumed < frames {
            var used = 0, made = 0
            let error = resampled.withUnsafeMutableBufferPointer { out in
                soxr_process(state, samples + consumed * channels, frames - consumed, &used, out.baseAddress, outCapacity, &made)
            }
            if let error { throw UpstreamFault(reason: Reason(.relayNotAudio), message: String(cString: error)) }
            consumed += used
            if made > 0 { push(frames: made) }
            if used == 0 && made == 0 { break }
        }
    }

    /// Into the ring. While the upstream airs, a full buffer holds the receiver back (a source that delivers in bursts,
    /// such as HLS segments, is read at the loudspeaker's pace); otherwise audio beyond the target and its margin is
    /// dropped, oldest first, so that what airs when the relay returns is live, never stale.
    private func push(frames: Int) {
        producedSinceStep += frames
        var offset = 0
        while offset < frames {
            let room: UnsafeMutableBufferPointer<Float>?
            // A source read at the loudspeaker's pace (HLS) waits for room even before it airs: chasing its live edge, it
            // would wait on the server's next segment instead.
            if paced || feed.read(\.consuming) {
                if feed.ring.available + (frames - offset) > feed.ring.capacity { heldBack = true }
                room = feed.ring.room(atLeast: min(frames - offset, feed.ring.capacity))
            } else {
                let limit = Int((tuning.bufferSeconds + UpstreamFeed.trimMarginSeconds) * Double(rate))
                if feed.ring.available + (frames - offset) > limit {
                    feed.trim(toSeconds: max(0, Double(limit - (frames - offset)) / Double(rate)))
                }
                room = feed.ring.tryRoom()
            }
            // Full while the fallback airs and the output trims it: what cannot be kept now is older than what will be.
            guard let room, let base = room.baseAddress else { return }
            let n = min(room.count / channels, frames - offset)
            resampled.withUnsafeBufferPointer { src in
                if let from = src.baseAddress { base.update(from: from + offset * channels, count: n * channels) }
            }
            feed.ring.commit(n)
            offset += n
        }
    }

    private func resampler(for inputRate: Int) throws(UpstreamFault) -> soxr_t {
        if let resampler, resamplerRate == inputRate { return resampler }
        if let resampler { soxr_delete(resampler) }
        resampler = nil
        var error: soxr_error_t?
        var io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        // Variable rate: the ratio follows the drift controller, slewed over 0.1 s so no step is heard.
        var quality = soxr_quality_spec(UInt(SOXR_HQ), UInt(SOXR_VR))
        var runtime = soxr_runtime_spec(1)
        let nominal = Double(inputRate) / Double(rate)
        guard let made = soxr_create(nominal * 1.1, 1, UInt32(channels), &error, &io, &quality, &runtime), error == nil else {
            throw UpstreamFault(reason: Reason(.relayNotAudio), message: error.map { String(cString: $0) } ?? "libsoxr")
        }
        soxr_set_io_ratio(made, nominal * (1 + drift.correction), 0)
        resampler = made
        resamplerRate = inputRate
        return made
    }

    /// The level in 100 ms windows, the loudest channel's mean square over all.
    private func measure(_ samples: UnsafePointer<Float>, frames: Int) {
        for frame in 0..<frames {
            var square = 0.0
            for channel in 0..<channels {
                let sample = Double(samples[frame * channels + channel])
                square = max(square, sample * sample)
            }
            windowSum += square
            windowFrames += 1
            if windowFrames >= windowLength {
                let power = windowSum / Double(windowFrames)
                let level = power > 0 ? 10 * log10(power) : OnAirCheck.floorDBFS
                feed.update { $0.runs.add(levelDB: level, seconds: 0.1) }
                windowSum = 0
                windowFrames = 0
            }
        }
    }
}

/// One connection to a stream through libavformat: open (bounded by the connect timeout), find the audio, decode,
/// convert to float with the engine's channels, hand to the receiver; until a fault or the end.
private final class StreamConnection {
    let url: String
    let receiver: UpstreamReceiver
    let interrupt: InterruptState

    /// Debian's bundle of the certificate authorities (package ca-certificates).
    static let certificates = "/etc/ssl/certs/ca-certificates.crt"

    init(url: String, receiver: UpstreamReceiver) {
        self.url = url
        self.receiver = receiver
        interrupt = InterruptState(feed: receiver.feed)
    }

    func pump() throws(UpstreamFault) {
        FFmpegLog.quiet()
        let tuning = receiver.tuning
        var context = avformat_alloc_context()
        guard let allocated = context else { throw UpstreamFault(reason: Reason(.relayUnreachable), message: "hết bộ nhớ") }
        let unmanaged = Unmanaged.passUnretained(interrupt)
        allocated.pointee.interrupt_callback = AVIOInterruptCB(callback: loaInterruptCallback, opaque: unmanaged.toOpaque())
        var callback = allocated.pointee.interrupt_callback
        // Only the network: a playlist from upstream never makes Loa read a local file or run a subprocess.
        let whitelist = "http,https,tls,tcp,crypto"
        // The connection first, on its own: what fails here is the network or the server (unreachable, an HTTP error).
        var network: OpaquePointer?
        av_dict_set(&network, "protocol_whitelist", whitelist, 0)
        av_dict_set(&network, "user_agent", "Loa (tiep song)", 0)
        av_dict_set(&network, "rw_timeout", String(Int(tuning.stallSeconds * 1_000_000)), 0)
        av_dict_set(&network, "timeout", String(Int(tuning.connectTimeoutSeconds * 1_000_000)), 0)
        av_dict_set(&network, "reconnect", "0", 0)
        // FFmpeg does not check a server's certificate unless asked: an upstream is trusted only as far as TLS proves it.
        av_dict_set(&network, "tls_verify", "1", 0)
        av_dict_set(&network, "ca_file", StreamConnection.certificates, 0)
        interrupt.arm(seconds: tuning.connectTimeoutSeconds, fault: Reason(.relayUnreachable, "quá \(Int(tuning.connectTimeoutSeconds)) giây"))
        var io: UnsafeMutablePointer<AVIOContext>?
        let connected = avio_open2(&io, url, AVIO_FLAG_READ, &callback, &network)
        av_dict_free(&network)
        guard connected >= 0, let stream = io else {
            avformat_free_context(allocated)
            throw fault(connected, .connecting)
        }
        defer { avio_closep(&io) }
        var mime: UnsafeMutablePointer<UInt8>?
        if av_opt_get(UnsafeMutableRawPointer(stream), "mime_type", AV_OPT_SEARCH_CHILDREN, &mime) >= 0, let mime {
            let type = String(cString: mime)
            av_free(mime)
            if type.lowercased().hasPrefix("text/html") {
                avformat_free_context(allocated)
                throw UpstreamFault(reason: Reason(.relayNotAudio, "máy chủ gửi \(type)"), message: "máy chủ gửi \(type), không phải âm thanh")
            }
        }
        // Then what comes: what fails here is the content (not audio) or its flow (a server that sends nothing).
        allocated.pointee.pb = stream
        allocated.pointee.flags |= AVFMT_FLAG_CUSTOM_IO
        var options: OpaquePointer?
        av_dict_set(&options, "protocol_whitelist", whitelist, 0)
        av_dict_set(&options, "probesize", "65536", 0)
        // An Icecast MP3 probed with FFmpeg's default 1 MB waits for 128 KB at the stream's rate (4.5 s measured); 16 KB
        // names the format in 0.3 s.
        av_dict_set(&options, "formatprobesize", "16384", 0)
        av_dict_set(&options, "analyzeduration", "1000000", 0)
        interrupt.arm(seconds: tuning.stallSeconds, fault: Reason(.relayStalled, ReasonCatalogue.number(tuning.stallSeconds)))
        let opened = avformat_open_input(&context, url, nil, &options)
        av_dict_free(&options)
        guard opened >= 0, let input = context else { throw fault(opened, .probing) }
        defer { avformat_close_input(&context) }
        let found = avformat_find_stream_info(input, nil)
        guard found >= 0 else { throw fault(found, .probing) }
        let index = av_find_best_stream(input, AVMEDIA_TYPE_AUDIO, -1, -1, nil, 0)
        guard index >= 0, let stream = input.pointee.streams[Int(index)], let parameters = stream.pointee.codecpar else {
            throw UpstreamFault(reason: Reason(.relayNotAudio, "không có luồng âm thanh"), message: "không có luồng âm thanh")
        }
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id) else {
            throw UpstreamFault(reason: Reason(.relayNotAudio, "không có bộ giải mã"), message: "không có bộ giải mã cho luồng")
        }
        var decoder = avcodec_alloc_context3(codec)
        defer { avcodec_free_context(&decoder) }
        guard let decoding = decoder, avcodec_parameters_to_context(decoding, parameters) >= 0, avcodec_open2(decoding, codec, nil) >= 0 else {
            throw UpstreamFault(reason: Reason(.relayNotAudio, "không mở được bộ giải mã"), message: "không mở được bộ giải mã")
        }
        let container = String(cString: input.pointee.iformat.pointee.name)
        receiver.paced = container == "hls"
        // An HLS reader at the live edge waits for the server's next segment (a target duration, up to 10 s) inside a
        // read: that is no stall. Its buffer running dry is noticed all the same, at once.
        let stall = tuning.stallSeconds + (receiver.paced ? 10 : 0)
        let formatText = "\(container)/\(String(cString: codec.pointee.name)) \(parameters.pointee.sample_rate) Hz \(parameters.pointee.ch_layout.nb_channels) kênh"
        var packet = av_packet_alloc()
        var frame = av_frame_alloc()
        defer {
            av_packet_free(&packet)
            av_frame_free(&frame)
        }
        guard let packet, let frame else { throw UpstreamFault(reason: Reason(.relayUnreachable), message: "hết bộ nhớ") }
        var converter = ChannelConverter(channels: receiver.channels)
        var announced = false
        var badPackets = 0
        interrupt.arm(seconds: stall, fault: Reason(.relayStalled, ReasonCatalogue.number(stall)))
        while !receiver.feed.isClosing {
            let read = av_read_frame(input, packet)
            if read < 0 {
                if read == loa_averror_eof() { return }
                throw fault(read, .reading)
            }
            defer { av_packet_unref(packet) }
            // Any packet is data: the stall watch starts again (after the buffer's wait too, which is not the network's).
            defer { interrupt.arm(seconds: stall, fault: Reason(.relayStalled, ReasonCatalogue.number(stall))) }
            guard packet.pointee.stream_index == index else { continue }
            if avcodec_send_packet(decoding, packet) < 0 {
                badPackets += 1
                // A damaged packet now and then is the network's; a stream of them is not audio.
                if badPackets > 50 && !announced {
                    throw UpstreamFault(reason: Reason(.relayNotAudio, "dữ liệu hỏng"), message: "dữ liệu không giải mã được")
                }
                continue
            }
            while avcodec_receive_frame(decoding, frame) >= 0 {
                defer { av_frame_unref(frame) }
                let (samples, count) = try converter.convert(frame)
                if !announced, count > 0 {
                    announced = true
                    receiver.connected(format: formatText)
                }
                try receiver.deliver(samples, frames: count, inputRate: Int(frame.pointee.sample_rate))
            }
        }
    }

    /// FFmpeg's code as a row's reason: the HTTP status, not audio, or unreachable, with FFmpeg's words.
    /// Where a connection was when it failed: what a code means depends on it.
    enum Stage { case connecting, probing, reading }

    private func fault(_ code: Int32, _ stage: Stage) -> UpstreamFault {
        if let fired = interrupt.fired { return UpstreamFault(reason: fired, message: ReasonCatalogue.sentence(fired)) }
        let words = FFmpegLog.words(code)
        let http: String? = switch code {
        case loa_averror_http_not_found(): "404"
        case loa_averror_http_forbidden(): "403"
        case loa_averror_http_other_4xx(): "4xx"
        case loa_averror_http_server_error(): "5xx"
        default: nil
        }
        if let http { return UpstreamFault(reason: Reason(.relayHTTP, http), message: "HTTP \(http)") }
        switch stage {
        case .connecting: return UpstreamFault(reason: Reason(.relayUnreachable, words), message: words)
        case .probing where code != loa_averror_eof(): return UpstreamFault(reason: Reason(.relayNotAudio, words), message: words)
        case .probing, .reading: return UpstreamFault(reason: Reason(.relayEnded, words), message: words)
        }
    }
}

/// What FFmpeg's interrupt callback reads: a deadline on the monotonic clock, and whether the feed closes.
final class InterruptState: @unchecked Sendable {
    let feed: UpstreamFeed
    private let lock = NSLock()
    private var deadline = Double.infinity
    private var reason: Reason?
    private(set) var fired: Reason?

    init(feed: UpstreamFeed) { self.feed = feed }

    func arm(seconds: Double, fault: Reason) {
        let at = feed.monotonic + seconds
        lock.withLock {
            deadline = at
            reason = fault
            fired = nil
        }
    }

    /// True to abort the call FFmpeg is in.
    func shouldStop() -> Bool {
        if feed.isClosing { return true }
        let now = feed.monotonic
        return lock.withLock {
            guard now > deadline else { return false }
            fired = reason
            return true
        }
    }
}

private func loaInterruptCallback(_ opaque: UnsafeMutableRawPointer?) -> Int32 {
    guard let opaque else { return 0 }
    return Unmanaged<InterruptState>.fromOpaque(opaque).takeUnretainedValue().shouldStop() ? 1 : 0
}

/// FFmpeg's messages: kept off the station's stderr and the journal, for streams and files alike (every fault is said
/// once, by Loa, naming the URL or the file).
enum FFmpegLog {
    private static let silenced: Void = { av_log_set_level(AV_LOG_QUIET) }()
    static func quiet() { _ = silenced }

    /// FFmpeg's sentence for a code.
    static func words(_ code: Int32) -> String {
        var text = [CChar](repeating: 0, count: 256)
        av_strerror(code, &text, text.count)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Decoded frames of any sample format and layout to interleaved float with the engine's channels, through
/// libswresample (made again when the stream's format changes, as an HLS variant may).
struct ChannelConverter {
    let channels: Int
    private var context: OpaquePointer?
    private var key: (Int32, Int32, Int32) = (0, 0, 0)
    private var buffer: [Float] = []
    private var mono = false

    init(channels: Int) { self.channels = channels }

    mutating func convert(_ frame: UnsafeMutablePointer<AVFrame>) throws(UpstreamFault) -> (UnsafePointer<Float>, Int) {
        let rate = frame.pointee.sample_rate, format = frame.pointee.format
        var inLayout = frame.pointee.ch_layout
        if inLayout.order == AV_CHANNEL_ORDER_UNSPEC { av_channel_layout_default(&inLayout, inLayout.nb_channels) }
        let now = (rate, format, inLayout.nb_channels)
        if context == nil || now != key {
            swr_free(&context)
            var outLayout = AVChannelLayout()
            // A mono upstream is converted as mono and doubled here: libswresample would spread it 3 dB down.
            mono = inLayout.nb_channels == 1
            av_channel_layout_default(&outLayout, mono ? 1 : Int32(channels))
            let made = swr_alloc_set_opts2(&context, &outLayout, AV_SAMPLE_FMT_FLT, rate, &inLayout, AVSampleFormat(format), rate, 0, nil)
            guard made >= 0, let context, swr_init(context) >= 0 else {
                throw UpstreamFault(reason: Reason(.relayNotAudio, "định dạng mẫu lạ"), message: "không chuyển được định dạng mẫu")
            }
            key = now
        }
        let frames = Int(frame.pointee.nb_samples)
        if buffer.count < (frames + 64) * channels { buffer = [Float](repeating: 0, count: (frames + 64) * channels) }
        let input = UnsafeMutableRawPointer(frame.pointee.extended_data).map { $0.assumingMemoryBound(to: UnsafePointer<UInt8>?.self) }
        let made = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
            var plane: UnsafeMutablePointer<UInt8>? = UnsafeMutableRawPointer(out.baseAddress).map { $0.assumingMemoryBound(to: UInt8.self) }
            return swr_convert(context, &plane, Int32(frames + 64), input, Int32(frames))
        }
        guard made >= 0 else {
            throw UpstreamFault(reason: Reason(.relayNotAudio, FFmpegLog.words(made)), message: FFmpegLog.words(made))
        }
        if mono && channels > 1 {
            // From the end, so that no sample is overwritten before it is read.
            for frame in stride(from: Int(made) - 1, through: 0, by: -1) {
                let sample = buffer[frame]
                for channel in 0..<channels { buffer[frame * channels + channel] = sample }
            }
        }
        guard let base = buffer.withUnsafeBufferPointer({ $0.baseAddress }) else { return (UnsafePointer(bitPattern: 1)!, 0) }
        return (base, Int(made))
    }
}

/// A line input through ALSA capture: the receiver on the sound card's input.
private final class CaptureConnection {
    let device: String
    let receiver: UpstreamReceiver

    init(device: String, receiver: UpstreamReceiver) {
        self.device = device
        self.receiver = receiver
    }

    func pump() throws(UpstreamFault) {
        let feed = receiver.feed
        let capture = ALSACaptureStream(device: device, rate: receiver.rate, channels: receiver.channels)
        do { try capture.open() } catch {
            throw UpstreamFault(reason: Reason(.relayCapture, error.description), message: error.description)
        }
        defer { capture.close() }
        var announced = false
        var lastData = feed.monotonic
        let stall = receiver.tuning.stallSeconds
        while !feed.isClosing {
            let frames: Int
            do { frames = try capture.read(waiting: 0.1) } catch {
                throw UpstreamFault(reason: Reason(.relayCapture, error.description), message: error.description)
            }
            if frames == 0 {
                if feed.monotonic - lastData > stall {
                    throw UpstreamFault(reason: Reason(.relayStalled, ReasonCatalogue.number(stall)), message: "đường vào không gửi âm thanh")
                }
                continue
            }
            lastData = feed.monotonic
            if !announced {
                announced = true
                receiver.connected(format: "ALSA \(device) \(receiver.rate) Hz \(capture.channels) kênh")
            }
            try capture.withSamples { (samples) throws(UpstreamFault) in try receiver.deliver(samples, frames: frames, inputRate: receiver.rate) }
        }
    }
}

import Foundation
import LoaTestSupport
import Testing

/// The relay's upstreams serve what they claim, as ffprobe, ffmpeg and curl see them: the relay's tests rest on them.
@Suite("Upstream servers for the relay: icecast2, ffmpeg sources, live HLS behind nginx, bad upstreams", .serialized)
struct UpstreamServersTests {
    /// `ffprobe`'s `key=value` lines for the first audio stream of `url`.
    static func probe(_ url: String) async throws -> [String: String] {
        let r = try await Harness.run("/usr/bin/ffprobe", ["-v", "error", "-rw_timeout", "5000000", "-select_streams", "a:0",
                                                           "-show_entries", "stream=codec_name,sample_rate,channels,bit_rate",
                                                           "-of", "default=noprint_wrappers=1", url])
        #expect(r.status == 0, "ffprobe \(url): \(r.err)")
        return Dictionary(r.out.split(separator: "\n").compactMap { line in
            line.firstIndex(of: "=").map { (String(line[..<$0]), String(line[line.index(after: $0)...])) }
        }, uniquingKeysWith: { first, _ in first })
    }

    /// `seconds` of `url`'s left channel decoded by ffmpeg to 48 kHz samples (not `-ac 1`, whose mix of two equal
    /// channels is 3 dB louder than either). `format` spares the probe: libavformat reads 128 KiB of an Icecast MP3
    /// before it settles on MP3 (score 50), and past Icecast's 64 KiB burst that is 4 s of real time.
    static func decode(_ url: String, format: String? = nil, seconds: Double) async throws -> [Float] {
        let folder = try scratchFolder("loa-upstream-decode")
        defer { try? FileManager.default.removeItem(at: folder) }
        let raw = folder.appendingPathComponent("samples.f32")
        let forced = format.map { ["-f", $0] } ?? []
        let r = try await Harness.run("/usr/bin/ffmpeg", ["-v", "error", "-nostdin", "-rw_timeout", "5000000"] + forced + ["-i", url, "-t", "\(seconds)",
                                                          "-af", "pan=mono|c0=c0", "-ar", "48000", "-f", "f32le", raw.path])
        #expect(r.status == 0, "ffmpeg \(url): \(r.err)")
        let data = try Data(contentsOf: raw)
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// curl's `format` (by default `%{http_code} %{content_type} %{size_download}`) and its exit status (0, or 28 when
    /// `timeout` cut a stream).
    static func curl(_ url: String, timeout: Double = 2, _ options: [String] = [],
                     writing format: String = "%{http_code} %{content_type} %{size_download}") async throws -> (status: Int32, out: String, err: String) {
        try await Harness.run("/usr/bin/curl", ["-sS", "-m", "\(timeout)", "-o", "/dev/null", "-w", format] + options + [url])
    }

    static func peak(_ samples: some Collection<Float>) -> Float { samples.map { abs($0) }.max() ?? 0 }

    @Test("icecast2 serves an ffmpeg source's MP3 and AAC mounts: ffprobe reads mp3 and aac, 44.1 kHz stereo, 128 kb/s; each its own tone at −6 dBFS; a silent source sends zeros")
    func icecastMounts() async throws {
        let icecast = try IcecastServer()
        let mp3 = try StreamFeeder(server: icecast, mount: "/live.mp3", codec: .mp3, signal: .sine(frequency: 440))
        let aac = try StreamFeeder(server: icecast, mount: "/live.aac", codec: .aac, signal: .sine(frequency: 660))
        let silent = try StreamFeeder(server: icecast, mount: "/silent.mp3", signal: .silence)
        for feeder in [mp3, aac, silent] { try await feeder.waitUntilLive() }

        // Probed as a relay would find them, without the format: both at once, as each waits ~4 s for its probe.
        async let probedMP3 = Self.probe(mp3.url)
        async let probedAAC = Self.probe(aac.url)
        for (feeder, codec, stream) in [(mp3, "mp3", try await probedMP3), (aac, "aac", try await probedAAC)] {
            #expect(stream["codec_name"] == codec && stream["sample_rate"] == "44100" && stream["channels"] == "2", "\(feeder.url): \(stream)")
            // ffprobe estimates an AAC stream's bit rate from its first frames.
            let bitRate = try #require(Double(stream["bit_rate"] ?? ""), "\(stream)")
            #expect(abs(bitRate - 128_000) < 4_000, "\(feeder.url): \(stream)")
            let served = try await Self.curl(feeder.url, timeout: 1)
            #expect(served.out.hasPrefix("200 \(feeder.codec.contentType) "), "\(served)")
        }
        for (feeder, frequency, codec) in [(mp3, 440, "mp3"), (aac, 660, "aac")] {
            let samples = try await Self.decode(feeder.url, format: codec, seconds: 1.5)
            // Past the decoder's first frames, which fade in.
            let tail = samples.dropFirst(12_000)
            #expect(ToneRun.runs(Array(tail), frequencies: [440, 660, 880]).map(\.frequency) == [frequency], "\(feeder.url)")
            #expect(abs(20 * log10(Self.peak(tail)) + 6) < 0.5, "\(feeder.url): peak \(20 * log10(Self.peak(tail))) dBFS")
        }
        let silence = try await Self.decode(silent.url, format: "mp3", seconds: 1.5)
        #expect(silence.count >= 48_000 && Self.peak(silence) == 0, "\(silence.count) samples, peak \(Self.peak(silence))")
    }

    @Test("A feeder at readRate 1.005 sends 0.5 % more per second of wall clock than one in real time: 16,080 against 16,000 B/s of 128 kb/s MP3, within 0.2 %")
    func fastFeeder() async throws {
        let icecast = try IcecastServer()
        let realTime = try StreamFeeder(server: icecast, mount: "/real.mp3")
        let fast = try StreamFeeder(server: icecast, mount: "/fast.mp3", readRate: 1.005)
        try await realTime.waitUntilLive()
        try await fast.waitUntilLive()
        let rates = try await measureByteRates([realTime.url, fast.url], seconds: 9)
        print("Byte rates over 7.5 s of wall clock: real time \(rates[0]) B/s, fast \(rates[1]) B/s, ratio \(rates[1] / rates[0])")
        // Three runs on the idle machine: ratios 1.0051, 1.0050, 1.0046, each rate within 0.05 % of its own. The bounds
        // leave room for a busy CI machine and still tell 0.5 % fast from real time by more than twice.
        #expect(abs(rates[0] / 16_000 - 1) < 0.002, "\(rates)")
        #expect(abs(rates[1] / 16_080 - 1) < 0.002, "\(rates)")
        #expect(abs(rates[1] / rates[0] - 1.005) < 0.002, "\(rates)")
    }

    @Test("A source killed leaves no mount, restarted it is live again; a paused one keeps its mount until Icecast's source timeout, then resumed it is gone")
    func killRestartPause() async throws {
        let icecast = try IcecastServer(sourceTimeout: 2)
        let feeder = try StreamFeeder(server: icecast, mount: "/live.mp3", signal: .sine(frequency: 440))
        try await feeder.waitUntilLive()
        try await feeder.kill()
        #expect(httpStatus(feeder.url) == 404)
        try await feeder.restart()
        #expect(try await Self.probe(feeder.url)["codec_name"] == "mp3")

        feeder.pause()
        let pausedAt = ContinuousClock.now
        #expect(icecast.isLive(mount: feeder.mount), "paused, the mount stays")
        // A listener gets the burst Icecast holds, then nothing.
        let stalled = try await Self.curl(feeder.url, timeout: 1.5)
        #expect(stalled.status == 28 && stalled.out.hasPrefix("200 audio/mpeg"), "\(stalled)")
        try await icecast.waitUntil(mount: feeder.mount, live: false, timeout: 8)
        let dropped = (ContinuousClock.now - pausedAt) / .seconds(1)
        #expect(dropped >= 2 && dropped < 6, "dropped \(dropped) s after the pause, source timeout 2 s")
        feeder.resume()
        try await feeder.restart()
        #expect(icecast.isLive(mount: feeder.mount))
    }

    @Test("A feeder's silent stretch: digital silence for the first 2 s of stream, then its tone, on the same connection")
    func silentStretch() async throws {
        let icecast = try IcecastServer()
        let feeder = try StreamFeeder(server: icecast, mount: "/live.mp3", signal: .sine(frequency: 880), silentDuring: [0..<2])
        try await feeder.waitUntilLive()
        // Icecast's burst on connect hands a new listener the stream from its start (64 KiB is 4 s of 128 kb/s).
        let samples = try await Self.decode(feeder.url, format: "mp3", seconds: 3.5)
        #expect(samples.count >= 3 * 48_000, "\(samples.count) samples")
        #expect(Self.peak(samples.prefix(90_000)) == 0, "the first 1.9 s: peak \(Self.peak(samples.prefix(90_000)))")
        #expect(ToneRun.runs(Array(samples.dropFirst(96_000 + 4_800)), frequencies: [440, 660, 880]).map(\.frequency) == [880])
    }

    @Test("ffmpeg's HLS muxer behind nginx: a live playlist of 2 s AAC segments that ffprobe reads; the broken variant's playlist is served and its segments answer 404; stopped, the playlist is ended, killed, it is not")
    func hlsLive() async throws {
        let live = try HLSLiveStream(signal: .sine(frequency: 880))
        let broken = try HLSLiveStream(segmentsMissing: true)
        try await live.waitUntilReady(segments: 2)
        try await broken.waitUntilReady(segments: 1)

        let playlist = try await Self.curl(live.url)
        #expect(playlist.out.hasPrefix("200 application/vnd.apple.mpegurl "), "\(playlist)")
        let segments = live.playlist().split(separator: "\n").filter { $0.hasSuffix(".ts") }
        #expect(segments.count >= 2 && segments[0] != segments[1], "\(live.playlist())")
        let base = String(live.url.dropLast("live.m3u8".count))
        let segment = try await Self.curl(base + (segments.last.map(String.init) ?? ""))
        #expect(segment.out.hasPrefix("200 video/mp2t "), "\(segment)")
        let stream = try await Self.probe(live.url)
        #expect(stream["codec_name"] == "aac" && stream["sample_rate"] == "48000" && stream["channels"] == "2", "\(stream)")
        let samples = try await Self.decode(live.url, seconds: 1)
        #expect(ToneRun.runs(Array(samples.dropFirst(4_800)), frequencies: [440, 660, 880]).map(\.frequency) == [880])

        #expect(try await Self.curl(broken.url).out.hasPrefix("200 application/vnd.apple.mpegurl "))
        let missing = try #require(broken.playlist().split(separator: "\n").first { $0.hasSuffix(".ts") })
        #expect(missing.hasPrefix("gone/"))
        let gone = try await Self.curl(String(broken.url.dropLast("live.m3u8".count)) + missing)
        #expect(gone.out.hasPrefix("404 "), "\(gone)")

        // Stopped, the encoder ends its playlist: SIGTERM reached it. Killed, the playlist stays open and stale.
        live.stop()
        #expect(live.playlist().contains("#EXT-X-ENDLIST"), "\(live.playlist())")
        broken.kill()
        #expect(!broken.playlist().contains("#EXT-X-ENDLIST"), "\(broken.playlist())")
    }

    @Test("Each bad upstream answers as its name says: 403, 404, a redirect loop, HTML, garbage as audio/mpeg, headers then nothing, TLS errors, a refused port, a name that does not resolve")
    func badUpstreams() async throws {
        let bad = try BadUpstream()
        #expect(try await Self.curl(bad.forbiddenURL).out.hasPrefix("403 "))
        #expect(try await Self.curl(bad.notFoundURL).out.hasPrefix("404 "))

        let hop = try await Self.curl(bad.redirectLoopURL, writing: "%{http_code} %{redirect_url}")
        #expect(hop.out.hasPrefix("302 ") && hop.out.hasSuffix("/loop/b"), "\(hop)")
        let loop = try await Self.curl(bad.redirectLoopURL, ["-L", "--max-redirs", "20"])
        #expect(loop.status == 47, "curl: too many redirects (47): \(loop)")

        let html = try await Self.curl(bad.htmlPageURL)
        #expect(html.out.hasPrefix("200 text/html "), "\(html)")
        let garbage = try await Self.curl(bad.garbageURL)
        #expect(garbage.out == "200 audio/mpeg 262144", "\(garbage)")

        let held = try await Self.curl(bad.headersThenNothingURL, timeout: 1.5)
        #expect(held.status == 28 && held.out == "200 audio/mpeg 0", "headers, no body, cut by curl's timeout: \(held)")

        let plain = try await Self.curl(bad.tlsToPlainHTTPURL)
        #expect(plain.status == 35, "TLS handshake failed (35): \(plain)")
        let selfSigned = try await Self.curl(bad.selfSignedTLSURL)
        #expect(selfSigned.status == 60, "certificate not trusted (60): \(selfSigned)")
        let unverified = try await Self.curl(bad.selfSignedTLSURL, ["-k"])
        #expect(unverified.status == 0 && unverified.out.hasPrefix("200 audio/mpeg "), "the certificate is the only fault: \(unverified)")

        let refused = try await Self.curl(bad.closedPortURL)
        #expect(refused.status == 7, "connection refused (7): \(refused)")
        let unresolved = try await Self.curl(bad.unresolvableHostURL, timeout: 5)
        #expect(unresolved.status == 6, "host not resolved (6): \(unresolved)")
    }
}

import CFFmpeg
import Foundation

/// An audio file open in FFmpeg's libraries for reading: what libsndfile refuses and what phones record and messaging
/// apps send, M4A/MP4 (AAC), raw AAC (ADTS), WebM and Matroska, Ogg with a codec libsndfile lacks, AMR-NB and AMR-WB,
/// WMA. libavformat demuxes the file's first audio stream (a video's pictures are dropped unread), libavcodec decodes
/// it, and libswresample turns each decoded frame into interleaved Float32 at the stream's own rate and channels; the
/// conversion to the output format is ``SndFileDecoder``'s, as for any file.
///
/// Only the file itself is read, through libavformat's `file` protocol alone and only by the demuxers of the formats
/// above: an HLS playlist, a concat list or an MP4's data reference would otherwise let the file name another file or
/// a URL, and a path never leaves its folder. A container's length is only an estimate for AMR and raw AAC (from the
/// bit rate), so it is not taken as what the header vouches for: the probe counts the frames it decodes.
///
/// Not sought: ``seek(toFrame:)`` says no, and a join mid-file decodes its way there (an imported file airs from its
/// WAV playout copy, which seeks).
final class FFmpegFile: AudioFileReader {
    let path: String
    let info: MediaInfo
    let declaredFrames: Int
    private(set) var failure: AudioError?
    private let handles: Handles
    private let stream: Int32
    /// Where the audio ends, in an MP4, whose edit list gives its length to the sample (as a LAME tag does an MP3's):
    /// the frames the encoder padded its last block with are not read.
    private let endFrame: Int?
    private var delivered = 0
    /// Frames converted and not yet read: `convertedFrames` of them from `convertedStart`, interleaved.
    private var converted: [Float] = []
    private var convertedStart = 0, convertedFrames = 0
    private var ended = false, drainSent = false
    /// A read error met at the demuxer: the frames before it are decoded and returned, then it is the failure.
    private var readError: AudioError?
    /// Packets the decoder refused in a row; a few are a damaged spot skipped (as the `ffmpeg` tool skips them),
    /// more are a file broken from there on.
    private var refusedInARow = 0
    private static let refusedPacketsTolerated = 8

    /// The demuxers FFmpeg may read a file with (the first name of each in `ffmpeg -demuxers`' list): WAV, MP3, FLAC
    /// and Ogg Vorbis stay libsndfile's, and no playlist or list of other files is opened.
    static let demuxers = "mov,aac,matroska,ogg,amr,amrnb,amrwb,asf"

    /// Opens `path`. `sndfileWords` is libsndfile's reason for refusing it, told beside FFmpeg's if neither reads it.
    init(path: String, sndfileWords: String?) throws(AudioError) {
        self.path = path
        let handles = Handles()
        var options: OpaquePointer?
        av_dict_set(&options, "protocol_whitelist", "file", 0)
        av_dict_set(&options, "format_whitelist", FFmpegFile.demuxers, 0)
        FFmpegLog.quiet()
        let opened = avformat_open_input(&handles.container, "file:" + path, nil, &options)
        av_dict_free(&options)
        guard opened >= 0, let container = handles.container else {
            throw FFmpegFile.notAudio(path, code: opened, sndfileWords: sndfileWords)
        }
        let found = avformat_find_stream_info(container, nil)
        guard found >= 0 else { throw FFmpegFile.notAudio(path, code: found, sndfileWords: sndfileWords) }
        let index = av_find_best_stream(container, AVMEDIA_TYPE_AUDIO, -1, -1, nil, 0)
        guard index >= 0, let streams = container.pointee.streams, let audio = streams[Int(index)],
              let parameters = audio.pointee.codecpar else {
            throw .decode(path: path, message: "tệp không có luồng âm thanh (chỉ có hình, hoặc không phải bản ghi âm): kiểm tra đúng tệp chưa")
        }
        for i in 0..<Int(container.pointee.nb_streams) where i != Int(index) {
            streams[i]?.pointee.discard = AVDISCARD_ALL
        }
        let codecName = String(cString: avcodec_get_name(parameters.pointee.codec_id))
        guard let decoder = avcodec_find_decoder(parameters.pointee.codec_id) else {
            throw .decode(path: path, message: "FFmpeg trên máy này không giải mã được âm thanh mã hoá \(codecName.uppercased())")
        }
        handles.codec = avcodec_alloc_context3(decoder)
        guard let codec = handles.codec, avcodec_parameters_to_context(codec, parameters) >= 0 else {
            throw .decode(path: path, message: "FFmpeg không mở được bộ giải mã \(codecName.uppercased())")
        }
        codec.pointee.pkt_timebase = audio.pointee.time_base
        let codecOpened = avcodec_open2(codec, decoder, nil)
        guard codecOpened >= 0 else {
            throw .decode(path: path, message: "FFmpeg không mở được bộ giải mã \(codecName.uppercased()) (\(FFmpegFile.words(codecOpened)))")
        }
        let rate = Int(codec.pointee.sample_rate), channels = Int(codec.pointee.ch_layout.nb_channels)
        guard rate > 0, channels > 0 else { throw .decode(path: path, message: "tệp không có kênh âm thanh") }
        // What every decoded frame is converted to: the stream's own layout, or the usual one for its channel count.
        if codec.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || av_channel_layout_copy(&handles.layout, &codec.pointee.ch_layout) < 0 {
            av_channel_layout_default(&handles.layout, Int32(channels))
        }
        handles.packet = av_packet_alloc()
        handles.frame = av_frame_alloc()
        guard handles.packet != nil, handles.frame != nil else { throw .decode(path: path, message: "hết bộ nhớ") }

        let nothing = loa_av_nopts_value()
        var frames = 0
        if audio.pointee.duration != nothing, audio.pointee.duration > 0 {
            frames = Int((Double(audio.pointee.duration) * av_q2d(audio.pointee.time_base) * Double(rate)).rounded())
        } else if container.pointee.duration != nothing, container.pointee.duration > 0 {
            frames = Int((Double(container.pointee.duration) / Double(AV_TIME_BASE) * Double(rate)).rounded())
        }
        info = MediaInfo(frames: frames, sampleRate: rate, channels: channels,
                         format: FFmpegFile.formatName(container, codec: codecName, path: path))
        declaredFrames = container.pointee.duration_estimation_method == AVFMT_DURATION_FROM_BITRATE ? 0 : frames
        endFrame = info.format.hasPrefix("MP4/") && audio.pointee.duration != nothing && frames > 0 ? frames : nil
        stream = index
        self.handles = handles
    }

    func read(into buffer: UnsafeMutablePointer<Float>, frames: Int) -> Int {
        let channels = info.channels
        var done = 0
        let wanted = endFrame.map { min(frames, max(0, $0 - delivered)) } ?? frames
        while done < wanted {
            if convertedFrames == 0 {
                guard decodeMore() else { break }
                continue
            }
            let n = min(wanted - done, convertedFrames)
            converted.withUnsafeBufferPointer { source in
                guard let base = source.baseAddress else { return }
                (buffer + done * channels).update(from: base + convertedStart * channels, count: n * channels)
            }
            done += n
            convertedStart += n
            convertedFrames -= n
        }
        delivered += done
        return done
    }

    func seek(toFrame frame: Int) -> Bool { false }

    /// Decodes until at least one frame is converted; false at the end of the file or at a failure.
    private func decodeMore() -> Bool {
        guard !ended, let container = handles.container, let codec = handles.codec,
              let packet = handles.packet, let frame = handles.frame else { return false }
        while true {
            let received = avcodec_receive_frame(codec, frame)
            if received == 0 {
                refusedInARow = 0
                let n = convert(frame)
                av_frame_unref(frame)
                if n > 0 { return true }
                if failure != nil { return stop() }
                continue
            }
            if received == loa_averror_eof() {
                // The converter's tail, when it resampled a stream that changed its rate midway.
                if convert(nil) > 0 { return true }
                failure = failure ?? readError
                return stop()
            }
            if received != loa_averror_eagain() {
                if !tolerate(received) { return stop() }
                continue
            }
            if drainSent { return stop() }
            let read = av_read_frame(container, packet)
            if read < 0 {
                // A file cut short ends in a partial packet: what came before it is decoded, and the probe, counting
                // fewer frames than the header announced, says how much is missing. Anything else is a read error.
                if read != loa_averror_eof() && read != loa_averror_invaliddata() {
                    readError = .decode(path: path, message: "lỗi đọc tệp giữa chừng, phần sau không phát được (FFmpeg: \(FFmpegFile.words(read)))")
                }
                avcodec_send_packet(codec, nil)
                drainSent = true
                continue
            }
            defer { av_packet_unref(packet) }
            guard packet.pointee.stream_index == stream else { continue }
            let sent = avcodec_send_packet(codec, packet)
            if sent < 0, sent != loa_averror_eagain(), !tolerate(sent) { return stop() }
        }
    }

    private func stop() -> Bool {
        ended = true
        return false
    }

    /// Counts a packet the decoder refused; false, with the failure set, once too many have been refused in a row.
    private func tolerate(_ code: Int32) -> Bool {
        refusedInARow += 1
        guard refusedInARow > FFmpegFile.refusedPacketsTolerated else { return true }
        failure = .decode(path: path, message: "tệp hỏng hoặc bị cắt giữa chừng, phần sau không phát được: chép lại bản đầy đủ "
                          + "(FFmpeg: \(FFmpegFile.words(code)))")
        return false
    }

    /// Converts `frame` (nil: the converter's tail) into ``converted``; returns how many frames it made.
    private func convert(_ frame: UnsafeMutablePointer<AVFrame>?) -> Int {
        if let frame, !handles.converterTakes(frame) {
            guard handles.configureConverter(for: frame, rate: Int32(info.sampleRate)) else {
                failure = .decode(path: path, message: "FFmpeg không chuyển được âm thanh giải mã sang số thực (libswresample)")
                return 0
            }
        }
        guard let converter = handles.converter else { return 0 }
        let inFrames = frame.map { Int($0.pointee.nb_samples) } ?? 0
        let capacity = Int(swr_get_out_samples(converter, Int32(inFrames))) + 32
        if converted.count < capacity * info.channels { converted = [Float](repeating: 0, count: capacity * info.channels) }
        let made = converted.withUnsafeMutableBufferPointer { out -> Int32 in
            var target = UnsafeMutableRawPointer(out.baseAddress)?.assumingMemoryBound(to: UInt8.self)
            return withUnsafeMutablePointer(to: &target) { targets in
                guard let frame else { return swr_convert(converter, targets, Int32(capacity), nil, 0) }
                return frame.pointee.extended_data.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 1) { sources in
                    swr_convert(converter, targets, Int32(capacity), sources, frame.pointee.nb_samples)
                }
            }
        }
        guard made >= 0 else {
            failure = .decode(path: path, message: "FFmpeg không chuyển được âm thanh giải mã (libswresample: \(FFmpegFile.words(made)))")
            return 0
        }
        (convertedStart, convertedFrames) = (0, Int(made))
        return Int(made)
    }

    /// libavutil's words for an error code.
    static func words(_ code: Int32) -> String {
        var text = [CChar](repeating: 0, count: 128)
        av_strerror(code, &text, text.count)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The container and the codec, as an operator reads them: `MP4/AAC`, `ADTS/AAC`, `WEBM/OPUS`, `AMR/AMR_NB`, `ASF/WMAV2`.
    static func formatName(_ container: UnsafeMutablePointer<AVFormatContext>, codec: String, path: String) -> String {
        let demuxer = container.pointee.iformat.map { String(cString: $0.pointee.name) } ?? "?"
        let first = demuxer.split(separator: ",").first.map(String.init) ?? demuxer
        let name = switch first {
        case "mov": "MP4"
        case "aac": "ADTS"
        // FFmpeg's one demuxer reads both; WebM says so in its EBML header's DocType, within the file's first bytes.
        case "matroska": head(of: path, bytes: 64).range(of: Data("webm".utf8)) == nil ? "MKV" : "WEBM"
        default: first.uppercased()
        }
        return "\(name)/\(codec.uppercased())"
    }

    /// Why neither library opened the file, in words the officer can act on; the libraries' own in brackets.
    static func notAudio(_ path: String, code: Int32, sndfileWords: String?) -> AudioError {
        if isMP4WithoutIndex(path) {
            return .decode(path: path, message: "tệp MP4/M4A thiếu phần mục lục (moov): bản ghi bị ngắt khi đang ghi, hoặc tệp chép chưa hết; "
                           + "chép lại bản đầy đủ")
        }
        // The demuxers' list refuses with EINVAL a file FFmpeg takes for something else (a playlist, a picture).
        let ffmpeg = code == -EINVAL ? "FFmpeg: không phải định dạng âm thanh" : "FFmpeg: \(words(code))"
        let reasons = [sndfileWords.map { "libsndfile: \($0)" }, ffmpeg].compactMap { $0 }.joined(separator: "; ")
        return .decode(path: path, message: "không phải tệp âm thanh Loa đọc được (WAV, MP3, FLAC, Ogg, M4A/AAC, Opus, WebM, AMR, WMA), "
                       + "hoặc tệp bị hỏng: kiểm tra đúng tệp chưa (\(reasons))")
    }

    /// Whether `path` is an MP4 (an `ftyp` box first) whose top-level boxes have no `moov`, the index of its samples:
    /// what a phone's recorder leaves when it is stopped before it finishes the file (it writes the index last).
    static func isMP4WithoutIndex(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        var offset: UInt64 = 0, isMP4 = false
        // A handful of boxes at the top (ftyp, free, mdat, moov, udta…): the walk is bounded.
        for index in 0..<64 {
            guard (try? handle.seek(toOffset: offset)) != nil, let header = try? handle.read(upToCount: 16), header.count >= 8 else { break }
            let type = String(decoding: header[4..<8], as: UTF8.self)
            if index == 0 { isMP4 = type == "ftyp" }
            if !isMP4 || type == "moov" { return false }
            var size = header.prefix(4).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            // Size 1: a 64-bit size follows; 0: the box runs to the end of the file.
            if size == 1, header.count == 16 { size = header[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
            guard size >= 8 else { break }
            offset += size
        }
        return isMP4
    }

    static func head(of path: String, bytes: Int) -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { return Data() }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: bytes)) ?? Data()
    }
}

/// FFmpeg's objects for one file, freed together whenever the file is let go, or as soon as opening it fails midway.
private final class Handles {
    var container: UnsafeMutablePointer<AVFormatContext>?
    var codec: UnsafeMutablePointer<AVCodecContext>?
    var packet: UnsafeMutablePointer<AVPacket>?
    var frame: UnsafeMutablePointer<AVFrame>?
    var converter: OpaquePointer?
    /// The layout every frame is converted to: the stream's as opened.
    var layout = AVChannelLayout()
    /// What the converter was set up for: a stream may change its rate or channels midway (AAC's SBR, a new PCE).
    private var converterFormat: Int32 = -1, converterRate: Int32 = 0
    private var converterLayout = AVChannelLayout()

    deinit {
        swr_free(&converter)
        av_frame_free(&frame)
        av_packet_free(&packet)
        avcodec_free_context(&codec)
        avformat_close_input(&container)
        av_channel_layout_uninit(&layout)
        av_channel_layout_uninit(&converterLayout)
    }

    func converterTakes(_ frame: UnsafeMutablePointer<AVFrame>) -> Bool {
        converter != nil && frame.pointee.format == converterFormat && frame.pointee.sample_rate == converterRate
            && av_channel_layout_compare(&frame.pointee.ch_layout, &converterLayout) == 0
    }

    /// Sets the converter up for `frame`'s format, rate and layout, to Float32 interleaved at `rate` in ``layout``.
    /// A frame of the stream's own rate is only reformatted; another is resampled to it.
    func configureConverter(for frame: UnsafeMutablePointer<AVFrame>, rate: Int32) -> Bool {
        swr_free(&converter)
        av_channel_layout_uninit(&converterLayout)
        var input = AVChannelLayout()
        defer { av_channel_layout_uninit(&input) }
        if frame.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || av_channel_layout_copy(&input, &frame.pointee.ch_layout) < 0 {
            av_channel_layout_default(&input, max(1, frame.pointee.ch_layout.nb_channels))
        }
        guard swr_alloc_set_opts2(&converter, &layout, AV_SAMPLE_FMT_FLT, rate,
                                  &input, AVSampleFormat(rawValue: frame.pointee.format), frame.pointee.sample_rate, 0, nil) >= 0,
              swr_init(converter) >= 0 else {
            swr_free(&converter)
            return false
        }
        converterFormat = frame.pointee.format
        converterRate = frame.pointee.sample_rate
        _ = av_channel_layout_copy(&converterLayout, &frame.pointee.ch_layout)
        return true
    }
}

import CSndFile
import Foundation

/// An audio file open in libsndfile for reading (WAV, MP3, FLAC, Ogg), through a 64 KB read buffer of its own.
///
/// libsndfile reads a file with one `read(2)` per request, and libmpg123 asks for an MP3 frame's header and then its
/// body: decoding costs two system calls a frame, and so does an exact seek, which walks every frame header before the
/// target: 115,000 calls 25 minutes into an MP3, 78 ms against 12 ms through this buffer (BENCHMARKS.md). libsndfile's
/// virtual I/O lets the buffer sit under it. A file that only its name identifies (an MP3 with junk before its first
/// frame, which libsndfile accepts for its `.mp3` extension) is opened by name instead, unbuffered.
final class SoundFile: AudioFileReader {
    let handle: OpaquePointer
    let path: String
    let info: MediaInfo
    private(set) var failure: AudioError?
    /// Whether the file is read through the buffer (false: opened by name).
    let buffered: Bool
    private let reader: BufferedReader?

    /// Opens `path`; nil when libsndfile cannot, its reason then in `sf_strerror(nil)`.
    init?(path: String) {
        var sfInfo = SF_INFO()
        if let reader = BufferedReader(path: path) {
            var io = SoundFile.virtualIO
            if let handle = sf_open_virtual(&io, Int32(SFM_READ), &sfInfo, Unmanaged.passUnretained(reader).toOpaque()) {
                (self.handle, self.reader, buffered) = (handle, reader, true)
                self.path = path
                info = SoundFile.mediaInfo(sfInfo)
                return
            }
        }
        sfInfo = SF_INFO()
        guard let handle = sf_open(path, Int32(SFM_READ), &sfInfo) else { return nil }
        (self.handle, reader, buffered) = (handle, nil, false)
        self.path = path
        info = SoundFile.mediaInfo(sfInfo)
    }

    deinit {
        // libsndfile lets go of the reader before the reader closes its descriptor.
        sf_close(handle)
    }

    /// Reads up to `frames` frames from libsndfile. The frames read before an error are kept (libsndfile clears its
    /// error at the next call, so it is noted here), and nothing is read after it.
    func read(into buffer: UnsafeMutablePointer<Float>, frames: Int) -> Int {
        guard failure == nil else { return 0 }
        let n = sf_readf_float(handle, buffer, sf_count_t(frames))
        if n < 0 || sf_error(handle) != 0 {
            failure = .decode(path: path, message: "tệp hỏng hoặc bị cắt giữa chừng, phần sau không phát được: chép lại bản đầy đủ "
                              + "(libsndfile: \(String(cString: sf_strerror(handle))))")
        }
        return max(0, Int(n))
    }

    func seek(toFrame frame: Int) -> Bool {
        guard sf_seek(handle, sf_count_t(frame), SEEK_SET) >= 0 else {
            // libsndfile refuses a seek past the header's length before it moves; back to the start in any case.
            _ = sf_seek(handle, 0, SEEK_SET)
            return false
        }
        return true
    }

    /// An MP3's frame count is a header's only when a Xing/Info/VBRI tag gives it; otherwise libsndfile guessed it
    /// from the file's size, which a VBR file makes wrong. A WAV's is its `data` chunk's, which libsndfile trims.
    var declaredFrames: Int {
        let headerFrames = info.format.contains("MPEG Layer") && !SndFileDecoder.mpegHasFrameCount(path) ? 0 : info.frames
        return max(headerFrames, SndFileDecoder.wavDeclaredFrames(path) ?? 0)
    }

    private static func mediaInfo(_ sfInfo: SF_INFO) -> MediaInfo {
        MediaInfo(frames: Int(sfInfo.frames), sampleRate: Int(sfInfo.samplerate), channels: Int(sfInfo.channels),
                  format: SndFileDecoder.formatName(sfInfo.format))
    }

    private static func reader(_ user: UnsafeMutableRawPointer?) -> BufferedReader? {
        user.map { Unmanaged<BufferedReader>.fromOpaque($0).takeUnretainedValue() }
    }

    private static let virtualIO = SF_VIRTUAL_IO(
        get_filelen: { user in SoundFile.reader(user)?.length ?? -1 },
        seek: { offset, whence, user in SoundFile.reader(user)?.seek(offset, whence: whence) ?? -1 },
        read: { pointer, count, user in
            guard let pointer else { return 0 }
            return SoundFile.reader(user)?.read(into: pointer, count: count) ?? 0
        },
        write: { _, _, _ in 0 },
        tell: { user in SoundFile.reader(user)?.position ?? -1 }
    )
}

/// A file read at a position of its own through a buffer: `pread(2)` only, so no seek is a system call, and a read
/// as large as the buffer goes straight into the caller's memory.
private final class BufferedReader {
    let length: sf_count_t
    private(set) var position: sf_count_t = 0
    private let descriptor: Int32
    private let buffer: UnsafeMutableRawPointer
    private static let capacity = 65536
    /// The file's bytes the buffer holds: from `bufferStart`, `bufferCount` of them.
    private var bufferStart: sf_count_t = 0, bufferCount = 0

    init?(path: String) {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            return nil
        }
        length = sf_count_t(status.st_size)
        buffer = .allocate(byteCount: BufferedReader.capacity, alignment: 16)
    }

    deinit {
        buffer.deallocate()
        close(descriptor)
    }

    func seek(_ offset: sf_count_t, whence: Int32) -> sf_count_t {
        let target = switch whence {
        case SEEK_CUR: position + offset
        case SEEK_END: length + offset
        default: offset
        }
        guard target >= 0 else { return -1 }
        position = target
        return position
    }

    func read(into destination: UnsafeMutableRawPointer, count: sf_count_t) -> sf_count_t {
        var done: sf_count_t = 0
        while done < count {
            if position >= bufferStart, position < bufferStart + sf_count_t(bufferCount) {
                let offset = Int(position - bufferStart)
                let n = min(Int(count - done), bufferCount - offset)
                (destination + Int(done)).copyMemory(from: buffer + offset, byteCount: n)
                done += sf_count_t(n)
                position += sf_count_t(n)
                continue
            }
            let wanted = Int(count - done)
            if wanted >= BufferedReader.capacity {
                let n = pread(descriptor, destination + Int(done), wanted, off_t(position))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                done += sf_count_t(n)
                position += sf_count_t(n)
                continue
            }
            let n = pread(descriptor, buffer, BufferedReader.capacity, off_t(position))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            (bufferStart, bufferCount) = (position, n)
        }
        return done
    }
}

import Crypto
import Foundation

/// A file being downloaded under `.partial/<sha256>.part`: hashed as it grows, kept across a cut so the next
/// attempt resumes with a `Range` request, and renamed into place only once whole and verified.
final class PartialDownload: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private var hasher = SHA256()
    private(set) var size = 0

    /// Opens (or creates) `path` and hashes what an earlier attempt left in it.
    init(path: String) throws(FeedError) {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw .file(path: folder, message: "không tạo được thư mục: \(error.localizedDescription)")
        }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .file(path: path, message: "không mở được: \(FeedError.errnoText())") }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 {
                let reason = FeedError.errnoText()
                close(fd)
                throw .file(path: path, message: "không đọc được: \(reason)")
            }
            if n == 0 { break }
            hasher.update(data: buffer[0..<n])
            size += n
        }
    }

    deinit { close(fd) }

    /// Drops what is there and starts from byte 0 (the server ignored the range, or the part is longer than declared).
    func restart() throws(FeedError) {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw .file(path: path, message: "không xóa được phần đã tải: \(FeedError.errnoText())")
        }
        hasher = SHA256()
        size = 0
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(FeedError) {
        var written = 0
        while written < bytes.count {
            let n = write(fd, bytes.baseAddress.map { $0 + written }, bytes.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                throw .file(path: path, message: "không ghi được: \(FeedError.errnoText())")
            }
            written += n
        }
        hasher.update(bufferPointer: bytes)
        size += bytes.count
    }

    var sha256: String { Digest.hex(hasher.finalize()) }

    /// Flushes to disk: what is renamed into the library must survive a power cut.
    func sync() throws(FeedError) {
        guard fsync(fd) == 0 else { throw .file(path: path, message: "không ghi được xuống đĩa: \(FeedError.errnoText())") }
    }

    func remove() { unlink(path) }
}

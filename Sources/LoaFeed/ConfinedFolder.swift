import Foundation
import LoaCore

/// A folder opened once and reached only from its descriptor: every file under it is found one component at a
/// time with `openat(…, O_NOFOLLOW)`, so neither a path a manifest names (`..`, absolute, hidden) nor a symbolic link
/// planted inside the folder leads a read, a write or a deletion anywhere else. The folder itself may be a link
/// (the operator chose it); a link below it is never followed, whether it points outside or not.
final class ConfinedFolder {
    let url: URL
    private let fd: Int32

    /// Opens `url`, creating it (and its parents) when missing.
    init(_ url: URL) throws(FeedError) {
        self.url = url
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw .file(path: url.path, message: "không tạo được thư mục: \(error.localizedDescription)")
        }
        fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .file(path: url.path, message: "không mở được thư mục: \(FeedError.errnoText())") }
    }

    deinit { close(fd) }

    /// Why `path` may not be used, or nil: the same rule a commune applies to a manifest's paths.
    static func refusal(of path: String) -> String? {
        FeedDecision.isSafe(relativePath: path) ? nil : "đường dẫn “\(path)” ra ngoài thư mục feed (.., tuyệt đối, ẩn hoặc có ký tự lạ)"
    }

    /// The file's bytes, or nil when it does not exist; one larger than `limit` bytes is refused unread.
    func contents(_ path: String, limit: Int = Int.max) throws(FeedError) -> Data? {
        try reading(path) { (handle, size) throws(FeedError) in
            guard size <= limit else {
                throw .file(path: self.url.appendingPathComponent(path).path, message: "lớn \(byteText(size)), quá \(byteText(limit)): không đọc")
            }
            do { return try handle.readToEnd() ?? Data() } catch {
                throw .file(path: self.url.appendingPathComponent(path).path, message: "lỗi khi đọc: \(error.localizedDescription)")
            }
        }
    }

    /// Runs `body` on the regular file opened for reading, with its size; nil when it does not exist.
    func reading<T>(_ path: String, _ body: (FileHandle, Int) throws(FeedError) -> T) throws(FeedError) -> T? {
        try inParent(of: path, creating: false) { (folder, name) throws(FeedError) -> T? in
            guard let folder else { return nil }
            // Non-blocking, so that a FIFO put in its place cannot hold the publish forever.
            let file = openat(folder, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard file >= 0 else {
                if errno == ENOENT { return nil }
                throw self.failure(path, errno)
            }
            defer { close(file) }
            var info = stat()
            guard fstat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
                throw .file(path: self.url.appendingPathComponent(path).path, message: "không phải tệp thường")
            }
            return try body(FileHandle(fileDescriptor: file, closeOnDealloc: false), Int(info.st_size))
        }
    }

    /// Whether `path` is a regular file (not a link) of `bytes` bytes with this SHA-256.
    func holds(_ path: String, bytes: Int, sha256: String) -> Bool {
        let matches = try? reading(path) { (handle, size) throws(FeedError) -> Bool in
            guard size == bytes else { return false }
            return try Digest.sha256(of: handle, path: url.appendingPathComponent(path).path) == sha256
        }
        return matches == true
    }

    /// Size and modification second of the file itself (a link is not followed), or nil when it does not exist.
    func status(_ path: String) throws(FeedError) -> stat? {
        try inParent(of: path, creating: false) { (folder, name) throws(FeedError) -> stat? in
            guard let folder else { return nil }
            var info = stat()
            guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                if errno == ENOENT { return nil }
                throw self.failure(path, errno)
            }
            return info
        }
    }

    /// Sets the file's access and modification time to `seconds` (a link is not followed).
    func setModified(_ path: String, seconds: Int) throws(FeedError) {
        try inParent(of: path, creating: false) { (folder, name) throws(FeedError) in
            guard let folder else { throw self.failure(path, ENOENT) }
            var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
            guard utimensat(folder, name, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw self.failure(path, errno) }
        }
    }

    /// Replaces `path` as a whole: `fill` writes `.NAME.tmp` beside it (created afresh, never through a link); it is
    /// synced and renamed over `path`, and the folder synced. Missing folders on the way are created.
    func write(_ path: String, _ fill: (FileHandle) throws -> Void) throws(FeedError) {
        try inParent(of: path, creating: true) { (folder, name) throws(FeedError) in
            guard let folder else { throw self.failure(path, ENOENT) }
            let temporary = ".\(name).tmp"
            unlinkat(folder, temporary, 0)
            let file = openat(folder, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard file >= 0 else { throw self.failure(path, errno, doing: "không tạo được tệp tạm") }
            defer { close(file) }
            do { try fill(FileHandle(fileDescriptor: file, closeOnDealloc: false)) } catch {
                unlinkat(folder, temporary, 0)
                if let error = error as? FeedError { throw error }
                throw .file(path: self.url.appendingPathComponent(path).path, message: "không ghi được: \(error.localizedDescription)")
            }
            guard fsync(file) == 0 else {
                let code = errno
                unlinkat(folder, temporary, 0)
                throw self.failure(path, code, doing: "không ghi được xuống đĩa")
            }
            guard renameat(folder, temporary, folder, name) == 0 else {
                let code = errno
                unlinkat(folder, temporary, 0)
                throw self.failure(path, code, doing: "không đổi tên được")
            }
            fsync(folder)
        }
    }

    /// Removes the file (a link is removed, not followed); a missing one is no error.
    func remove(_ path: String) throws(FeedError) {
        try inParent(of: path, creating: false) { (folder, name) throws(FeedError) in
            guard let folder else { return }
            guard unlinkat(folder, name, 0) == 0 || errno == ENOENT else { throw self.failure(path, errno, doing: "không xóa được") }
        }
    }

    /// Walks to the folder holding `path` without following a link and runs `body` with its descriptor (nil when a
    /// folder on the way is missing and `creating` is false) and the last component.
    private func inParent<T>(of path: String, creating: Bool,
                             _ body: (Int32?, String) throws(FeedError) -> T) throws(FeedError) -> T {
        if let refusal = Self.refusal(of: path) { throw .file(path: url.path, message: refusal) }
        let components = path.split(separator: "/").map(String.init)
        var folder = fd
        defer { if folder != fd { close(folder) } }
        for (index, component) in components.dropLast().enumerated() {
            var next = openat(folder, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0, errno == ENOENT, creating {
                guard mkdirat(folder, component, 0o755) == 0 || errno == EEXIST else {
                    throw failure(components[...index].joined(separator: "/"), errno, doing: "không tạo được thư mục", onTheWay: true)
                }
                next = openat(folder, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            guard next >= 0 else {
                if errno == ENOENT { return try body(nil, components[components.count - 1]) }
                throw failure(components[...index].joined(separator: "/"), errno, onTheWay: true)
            }
            if folder != fd { close(folder) }
            folder = next
        }
        return try body(folder, components[components.count - 1])
    }

    /// What went wrong with `path`; `onTheWay` when it is a folder the walk passes through.
    private func failure(_ path: String, _ code: Int32, doing what: String = "không mở được", onTheWay: Bool = false) -> FeedError {
        let full = url.appendingPathComponent(path).path
        let noLinks = "loa publish không đọc, ghi hay xóa qua liên kết trong thư mục feed"
        // O_NOFOLLOW answers ELOOP for a link; O_DIRECTORY ENOTDIR for a link or a file where a folder should be.
        if onTheWay, code == ELOOP || code == ENOTDIR {
            return .file(path: full, message: "là liên kết tượng trưng hoặc không phải thư mục: \(noLinks); thay bằng một thư mục thật")
        }
        if code == ELOOP { return .file(path: full, message: "là liên kết tượng trưng: \(noLinks)") }
        return .file(path: full, message: "\(what): \(FeedError.errnoText(code))")
    }
}

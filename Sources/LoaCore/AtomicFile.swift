import Foundation

/// Writes a file so that a reader (the daemon's reload, an officer's editor, a power cut) sees the old content or
/// the new, never part of it: `.NAME.tmp` beside it is written and fsynced, renamed over it, and the folder fsynced
/// so the rename itself survives a power cut.
public enum AtomicFile {
    /// Why the file was not replaced; the old one is untouched and no temporary file is left.
    public struct Failure: OperatorFacingError, Sendable {
        public let description: String
    }

    public static func write(_ data: Data, to url: URL, mode: mode_t = 0o644) throws(Failure) {
        let folder = url.deletingLastPathComponent().path
        // Named for this process: two writers of one file must not remove or rename each other's temporary file.
        let temporary = folder + "/.\(url.lastPathComponent).\(getpid()).tmp"
        func fail(_ what: String) -> Failure {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            return Failure(description: "\(url.path): \(what): \(reason)")
        }
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw fail("không tạo được tệp tạm") }
        let written = data.withUnsafeBytes { bytes -> Bool in
            var offset = 0
            while offset < bytes.count {
                let n = Foundation.write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
        guard written, fchmod(fd, mode) == 0, fsync(fd) == 0 else {
            let failure = fail("không ghi được")
            close(fd)
            throw failure
        }
        close(fd)
        guard rename(temporary, url.path) == 0 else { throw fail("không thay được tệp") }
        let dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }
}

import Foundation

/// A small file beside the database (`<database>.spool`) holding the log writes the database refused, so they
/// survive a restart while the disk is full or failing. Its space is reserved when it is opened
/// (`posix_fallocate`), so it can still be written once the disk is full.
///
/// Format: one JSON ``LogWrite`` per line, in order, followed by a NUL byte; the rest of the reserved space is
/// zero. A NUL at the start means empty: clearing writes that one byte, so a crash cannot leave half a clear.
/// A line cut by a crash (no newline before the NUL) is not read back.
public final class WriteSpool: @unchecked Sendable {
    public let path: String
    /// Bytes reserved: at about 60 bytes a progress write every second of audio and under 1 kB a planned row, a day
    /// of a station's airings takes well under 1 MiB.
    public let capacity: Int
    /// The writes found when the spool was opened: a run that stopped while it held them left them.
    public let recovered: [LogWrite]
    /// Whether the space was reserved; when not (the disk was already full), appends may fail.
    public let reserved: Bool
    private let descriptor: Int32
    /// Where the next line goes: the offset of the terminating NUL.
    private var end: Int
    private let lock = NSLock()

    public static let defaultCapacity = 8 << 20

    public init(path: String, capacity: Int = WriteSpool.defaultCapacity) throws(StoreError) {
        self.path = path
        self.capacity = capacity
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw .disk(path: path, message: String(cString: strerror(errno))) }
        let (writes, used) = WriteSpool.read(descriptor)
        recovered = writes
        end = used
        reserved = posix_fallocate(descriptor, 0, off_t(capacity)) == 0
    }

    deinit { close(descriptor) }

    /// The lines up to the first NUL (or the file's end), decoded, and the offset of that NUL.
    private static func read(_ descriptor: Int32) -> ([LogWrite], Int) {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset = 0
        reading: while true {
            let count = pread(descriptor, &buffer, buffer.count, off_t(offset))
            guard count > 0 else { break }
            if let nul = buffer[..<count].firstIndex(of: 0) {
                data.append(contentsOf: buffer[..<nul])
                break reading
            }
            data.append(contentsOf: buffer[..<count])
            offset += count
        }
        var writes: [LogWrite] = []
        let decoder = JSONDecoder()
        var used = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            if let write = try? decoder.decode(LogWrite.self, from: Data(line)) { writes.append(write) }
            used += line.count + 1
        }
        return (writes, used)
    }

    /// Appends `writes` in order and syncs them to the disk. False when they do not fit in the reserved space.
    public func append(_ writes: [LogWrite]) throws(StoreError) -> Bool {
        guard !writes.isEmpty else { return true }
        var bytes = Data()
        let encoder = JSONEncoder()
        for write in writes {
            guard let line = try? encoder.encode(write) else { continue }
            bytes.append(line)
            bytes.append(UInt8(ascii: "\n"))
        }
        bytes.append(0)
        lock.lock()
        defer { lock.unlock() }
        guard end + bytes.count <= capacity else { return false }
        try write(bytes, at: end)
        end += bytes.count - 1
        return true
    }

    /// Empties the spool: every write in it is in the database.
    public func clear() throws(StoreError) {
        lock.lock()
        defer { lock.unlock() }
        try write(Data([0]), at: 0)
        end = 0
    }

    private func write(_ bytes: Data, at offset: Int) throws(StoreError) {
        let written = bytes.withUnsafeBytes { raw in pwrite(descriptor, raw.baseAddress, raw.count, off_t(offset)) }
        guard written == bytes.count, fdatasync(descriptor) == 0 else {
            throw .disk(path: path, message: written < 0 ? String(cString: strerror(errno)) : "ghi thiếu \(written)/\(bytes.count) byte")
        }
    }
}

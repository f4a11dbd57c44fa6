import Crypto
import Dispatch
import Foundation

/// A file being downloaded under `.partial/<sha256>.part`: hashed as it grows, kept across a cut so the next
/// attempt resumes with a `Range` request, and renamed into place only once whole and verified.
///
/// Received bytes are gathered into 256 KiB blocks. Each full block goes at once to a writing queue and a
/// hashing queue: the thread that reads the socket only copies, while earlier blocks are written and hashed.
/// Where the file system allows it, whole blocks are written with `O_DIRECT`, straight from the block to the
/// disk: copying them into the page cache cost the receiving thread as much CPU as the socket did, and on two
/// cores that copy, not the link, held the transfer back (BENCHMARKS.md). At most ``blocksInFlight`` blocks
/// wait to be written or hashed, so memory stays flat whatever the file's size.
final class PartialDownload: @unchecked Sendable {
    static let blockSize = 256 << 10
    static let blocksInFlight = 12
    /// `O_DIRECT` wants offsets and lengths in whole logical blocks of the disk; 4 KiB covers every disk in use.
    static let directAlignment = 4096
    /// Glibc declares `O_DIRECT` only under `_GNU_SOURCE`, which Swift's Glibc module does not define; its value
    /// differs per architecture. Elsewhere every write is buffered.
    static var directFlag: Int32? {
        #if os(Linux) && arch(x86_64)
        return 0o40000
        #elseif os(Linux) && arch(arm64)
        return 0o200000
        #else
        return nil
        #endif
    }

    let path: String
    private let fd: Int32
    /// The same file opened `O_DIRECT`, or -1 where the file system refuses it (tmpfs).
    private let directFD: Int32
    private let hashing: StreamHasher
    private let writing = DispatchQueue(label: "loa-feed-write", qos: .utility)
    /// Received but not yet queued: queued when full, and by ``flush()``.
    private var block: StreamHasher.Block
    /// Bytes handed to the writing queue.
    private var queued = 0
    /// Bytes received so far, queued or still in the current block.
    var size: Int { queued + block.count }
    /// Guards `failure`, set on the writing queue and read by the caller.
    private let failureLock = NSLock()
    private var failure: FeedError?
    /// Touched only on `writing`: cleared for good when the file system takes the `O_DIRECT` open but not the write.
    private var direct: Bool

    /// Opens (or creates) `path` and hashes what an earlier attempt left in it.
    init(path: String) throws(FeedError) {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw .file(path: folder, message: "không tạo được thư mục: \(error.localizedDescription)")
        }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .file(path: path, message: "không mở được: \(FeedError.errnoText())") }
        directFD = Self.directFlag.map { open(path, O_WRONLY | $0 | O_CLOEXEC) } ?? -1
        direct = directFD >= 0
        hashing = StreamHasher(blocks: Self.blocksInFlight, blockSize: Self.blockSize)
        block = hashing.emptyBlock()
        while true {
            var earlier = hashing.emptyBlock()
            let n = read(fd, earlier.memory.baseAddress, earlier.memory.count)
            if n <= 0 {
                hashing.recycle(earlier)
                if n == 0 { break }
                // deinit closes the file.
                throw .file(path: path, message: "không đọc được: \(FeedError.errnoText())")
            }
            earlier.count = n
            hashing.hash(earlier)
            queued += n
        }
    }

    deinit {
        // Every queued write holds `self`, so none is left here.
        close(fd)
        if directFD >= 0 { close(directFD) }
    }

    /// Drops what is there and starts from byte 0 (the server ignored the range, or the part is longer than declared).
    func restart() throws(FeedError) {
        writing.sync {}
        failureLock.withLock { failure = nil }
        guard ftruncate(fd, 0) == 0 else {
            throw .file(path: path, message: "không xóa được phần đã tải: \(FeedError.errnoText())")
        }
        hashing.reset()
        block.count = 0
        queued = 0
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(FeedError) {
        var done = 0
        while done < bytes.count {
            done += block.fill(from: UnsafeRawBufferPointer(rebasing: bytes[done...]))
            if block.isFull { try queueBlock() }
        }
    }

    /// Writes and hashes what is gathered and waits for the writes: at the end of each attempt, so a cut keeps
    /// every byte received, and before the digest is taken.
    func flush() throws(FeedError) {
        if block.count > 0 { try queueBlock() }
        writing.sync {}
        try checkWrites()
    }

    private func checkWrites() throws(FeedError) {
        if let failure = failureLock.withLock({ failure }) { throw failure }
    }

    private func queueBlock() throws(FeedError) {
        // A write that failed fails the attempt at the next block; the caller then removes the file.
        try checkWrites()
        let full = block, offset = queued
        queued += full.count
        // Written and hashed at once; back in the pool when both are done.
        let released = DispatchGroup()
        released.enter()
        writing.async { [self] in
            if failureLock.withLock({ failure }) == nil, let error = write(full, at: offset) {
                failureLock.withLock { failure = error }
            }
            released.leave()
        }
        hashing.hash(full, releasedWith: released)
        // Waits while every block of the pool is still being written or hashed: the back-pressure on the socket.
        block = hashing.emptyBlock()
    }

    /// On the writing queue: writes `full` at its own offset (a write that failed half-way must not shift the
    /// ones after it), with `O_DIRECT` where the block is whole and aligned.
    private func write(_ full: StreamHasher.Block, at offset: Int) -> FeedError? {
        let aligned = offset % Self.directAlignment == 0 && full.count % Self.directAlignment == 0
        var done = 0
        while done < full.count {
            let viaDirect = direct && aligned && done == 0
            let n = pwrite(viaDirect ? directFD : fd, full.memory.baseAddress.map { $0 + done }, full.count - done,
                           off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                // Opened O_DIRECT but not written that way (some FUSE and network file systems): buffered from now on.
                if viaDirect, errno == EINVAL { direct = false; continue }
                let reason = FeedError.errnoText()
                _ = ftruncate(fd, off_t(offset))
                return .file(path: path, message: "không ghi được: \(reason)")
            }
            done += n
        }
        return nil
    }

    /// SHA-256 of what was received: waits for the queued blocks. Call after ``flush()``.
    func finish() -> String { Digest.hex(hashing.finish()) }

    /// Flushes to disk: what is renamed into the library must survive a power cut.
    func sync() throws(FeedError) {
        writing.sync {}
        guard fsync(fd) == 0 else { throw .file(path: path, message: "không ghi được xuống đĩa: \(FeedError.errnoText())") }
    }

    func remove() { unlink(path) }
}

/// SHA-256 of a stream of blocks, hashed in order on a serial queue of its own while the caller goes on.
/// Blocks come from a small pool allocated once: ``emptyBlock()`` waits while every block is still queued,
/// which bounds memory.
final class StreamHasher: @unchecked Sendable {
    /// A fixed buffer of the pool and how many of its bytes are filled.
    struct Block: @unchecked Sendable {
        let memory: UnsafeMutableRawBufferPointer
        var count = 0
        var isFull: Bool { count == memory.count }
        var filled: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: memory[0..<count]) }

        /// Copies as much of `bytes` as fits and returns how many.
        mutating func fill(from bytes: UnsafeRawBufferPointer) -> Int {
            let n = min(bytes.count, memory.count - count)
            if n > 0, let source = bytes.baseAddress, let target = memory.baseAddress {
                (target + count).copyMemory(from: source, byteCount: n)
            }
            count += n
            return n
        }
    }

    private let queue = DispatchQueue(label: "loa-feed-sha256", qos: .utility)
    /// Guards `pool`; signalled when a block returns to it.
    private let returned = NSCondition()
    private var pool: [UnsafeMutableRawBufferPointer]
    private let allocated: [UnsafeMutableRawBufferPointer]
    /// Touched only on `queue`.
    private var hasher = SHA256()

    /// `blocks` may wait to be hashed while one more is filled.
    init(blocks: Int, blockSize: Int) {
        allocated = (0...blocks).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 4096) }
        pool = allocated
    }

    deinit { for memory in allocated { memory.deallocate() } }

    /// An empty block; waits while the whole pool is queued.
    func emptyBlock() -> Block {
        returned.lock()
        defer { returned.unlock() }
        while pool.isEmpty { returned.wait() }
        return Block(memory: pool.removeLast())
    }

    /// Returns a block to the pool without hashing it.
    func recycle(_ block: Block) {
        returned.lock()
        pool.append(block.memory)
        returned.signal()
        returned.unlock()
    }

    /// Queues `block` to be hashed after every block queued before it; the block then returns to the pool, once
    /// `releasedWith` (entered by whoever else still reads the block) is left too.
    func hash(_ block: Block, releasedWith others: DispatchGroup = DispatchGroup()) {
        others.enter()
        queue.async { [self] in
            hasher.update(bufferPointer: block.filled)
            others.leave()
        }
        others.notify(queue: queue) { [self] in recycle(block) }
    }

    /// Waits for every queued block and returns the digest of all of them.
    func finish() -> SHA256.Digest {
        queue.sync { hasher.finalize() }
    }

    /// Waits for every queued block, then starts a new stream.
    func reset() {
        queue.sync { hasher = SHA256() }
    }
}

import Crypto
import Dispatch
import Foundation

/// A file being downloaded under `.partial/<sha256>.part`: hashed as it grows, kept across a cut so the next
/// attempt resumes with a `Range` request, and renamed into place only once whole and verified.
///
/// Received bytes are gathered into 256 KiB blocks; each full block is written by the caller while a hashing
/// queue hashes the same block, so writing and hashing overlap (receiving, writing and hashing one after
/// another on one thread ran at half of curl's speed on two cores; a third queue for the writes gained
/// nothing measurable). Blocks stay small enough to be hashed from the cache they were just written from:
/// 1 MiB blocks were half as fast (BENCHMARKS.md). At most ``blocksInFlight`` blocks wait to be hashed, so
/// memory stays flat whatever the file's size.
final class PartialDownload: @unchecked Sendable {
    static let blockSize = 256 << 10
    static let blocksInFlight = 4

    let path: String
    private let fd: Int32
    private let hashing: StreamHasher
    /// Received but not yet written: written and hashed when full, and by ``flush()``.
    private var block: StreamHasher.Block
    private var written = 0
    /// Bytes received so far, written or still in the current block.
    var size: Int { written + block.count }

    /// Opens (or creates) `path` and hashes what an earlier attempt left in it.
    init(path: String) throws(FeedError) {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw .file(path: folder, message: "không tạo được thư mục: \(error.localizedDescription)")
        }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .file(path: path, message: "không mở được: \(FeedError.errnoText())") }
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
            written += n
        }
    }

    deinit { close(fd) }

    /// Drops what is there and starts from byte 0 (the server ignored the range, or the part is longer than declared).
    func restart() throws(FeedError) {
        guard ftruncate(fd, 0) == 0 else {
            throw .file(path: path, message: "không xóa được phần đã tải: \(FeedError.errnoText())")
        }
        hashing.reset()
        block.count = 0
        written = 0
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(FeedError) {
        var done = 0
        while done < bytes.count {
            done += block.fill(from: UnsafeRawBufferPointer(rebasing: bytes[done...]))
            if block.isFull { try writeBlock() }
        }
    }

    /// Writes and hashes what is gathered: at the end of each attempt, so a cut keeps every byte received.
    func flush() throws(FeedError) {
        if block.count > 0 { try writeBlock() }
    }

    private func writeBlock() throws(FeedError) {
        let full = block
        var done = 0
        while done < full.count {
            // At the block's own offset: a write that failed half-way must not shift the ones after it.
            let n = pwrite(fd, full.memory.baseAddress.map { $0 + done }, full.count - done, off_t(written + done))
            if n < 0 {
                if errno == EINTR { continue }
                let reason = FeedError.errnoText()
                // What the failed write left past the last whole block goes; the block stays, to be written again.
                _ = ftruncate(fd, off_t(written))
                throw .file(path: path, message: "không ghi được: \(reason)")
            }
            done += n
        }
        // The queue hashes this block while the next one is received and written.
        block = hashing.emptyBlock()
        hashing.hash(full)
        written += full.count
    }

    /// SHA-256 of what was received: waits for the queued blocks. Call after ``flush()``.
    func finish() -> String { Digest.hex(hashing.finish()) }

    /// Flushes to disk: what is renamed into the library must survive a power cut.
    func sync() throws(FeedError) {
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

    /// Queues `block` to be hashed after every block queued before it; the block then returns to the pool.
    func hash(_ block: Block) {
        queue.async { [self] in
            hasher.update(bufferPointer: block.filled)
            recycle(block)
        }
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

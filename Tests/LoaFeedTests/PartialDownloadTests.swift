import Foundation
@testable import LoaFeed
import Testing

@Suite("A partial download: written and hashed as it arrives")
struct PartialDownloadTests {
    /// Bytes that differ at every offset, so a block written at the wrong place changes the file and its hash.
    static func content(_ count: Int) -> [UInt8] {
        var state: UInt32 = 2_463_534_242
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return UInt8(truncatingIfNeeded: state)
        }
    }

    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loa-partial-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Appends `bytes` in pieces of uneven sizes, as a socket delivers them.
    static func append(_ bytes: ArraySlice<UInt8>, to part: PartialDownload) throws {
        var start = bytes.startIndex, piece = 1
        while start < bytes.endIndex {
            let end = min(bytes.endIndex, start + [7001, 65536, 1, 300_000][piece % 4])
            try bytes[start..<end].withUnsafeBytes { try part.append($0) }
            start = end
            piece += 1
        }
    }

    /// Whether the file system under `folder` takes `O_DIRECT` writes (ext4 and xfs do, tmpfs does not).
    static func takesDirectWrites(_ folder: URL) -> Bool {
        guard let flag = PartialDownload.directFlag else { return false }
        let probe = folder.appendingPathComponent("probe").path
        let fd = open(probe, O_WRONLY | O_CREAT | flag, 0o644)
        defer { if fd >= 0 { close(fd) }; unlink(probe) }
        guard fd >= 0 else { return false }
        let block = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { block.deallocate() }
        return pwrite(fd, block, 4096, 0) == 4096
    }

    /// Pages of `path` in the page cache.
    static func residentPages(_ path: String) throws -> Int {
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let size = Int(lseek(fd, 0, SEEK_END))
        guard let map = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), map != MAP_FAILED else { throw POSIXError(.EIO) }
        defer { munmap(map, size) }
        let pages = (size + 4095) / 4096
        var vector = [UInt8](repeating: 0, count: pages)
        guard mincore(map, size, &vector) == 0 else { throw POSIXError(.EIO) }
        return vector.filter { $0 & 1 == 1 }.count
    }

    @Test("The file and its SHA-256 are those of the bytes received, whatever the pieces' sizes")
    func fileAndHashMatchTheBytes() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bytes = Self.content(3 * PartialDownload.blockSize * 5 + 1234)
        let part = try PartialDownload(path: folder.appendingPathComponent("a.part").path)
        try Self.append(bytes[...], to: part)
        try part.flush()
        #expect(part.size == bytes.count)
        #expect(part.finish() == Digest.hex(try Digest.sha256Bytes(Data(bytes))))
        #expect(try Data(contentsOf: URL(fileURLWithPath: part.path)) == Data(bytes))
    }

    @Test("Whole blocks go straight to the disk: the download does not fill the page cache")
    func wholeBlocksBypassThePageCache() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try #require(Self.takesDirectWrites(folder), "the test folder's file system takes no O_DIRECT writes")
        let bytes = Self.content(40 * PartialDownload.blockSize + 100)
        let part = try PartialDownload(path: folder.appendingPathComponent("b.part").path)
        try Self.append(bytes[...], to: part)
        try part.flush()
        // Only the last, partial block went through the page cache.
        let resident = try Self.residentPages(part.path)
        #expect(resident <= PartialDownload.blockSize / 4096, "\(resident) of \((bytes.count + 4095) / 4096) pages cached")
        #expect(part.finish() == Digest.hex(try Digest.sha256Bytes(Data(bytes))))
    }

    @Test("Resumed at an odd offset after a cut, the file and SHA-256 are those of the whole")
    func resumesAtAnOddOffset() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bytes = Self.content(9 * PartialDownload.blockSize + 77)
        let path = folder.appendingPathComponent("c.part").path
        let cut = 2 * PartialDownload.blockSize + 4097
        do {
            let first = try PartialDownload(path: path)
            try Self.append(bytes[..<cut], to: first)
            try first.flush()
        }
        let second = try PartialDownload(path: path)
        #expect(second.size == cut)
        try Self.append(bytes[cut...], to: second)
        try second.flush()
        #expect(second.finish() == Digest.hex(try Digest.sha256Bytes(Data(bytes))))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
    }

    @Test("Started over, nothing of the first attempt is left in the file or the hash")
    func restartDropsEverything() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let part = try PartialDownload(path: folder.appendingPathComponent("d.part").path)
        try Self.append(Self.content(5 * PartialDownload.blockSize)[...], to: part)
        try part.restart()
        let bytes = Array(Self.content(3 * PartialDownload.blockSize + 5).reversed())
        try Self.append(bytes[...], to: part)
        try part.flush()
        #expect(part.finish() == Digest.hex(try Digest.sha256Bytes(Data(bytes))))
        #expect(try Data(contentsOf: URL(fileURLWithPath: part.path)) == Data(bytes))
    }
}

import Crypto
import Foundation
import LoaCore

/// Ed25519 keys and detached signatures over a manifest's exact bytes. Key and signature files are one line
/// of base64: the private key's 32-byte seed, the public key's 32 bytes, the signature's 64 bytes.
public enum FeedSigning {
    /// Writes `PREFIX.key` (private, mode 600, created exclusively: an existing key is never overwritten) and
    /// `PREFIX.pub`; returns the public key as base64.
    public static func generateKey(prefix: String) throws(FeedError) -> String {
        // Up to the last slash, by hand: NSString's deletingLastPathComponent traps on a one-letter path (`k`).
        let folder = prefix.lastIndex(of: "/").map { String(prefix[..<$0]) } ?? ""
        if !folder.isEmpty {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw .key(path: folder, message: "không tạo được thư mục: \(error.localizedDescription)")
            }
        }
        let key = Curve25519.Signing.PrivateKey()
        let publicKey = key.publicKey.rawRepresentation.base64EncodedString()
        try writeExclusively(prefix + ".key", line: key.rawRepresentation.base64EncodedString(), mode: 0o600)
        try writeExclusively(prefix + ".pub", line: publicKey, mode: 0o644)
        return publicKey
    }

    /// Reads a private key written by ``generateKey(prefix:)``.
    public static func privateKey(at path: String) throws(FeedError) -> Curve25519.Signing.PrivateKey {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .key(path: path, message: "không đọc được khóa bí mật")
        }
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes) else {
            throw .key(path: path, message: "không phải khóa bí mật Ed25519 (một dòng base64 của 32 byte, do “loa keygen” tạo)")
        }
        return key
    }

    /// The detached signature of `data`, as the base64 line `feed.json.sig` holds.
    public static func sign(_ data: Data, with key: Curve25519.Signing.PrivateKey) throws(FeedError) -> String {
        do { return try key.signature(for: data).base64EncodedString() } catch {
            throw .key(path: "Ed25519", message: "không ký được: \(error)")
        }
    }

    /// The pinned key (base64) that signed `data`, or nil when the signature is malformed or none of them did.
    public static func signer(of data: Data, signature: String, publicKeys: [String]) -> String? {
        guard let bytes = Data(base64Encoded: signature.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 64 else {
            return nil
        }
        return publicKeys.first { encoded in
            guard let raw = Data(base64Encoded: encoded), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
                return false
            }
            return key.isValidSignature(bytes, for: data)
        }
    }

    private static func writeExclusively(_ path: String, line: String, mode: mode_t) throws(FeedError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw .key(path: path, message: errno == EEXIST ? "đã có; không ghi đè khóa (xóa tệp cũ nếu thật sự muốn tạo khóa mới)"
                                                           : "không tạo được: \(FeedError.errnoText())")
        }
        defer { close(fd) }
        let bytes = Array((line + "\n").utf8)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            let reason = FeedError.errnoText()
            unlink(path)
            throw .key(path: path, message: "không ghi được: \(reason)")
        }
    }
}

/// SHA-256 of files and streams, as lowercase hex.
public enum Digest {
    /// Reads `path` in 1 MiB chunks.
    public static func sha256(ofFile path: String) throws(FeedError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .file(path: path, message: "không đọc được") }
        defer { try? handle.close() }
        return try sha256(of: handle, path: path)
    }

    /// Reads an open file from where it stands to its end, in 1 MiB chunks; `path` names it in an error.
    static func sha256(of handle: FileHandle, path: String) throws(FeedError) -> String {
        var hasher = SHA256()
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        } catch {
            throw .file(path: path, message: "lỗi khi đọc: \(error.localizedDescription)")
        }
        return hex(hasher.finalize())
    }

    /// SHA-256 of bytes in memory.
    public static func sha256Bytes(_ data: Data) throws -> [UInt8] { Array(SHA256.hash(data: data)) }

    public static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 { hexText(digest) }
}

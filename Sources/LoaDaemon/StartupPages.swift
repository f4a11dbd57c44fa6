import Foundation

/// Gives back the pages of the daemon's own executable that only start-up used.
///
/// The release binary carries the Swift runtime, Foundation, NIO and BoringSSL (28 MB of code). Argument
/// parsing, TOML, migrations and the first plan touch code all over it, and the kernel maps 64 KiB around each
/// page touched, so about 15 MB of code stayed resident for the daemon's whole life while playout uses a
/// fraction of it (BENCHMARKS.md: 3 MB less resident while airing). Unmapping the read-only, file-backed
/// mappings of the executable drops them from the resident set; what is used again comes back from the page
/// cache on its next touch (the pages stay in the page cache, shared and reclaimable: what goes is their
/// mapping in the daemon). Only mappings that were never writable are touched: relocated data made
/// read-only afterwards (RELRO) carries the kernel's `ac` flag, and dropping it, even swapped out, would
/// bring back the unrelocated bytes of the file.
public enum StartupPages {
    /// Unmaps the executable's clean read-only mappings; returns the kilobytes that were resident in them.
    /// Does nothing (returns 0) where `/proc` cannot be read.
    @discardableResult
    public static func release() -> Int {
        guard let smaps = try? String(contentsOfFile: "/proc/self/smaps", encoding: .utf8),
              let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return 0 }
        var released = 0
        for mapping in Mapping.parse(smaps) where mapping.path == executable && mapping.isCleanReadOnly {
            guard let start = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
            if madvise(start, Int(mapping.end - mapping.start), MADV_DONTNEED) == 0 { released += mapping.residentKB }
        }
        return released
    }

    /// One mapping of `/proc/PID/smaps`: its range, permissions, file, and what of it is resident.
    struct Mapping {
        var start: UInt, end: UInt
        var permissions: Substring
        var path: Substring
        var residentKB = 0
        /// Private copies: pages written (relocations) or never backed by the file, in memory or swapped out.
        var anonymousKB = 0
        var swapKB = 0
        /// The kernel's `VmFlags`; `ac` marks memory that was (or is) privately writable.
        var flags: Set<Substring> = []

        /// Readable, never writable, nothing of it copied: the file holds every byte.
        var isCleanReadOnly: Bool {
            permissions.hasPrefix("r") && !permissions.contains("w") && !flags.contains("ac") && anonymousKB == 0 && swapKB == 0
        }

        static func parse(_ smaps: String) -> [Mapping] {
            var mappings: [Mapping] = []
            for line in smaps.split(separator: "\n") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard let first = fields.first else { continue }
                if first.hasSuffix(":") {
                    guard !mappings.isEmpty else { continue }
                    if first == "VmFlags:" {
                        mappings[mappings.count - 1].flags = Set(fields.dropFirst())
                        continue
                    }
                    guard fields.count >= 2, let kb = Int(fields[1]) else { continue }
                    switch first {
                    case "Rss:": mappings[mappings.count - 1].residentKB = kb
                    case "Anonymous:": mappings[mappings.count - 1].anonymousKB = kb
                    case "Swap:": mappings[mappings.count - 1].swapKB = kb
                    default: break
                    }
                    continue
                }
                let bounds = first.split(separator: "-").compactMap { UInt($0, radix: 16) }
                guard bounds.count == 2, fields.count >= 5 else { continue }
                mappings.append(Mapping(start: bounds[0], end: bounds[1], permissions: fields[1],
                                        path: fields.count > 5 ? fields[5] : ""))
            }
            return mappings
        }
    }
}

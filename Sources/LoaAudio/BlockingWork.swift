import Foundation

/// Long blocking work (decoding a whole file, measuring its loudness, writing its playout copy, hashing a
/// resumed download, waiting for the disk) for callers on Swift's cooperative pool: it runs on a thread of its
/// own at nice 10, below the output thread and the daemon's tasks, which it must never hold up.
public enum BlockingWork {
    /// Runs `work` on a new thread named `name` and returns its result.
    public static func run<T: Sendable>(_ name: String, _ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                // On Linux the nice value is per thread, and `who` 0 is the calling one: nice 10 for it alone.
                setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
                continuation.resume(returning: work())
            }
            thread.name = name
            thread.start()
        }
    }
}

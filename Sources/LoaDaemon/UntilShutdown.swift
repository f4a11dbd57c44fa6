import ServiceLifecycle

/// A service whose work ends on its own (a check at start, a backfill, polling no feed) kept in the group until
/// the group shuts down. ServiceGroup takes a service that returns while others are being shut down for one that
/// failed: a SIGTERM in the first tenth of a second, before the quick check had returned, made the daemon exit 1.
public struct UntilShutdown<Work: Service>: Service {
    let work: Work

    public init(_ work: Work) { self.work = work }

    public func run() async throws {
        try await work.run()
        // Returns on graceful shutdown, or at once when the task is cancelled.
        try? await gracefulShutdown()
    }
}

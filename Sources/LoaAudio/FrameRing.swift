import Foundation

/// A bounded ring of interleaved frames between one producer thread (a decoder, a network reader) and one consumer
/// (the output thread). Its memory is allocated once, at its capacity; the producer waits for room and the consumer
/// never waits. The counts and the end are kept under a lock; the samples are copied outside it, each side touching
/// only the part of the ring the counts give it.
final class FrameRing: @unchecked Sendable {
    let channels: Int
    /// Frames the ring holds at most.
    let capacity: Int
    private let storage: UnsafeMutablePointer<Float>
    private let condition = NSCondition()
    /// Frames the producer has committed and the consumer has taken since the start: both only grow.
    private var written = 0, taken = 0
    /// How the producer ended, once every frame it made is committed.
    private var end: SourceRead?
    private var closed = false
    /// The free frames the producer waits for, while it waits.
    private var roomWanted: Int?
    /// Whether the consumer waits for frames.
    private var framesWanted = false
    private var producerExited = false
    /// The most frames the ring has held at once.
    private(set) var highWater = 0

    init(channels: Int, capacity: Int) {
        self.channels = channels
        self.capacity = max(1, capacity)
        storage = .allocate(capacity: self.capacity * channels)
        storage.initialize(repeating: 0, count: self.capacity * channels)
    }

    deinit { storage.deallocate() }

    // MARK: The producer's side

    /// Waits until at least `minimum` frames are free (fewer when the ring is smaller), then gives the free part
    /// that runs on without wrapping: at least one frame, maybe fewer than `minimum` at the ring's end. nil once the
    /// ring is closed: the producer stops.
    func room(atLeast minimum: Int) -> UnsafeMutableBufferPointer<Float>? {
        condition.lock()
        defer { condition.unlock() }
        let wanted = min(max(1, minimum), capacity)
        while !closed && capacity - (written - taken) < wanted {
            roomWanted = wanted
            condition.wait()
        }
        roomWanted = nil
        if closed { return nil }
        let start = written % capacity
        let frames = min(capacity - (written - taken), capacity - start)
        return UnsafeMutableBufferPointer(start: storage + start * channels, count: frames * channels)
    }

    /// The free part that runs on without wrapping, at once: nil when the ring is full or closed. For a producer that
    /// must not wait (a live stream drops audio rather than fall behind its upstream).
    func tryRoom() -> UnsafeMutableBufferPointer<Float>? {
        condition.withLock {
            let free = capacity - (written - taken)
            guard !closed, free > 0 else { return nil }
            let start = written % capacity
            let frames = min(free, capacity - start)
            return UnsafeMutableBufferPointer(start: storage + start * channels, count: frames * channels)
        }
    }

    /// Hands the consumer `frames` frames written at the start of the last ``room(atLeast:)``.
    func commit(_ frames: Int) {
        guard frames > 0 else { return }
        condition.withLock {
            written += frames
            highWater = max(highWater, written - taken)
            if framesWanted { condition.broadcast() }
        }
    }

    /// Says how the producer ended (``SourceRead/ended`` or ``SourceRead/failed(_:)``), after its last commit.
    func finish(_ end: SourceRead) {
        condition.withLock {
            if self.end == nil { self.end = end }
            if framesWanted { condition.broadcast() }
        }
    }

    /// Whether the consumer has closed the ring: a producer between two waits checks it to stop early.
    var isClosed: Bool { condition.withLock { closed } }

    /// Whether the producer has said its last word.
    var producerHasExited: Bool { condition.withLock { producerExited } }

    /// The producer's last word: ``close()`` returns once it is said.
    func producerDidExit() {
        condition.withLock {
            producerExited = true
            condition.broadcast()
        }
    }

    // MARK: The consumer's side

    /// Frames ready to read.
    var available: Int { condition.withLock { closed ? 0 : written - taken } }

    /// Waits until frames are ready or the producer has ended, for at most `seconds`; true when a read will not
    /// underflow. The bound is on waiting for another thread, not a time anything is decided by: the output thread
    /// waits at most a few milliseconds for a decoder that fell behind, while the device plays what it holds.
    func waitForFrames(upTo seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !closed && written == taken && end == nil {
            framesWanted = true
            if !condition.wait(until: deadline) { break }
        }
        framesWanted = false
        return closed || written > taken || end != nil
    }

    /// Copies up to `frames` ready frames into `buffer`; never waits.
    func read(into buffer: UnsafeMutablePointer<Float>, frames: Int) -> SourceRead {
        let (ready, start, end): (Int, Int, SourceRead?) = condition.withLock {
            (closed ? 0 : written - taken, taken % capacity, closed ? .ended : self.end)
        }
        let n = min(ready, frames)
        guard n > 0 else { return end ?? .underflow }
        let first = min(n, capacity - start)
        buffer.update(from: storage + start * channels, count: first * channels)
        if n > first { (buffer + first * channels).update(from: storage, count: (n - first) * channels) }
        condition.withLock {
            taken += n
            // The producer is woken only once the room it waits for is there, not for every read.
            if let wanted = roomWanted, capacity - (written - taken) >= wanted { condition.broadcast() }
        }
        return .frames(n)
    }

    /// Drops the `frames` oldest ready frames (the consumer's side: never at once with a read).
    func discard(_ frames: Int) {
        condition.withLock {
            taken += max(0, min(frames, written - taken))
            if let wanted = roomWanted, capacity - (written - taken) >= wanted { condition.broadcast() }
        }
    }

    /// Stops the producer (a wait for room returns nil) and waits until it has said it exited, if `waitForProducer`.
    func close(waitForProducer: Bool) {
        condition.lock()
        closed = true
        condition.broadcast()
        while waitForProducer && !producerExited { condition.wait() }
        condition.unlock()
    }
}

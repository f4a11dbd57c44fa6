@testable import LoaFeed
import NIOEmbedded
import Testing

@Suite("The HTTP transport's callbacks")
struct FeedTransportTests {
    @Test("Once an attempt is over, a late delivery (a cancelled redirect) is refused and never reaches the fetcher")
    func noCallbackAfterClose() throws {
        let loop = EmbeddedEventLoop()
        let reached = Counter()
        let delegate = HTTPFeedTransport.BodyDelegate(url: "http://127.0.0.1/tin.wav", head: { _ in reached.add() },
                                                      chunk: { _ in reached.add() })
        try delegate.deliver(on: loop) { reached.add() }.wait()
        #expect(reached.value == 1)
        delegate.close()
        #expect(throws: FeedError.self) { try delegate.deliver(on: loop) { reached.add() }.wait() }
        #expect(reached.value == 1)
    }

    final class Counter: @unchecked Sendable {
        private(set) var value = 0
        func add() { value += 1 }
    }
}

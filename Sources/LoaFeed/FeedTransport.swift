import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The status line and headers of a response; header names lowercased.
public struct ResponseHead: Sendable, Hashable {
    public var status: Int
    public var headers: [String: String]

    public init(status: Int, headers: [String: String] = [:]) {
        self.status = status
        self.headers = headers
    }
}

/// How a feed reaches the commune: the I/O boundary of fetching, so the fetcher's decisions are tested
/// against a real server and nothing else.
public protocol FeedTransport: Sendable {
    /// GETs a small document (manifest, signature), refusing a body over `limit` bytes.
    func get(_ url: String, headers: [(String, String)], limit: Int) async throws(FeedError) -> (ResponseHead, Data)
    /// GETs `url` from byte `offset` (a `Range` request when above 0). `head` sees the response first and may
    /// throw to stop; each body chunk then goes to `chunk`, which may throw to stop reading (a server sending
    /// more than declared). Returns when the body ends; no callback runs after that. The callbacks may run on
    /// the transport's own thread, one at a time: they may wait briefly (the disk, the hashing catching up),
    /// which holds that thread's other connections meanwhile, and nothing longer.
    func stream(_ url: String, from offset: Int, head: @escaping @Sendable (ResponseHead) throws(FeedError) -> Void,
                chunk: @escaping @Sendable (UnsafeRawBufferPointer) throws(FeedError) -> Void) async throws(FeedError)
    /// Releases connections; called once when done.
    func shutdown() async
}

/// `FeedTransport` over AsyncHTTPClient: connect and read timeouts (a read timeout is the longest silence
/// allowed mid-body, so a slow link still finishes a large file), no total deadline.
public final class HTTPFeedTransport: FeedTransport {
    let client: HTTPClient

    public init(timeoutSeconds: Double) {
        var configuration = HTTPClient.Configuration()
        let timeout = TimeAmount.milliseconds(Int64(timeoutSeconds * 1000))
        configuration.timeout = .init(connect: timeout, read: timeout)
        configuration.redirectConfiguration = .follow(max: 3, allowCycles: false)
        configuration.decompression = .disabled
        // A refused connection fails now, not when the connect timeout runs out (AsyncHTTPClient retries it until
        // then by default, issue #743): the feed service has its own backoff, and doctor and fetch say it at once.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Closes the connection pool; call once when done.
    public func shutdown() async {
        try? await client.shutdown()
    }

    public func get(_ url: String, headers: [(String, String)], limit: Int) async throws(FeedError) -> (ResponseHead, Data) {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        do {
            let response = try await client.execute(request, deadline: .distantFuture)
            let head = Self.head(response)
            var body = try await response.body.collect(upTo: limit)
            return (head, Data(body.readBytes(length: body.readableBytes) ?? []))
        } catch let error as NIOTooManyBytesError {
            _ = error
            throw .http(url: url, message: "máy chủ gửi quá \(limit) byte")
        } catch {
            throw .http(url: url, message: Self.explain(error))
        }
    }

    /// The body is taken through a response delegate, on the event loop that reads the socket: each part goes
    /// straight to `chunk`, without the hop to a task per part that an async body sequence makes (on two cores
    /// that hop, not the socket, held the transfer back).
    public func stream(_ url: String, from offset: Int, head: @escaping @Sendable (ResponseHead) throws(FeedError) -> Void,
                       chunk: @escaping @Sendable (UnsafeRawBufferPointer) throws(FeedError) -> Void) async throws(FeedError) {
        do {
            var request = try HTTPClient.Request(url: url)
            if offset > 0 { request.headers.add(name: "Range", value: "bytes=\(offset)-") }
            let delegate = BodyDelegate(url: url, head: head, chunk: chunk)
            // AsyncHTTPClient may still deliver after the task has failed (a cancelled redirect): once this
            // returns, the caller's next attempt owns what the callbacks write to, so none may run any more.
            defer { delegate.close() }
            let task = client.execute(request: request, delegate: delegate)
            try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
        } catch let error as FeedError {
            throw error
        } catch {
            throw .http(url: url, message: Self.explain(error))
        }
    }

    /// Hands the response head and each body part to the fetcher's callbacks, one at a time; a callback that
    /// throws fails the request with its error, which stops reading. After ``close()`` (which waits for a
    /// callback in progress) every delivery is refused.
    final class BodyDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
        typealias Response = Void
        let url: String
        let head: @Sendable (ResponseHead) throws(FeedError) -> Void
        let chunk: @Sendable (UnsafeRawBufferPointer) throws(FeedError) -> Void
        private let lock = NSLock()
        private var open = true

        init(url: String, head: @escaping @Sendable (ResponseHead) throws(FeedError) -> Void,
             chunk: @escaping @Sendable (UnsafeRawBufferPointer) throws(FeedError) -> Void) {
            self.url = url
            self.head = head
            self.chunk = chunk
        }

        func close() { lock.withLock { open = false } }

        func deliver(on loop: any EventLoop, _ body: () throws(FeedError) -> Void) -> EventLoopFuture<Void> {
            lock.lock()
            defer { lock.unlock() }
            do throws(FeedError) {
                guard open else { throw .http(url: url, message: "lần tải này đã kết thúc") }
                try body()
                return loop.makeSucceededVoidFuture()
            } catch {
                return loop.makeFailedFuture(error)
            }
        }

        func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
            deliver(on: task.eventLoop) { () throws(FeedError) in
                try self.head(HTTPFeedTransport.head(status: head.status, headers: head.headers))
            }
        }

        func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
            deliver(on: task.eventLoop) { () throws(FeedError) in
                try buffer.withUnsafeReadableBytes { (bytes) throws(FeedError) in try chunk(bytes) }
            }
        }

        func didFinishRequest(task: HTTPClient.Task<Void>) throws {}
    }

    static func head(_ response: HTTPClientResponse) -> ResponseHead {
        head(status: response.status, headers: response.headers)
    }

    static func head(status: HTTPResponseStatus, headers: HTTPHeaders) -> ResponseHead {
        var lowercased: [String: String] = [:]
        for (name, value) in headers { lowercased[name.lowercased()] = value }
        return ResponseHead(status: Int(status.code), headers: lowercased)
    }

    static func explain(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .readTimeout: "máy chủ không gửi dữ liệu trong thời hạn (read timeout)"
        case let error as HTTPClientError where error == .connectTimeout: "không kết nối được trong thời hạn (connect timeout)"
        case let error as HTTPClientError where error == .remoteConnectionClosed: "máy chủ đóng kết nối giữa chừng"
        case let error as HTTPClientError where error == .deadlineExceeded: "quá thời hạn"
        case let error as IOError: errnoText(error.errnoCode)
        default: "lỗi kết nối: \(error)"
        }
    }

    /// A socket error in the officer's words; NIO's own text ("connection reset (error set): …") means little to them.
    static func errnoText(_ code: Int32) -> String {
        switch code {
        case ECONNREFUSED: "máy chủ từ chối kết nối (không có dịch vụ nào ở địa chỉ và cổng này)"
        case EHOSTUNREACH, ENETUNREACH: "không tới được máy chủ (mạng không thông)"
        case ECONNRESET: "máy chủ ngắt kết nối"
        default: "lỗi kết nối: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}

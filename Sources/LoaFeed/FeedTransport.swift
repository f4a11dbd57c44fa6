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
    /// more than declared). Returns when the body ends.
    func stream(_ url: String, from offset: Int, head: @Sendable (ResponseHead) throws(FeedError) -> Void,
                chunk: @Sendable (UnsafeRawBufferPointer) throws(FeedError) -> Void) async throws(FeedError)
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

    public func stream(_ url: String, from offset: Int, head: @Sendable (ResponseHead) throws(FeedError) -> Void,
                       chunk: @Sendable (UnsafeRawBufferPointer) throws(FeedError) -> Void) async throws(FeedError) {
        var request = HTTPClientRequest(url: url)
        if offset > 0 { request.headers.add(name: "Range", value: "bytes=\(offset)-") }
        do {
            let response = try await client.execute(request, deadline: .distantFuture)
            try head(Self.head(response))
            for try await buffer in response.body {
                try buffer.withUnsafeReadableBytes { (bytes) throws(FeedError) in try chunk(bytes) }
            }
        } catch let error as FeedError {
            throw error
        } catch {
            throw .http(url: url, message: Self.explain(error))
        }
    }

    static func head(_ response: HTTPClientResponse) -> ResponseHead {
        var headers: [String: String] = [:]
        for (name, value) in response.headers { headers[name.lowercased()] = value }
        return ResponseHead(status: Int(response.status.code), headers: headers)
    }

    static func explain(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .readTimeout: "máy chủ không gửi dữ liệu trong thời hạn (read timeout)"
        case let error as HTTPClientError where error == .connectTimeout: "không kết nối được trong thời hạn (connect timeout)"
        case let error as HTTPClientError where error == .remoteConnectionClosed: "máy chủ đóng kết nối giữa chừng"
        case let error as HTTPClientError where error == .deadlineExceeded: "quá thời hạn"
        default: "lỗi kết nối: \(error)"
        }
    }
}

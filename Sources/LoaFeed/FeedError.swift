import Foundation
import LoaCore

/// Everything that goes wrong publishing or fetching a feed, worded for the operator: each names the feed,
/// the URL or the file, and for an entry its id.
public enum FeedError: OperatorFacingError, Sendable, Equatable {
    /// A key file is missing, unreadable, not a key, or would be overwritten.
    case key(path: String, message: String)
    /// Reading or writing a local file or folder failed.
    case file(path: String, message: String)
    /// The manifest or its signature was refused as a whole; nothing of it is installed.
    case refused(feed: String, message: String)
    /// One entry was refused; the others of the same manifest go ahead.
    case entry(feed: String, entry: String, message: String)
    /// One entry was refused for its content (hash, size, not audio, a taken path): it is not downloaded again
    /// until the publisher's sequence changes.
    case rejected(feed: String, entry: String, message: String)
    /// The server answered with an error, or not in time.
    case http(url: String, message: String)

    public var description: String {
        switch self {
        case let .key(path, message): "\(path): \(message)"
        case let .file(path, message): "\(path): \(message)"
        case let .refused(feed, message): "feed “\(feed)”: \(message)"
        case let .entry(feed, entry, message), let .rejected(feed, entry, message): "feed “\(feed)”, bản tin “\(entry)”: \(message)"
        case let .http(url, message): "\(url): \(message)"
        }
    }

    /// `strerror` for the last failed call, for file errors.
    static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
}

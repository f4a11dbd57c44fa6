import Foundation
import LoaCore

/// What goes wrong between the daemon, its lock and its control socket, worded for the operator.
public enum DaemonError: OperatorFacingError, Sendable, Equatable {
    /// Another daemon holds the database's lock; `holder` is what it wrote there, when readable.
    case alreadyRunning(lockFile: String, holder: DaemonLock.Holder?)
    /// The lock file could not be created or locked for a reason other than another holder.
    case lockUnavailable(lockFile: String, reason: String)
    /// A Unix socket path must fit `sun_path` (107 bytes and a NUL on Linux).
    case socketPathTooLong(path: String, bytes: Int)
    /// A live server already answers on the control socket.
    case socketInUse(path: String)
    /// The control socket could not be created or listened on.
    case socketUnavailable(path: String, reason: String)
    /// Nothing answers on the control socket: no daemon is running (the CLI exits 3).
    case notRunning(socket: String, reason: String)
    /// A daemon was reached but did not answer, or answered something unreadable.
    case noAnswer(socket: String, reason: String)
    /// The kernel could not say how the host is (free space of `what`, the clock's synchronisation).
    case hostProbe(what: String, reason: String)

    public var description: String {
        switch self {
        case let .alreadyRunning(lockFile, holder):
            "một Loa daemon khác đang chạy với cơ sở dữ liệu này (\(holder.map { "\($0); " } ?? "")khóa \(lockFile))"
        case let .lockUnavailable(lockFile, reason): "\(lockFile): không khóa được: \(reason)"
        case let .socketPathTooLong(path, bytes):
            "đường dẫn socket điều khiển dài \(bytes) byte, quá giới hạn \(ControlSocketAddress.maxPathBytes) byte: \(path) (đặt control_socket ngắn hơn trong loa.toml)"
        case let .socketInUse(path):
            "\(path): một Loa daemon khác đang trả lời trên socket điều khiển này (đặt control_socket khác trong loa.toml)"
        case let .socketUnavailable(path, reason): "\(path): không mở được socket điều khiển: \(reason)"
        case let .notRunning(socket, reason): "không có Loa daemon đang chạy (không kết nối được \(socket): \(reason))"
        case let .noAnswer(socket, reason): "\(socket): Loa daemon không trả lời: \(reason)"
        case let .hostProbe(what, reason): "\(what): không đọc được từ hệ thống: \(reason)"
        }
    }

    /// An errno in words; the common ones in Vietnamese, the rest as the C library says them.
    static func words(errno code: Int32) -> String {
        switch code {
        case ENOENT: "không có tệp này"
        case ECONNREFUSED: "không có tiến trình nào nghe"
        case EACCES, EPERM: "không có quyền"
        case EAGAIN: "hết thời gian chờ"
        case ENOTDIR: "một phần của đường dẫn không phải thư mục"
        case EROFS: "hệ thống tệp chỉ đọc"
        default: String(cString: strerror(code))
        }
    }
}

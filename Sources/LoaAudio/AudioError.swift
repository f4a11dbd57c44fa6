import Foundation
import LoaCore

/// Everything that goes wrong between a file and the loudspeaker, worded for the operator.
public enum AudioError: OperatorFacingError, Sendable, Equatable {
    /// The PCM could not be opened or configured, or failed while playing.
    case device(name: String, code: Int32, message: String)
    /// libsndfile could not open or decode the file.
    case decode(path: String, message: String)
    /// The device stopped taking audio without an error (a stalled sound server, a hung driver).
    case stalled(name: String, seconds: Double)
    /// The sample-rate converter failed.
    case resample(path: String, message: String)
    /// libebur128 could not measure loudness.
    case loudness(source: String, message: String)
    /// The playout copy (the file converted to the output format at import) could not be written.
    case playoutCopy(path: String, message: String)
    /// The monitor line (the capture of the amplifier's output) could not be opened, or failed while capturing.
    case capture(name: String, code: Int32, message: String)
    /// The monitor line stopped delivering audio without an error (a frozen sound server, a hung driver).
    case captureStalled(name: String, seconds: Double)

    public var description: String {
        switch self {
        case let .device(name, code, message): "thiết bị âm thanh “\(name)”: \(AudioError.words(code: code, message: message)) (mã ALSA \(code))"
        case let .stalled(name, seconds): "thiết bị âm thanh “\(name)” không nhận âm thanh trong \(decimalText(seconds)) giây (treo)"
        case let .decode(path, message): "\(path): không giải mã được: \(message)"
        case let .resample(path, message): "\(path): lỗi chuyển tần số mẫu: \(message)"
        case let .loudness(source, message): "\(source): không đo được độ to: \(message)"
        case let .playoutCopy(path, message): "\(path): không ghi được bản phát (bản chuyển sẵn sang 48 kHz): \(message)"
        case let .capture(name, code, message):
            "đường kiểm tra phát sóng “\(name)” (thu ALSA): \(AudioError.words(code: code, message: message)) (mã ALSA \(code))"
        case let .captureStalled(name, seconds):
            "đường kiểm tra phát sóng “\(name)” không gửi âm thanh trong \(decimalText(seconds)) giây (treo)"
        }
    }
}

extension AudioError {
    /// ALSA's error codes an operator meets, in Vietnamese; nil for the others.
    public static func alsaWords(_ code: Int32) -> String? {
        switch -code {
        case ENOENT, ENODEV, ENXIO: "không có thiết bị này"
        case EACCES, EPERM: "không có quyền"
        case EBUSY: "thiết bị đang bận (một chương trình khác đang dùng nó)"
        case ECONNREFUSED: "máy chủ âm thanh không trả lời"
        case EINVAL: "thiết bị không nhận định dạng 48 kHz 16 bit"
        case EPIPE: "hết dữ liệu (underrun)"
        case ESTRPIPE: "thiết bị bị tạm dừng (máy ngủ)"
        case EIO: "lỗi vào/ra của card âm thanh"
        case EBADFD: "thiết bị chưa mở hoặc đã đóng"
        default: nil
        }
    }

    /// `message` (ALSA's English, or Loa's own words) said in Vietnamese where the code is one Loa knows; ALSA's
    /// own words are kept in brackets for the others, for a technician to look up.
    public static func words(code: Int32, message: String) -> String {
        if let known = alsaWords(code) { return known }
        return message.unicodeScalars.allSatisfy(\.isASCII) ? "lỗi ALSA (“\(message)”)" : message
    }
}

/// The one format every item is converted to before it reaches an output.
public struct AudioFormat: Sendable, Hashable {
    public var sampleRate: Int
    public var channels: Int

    public init(sampleRate: Int = 48000, channels: Int = 2) {
        self.sampleRate = sampleRate
        self.channels = channels
    }

    /// 48 kHz stereo: what every item is converted to.
    public static let broadcast = AudioFormat()
}

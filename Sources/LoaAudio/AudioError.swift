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
        case let .device(name, code, message): "thiết bị âm thanh “\(name)”: \(message) (mã ALSA \(code))"
        case let .stalled(name, seconds): "thiết bị âm thanh “\(name)” không nhận âm thanh trong \(decimalText(seconds)) giây (treo)"
        case let .decode(path, message): "\(path): không giải mã được: \(message)"
        case let .resample(path, message): "\(path): lỗi chuyển tần số mẫu: \(message)"
        case let .loudness(source, message): "\(source): không đo được độ to: \(message)"
        case let .playoutCopy(path, message): "\(path): không ghi được bản phát (bản chuyển sẵn sang 48 kHz): \(message)"
        case let .capture(name, code, message): "đường kiểm tra phát sóng “\(name)” (thu ALSA): \(message) (mã ALSA \(code))"
        case let .captureStalled(name, seconds):
            "đường kiểm tra phát sóng “\(name)” không gửi âm thanh trong \(decimalText(seconds)) giây (treo)"
        }
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

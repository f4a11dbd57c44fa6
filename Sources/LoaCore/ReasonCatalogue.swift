import Foundation

/// The one place where the sentence of each ``ReasonCode`` is written, in Vietnamese. A sentence is built from the
/// code, the row's detail (what only that row can say: a title, the device's words, a few numbers) and the row's own
/// figures (seconds aired, planned, lost, the policy). The log, `loa log`, `loa status`, reports and the daemon's
/// lines all take their words from here, so a sentence can be reworded without touching a row the chain signed.
public enum ReasonCatalogue {
    /// What a row says of itself that a sentence may name.
    public struct Figures: Sendable, Hashable {
        public var airedSeconds: Double
        public var plannedSeconds: Double
        public var lostSeconds: Double
        /// Where the stretch's audio began in the file.
        public var fromSeconds: Double
        public var policy: LatenessPolicy?
        public var xruns: Int
        /// The item as the plan named it (a segment id, or a path under `audio/`).
        public var segment: String?
        /// The file aired.
        public var path: String?

        public init(airedSeconds: Double = 0, plannedSeconds: Double = 0, lostSeconds: Double = 0, fromSeconds: Double = 0,
                    policy: LatenessPolicy? = nil, xruns: Int = 0, segment: String? = nil, path: String? = nil) {
            self.airedSeconds = airedSeconds
            self.plannedSeconds = plannedSeconds
            self.lostSeconds = lostSeconds
            self.fromSeconds = fromSeconds
            self.policy = policy
            self.xruns = xruns
            self.segment = segment
            self.path = path
        }

        /// The figures a row of the log carries.
        public init(_ record: AiringRecord) {
            self.init(airedSeconds: record.airedSeconds, plannedSeconds: record.plannedSeconds, lostSeconds: record.lostSeconds,
                      fromSeconds: record.fromSeconds, policy: record.policy, xruns: record.xruns, segment: record.segmentID,
                      path: record.path)
        }
    }

    /// The sentence for `reason`. The detail each code reads:
    /// - `preempted.*`: the title of what took the air;
    /// - `device.lost`, `device.stalled`, `file.unreadable`: the device's or the decoder's own words (already Vietnamese);
    /// - `file.short`, `file.empty`: the seconds the file held (``number(_:)``);
    /// - `dropped.would_not_fit`: the seconds needed and the seconds left (``wouldNotFit(neededSeconds:leftSeconds:)``);
    /// - `plan.too_long`: the item's seconds and those left of the slot; `plan.not_enough`: how many wanted and found;
    /// - `daemon.not_running`: the station's clock time when the daemon ran again;
    /// - the others none.
    public static func sentence(_ reason: Reason, _ figures: Figures = Figures()) -> String {
        let detail = reason.detail.flatMap { $0.isEmpty ? nil : $0 }
        let numbers = detail.map { $0.split(separator: " ").compactMap { Double($0) } } ?? []
        let quoted = { (text: String?) in text.map { "“\($0)”" } }
        switch reason.code {
        case .preemptedAnnouncement:
            return "nhường sóng cho " + (quoted(detail).map { "thông báo \($0)" } ?? "một thông báo")
        case .preemptedEmergency:
            return "nhường sóng cho " + (quoted(detail).map { "bản tin khẩn cấp \($0)" } ?? "một bản tin khẩn cấp")
        case .latePassed:
            return "đã qua giờ phát khi Loa vào được khung giờ" + policyNote(figures.policy)
        case .lateOnTheClock:
            return "đang đến giờ phát khi Loa vào được khung giờ, không vào giữa bản tin" + policyNote(figures.policy)
        case .latePolicySkip:
            return "khung giờ đã bắt đầu khi Loa vào được" + policyNote(.skip)
        case .lateJoined:
            let lost = figures.lostSeconds > 0 ? ", mất \(formatSeconds(figures.lostSeconds)) không phát được" : ""
            return "vào muộn\(lost)" + policyNote(figures.policy)
        case .resumed:
            let lost = figures.lostSeconds > 0 ? "; mất \(formatSeconds(figures.lostSeconds)) không phát được" : ""
            return "phát tiếp từ \(formatSeconds(figures.fromSeconds)) của bản tin sau khi bị ngắt\(lost)" + policyNote(figures.policy)
        case .cutHardEnd:
            return "cắt ở giờ kết thúc của khung giờ"
        case .droppedWouldNotFit:
            guard numbers.count == 2 else { return "không còn đủ thời gian trước giờ kết thúc khung giờ" }
            return "phát trọn muộn cần \(formatSeconds(numbers[0])), chỉ còn \(formatSeconds(max(0, numbers[1]))) trước giờ kết thúc (late = whole)"
        case .deviceLost:
            return detail ?? "mất thiết bị âm thanh"
        case .deviceStalled:
            return detail ?? "thiết bị âm thanh không nhận âm thanh (treo)"
        case .deviceDropout:
            let times = figures.xruns > 1 ? " \(figures.xruns) lần" : ""
            return "loa mất tiếng\(times) khi phát (thiết bị hết dữ liệu: máy quá bận hoặc máy chủ âm thanh chậm)"
        case .fileUnreadable:
            return detail ?? "không giải mã được tệp"
        case .fileShort:
            let held = numbers.first.map { "chỉ còn \(formatSeconds($0)) trong \(formatSeconds(figures.plannedSeconds))" }
                ?? "ngắn hơn \(formatSeconds(figures.plannedSeconds))"
            return pathPrefix(figures) + "tệp \(held) đã đo khi nhập (tệp bị cắt hoặc hỏng)"
        case .fileEmpty:
            return pathPrefix(figures) + "tệp gần như không có âm thanh\(numbers.first.map { " (\(secondsText($0)))" } ?? ""): nhập lại bản đầy đủ"
        case .stopped:
            return "Loa được yêu cầu dừng"
        case .stoppedBeforeStart:
            return "Loa dừng trước khi phát mục này"
        case .daemonDied:
            return "Loa dừng đột ngột khi đang phát (mất điện hoặc bị tắt)"
        case .daemonNotRunning:
            return "Loa không chạy khi đến giờ phát" + (detail.map { " (chạy lại lúc \($0))" } ?? "")
        case .relayConnecting:
            return "chưa nghe được nguồn tiếp sóng khi đến giờ (đang kết nối)"
        case .relayUnreachable:
            return "không kết nối được nguồn tiếp sóng" + (detail.map { ": \($0)" } ?? "")
        case .relayHTTP:
            return "máy chủ nguồn tiếp sóng trả lỗi HTTP" + (detail.map { " \($0)" } ?? "")
        case .relayNotAudio:
            return "nguồn tiếp sóng không gửi âm thanh đọc được" + (detail.map { " (\($0))" } ?? "")
        case .relayStalled:
            return "nguồn tiếp sóng ngừng gửi dữ liệu" + (numbers.first.map { " quá \(formatSeconds($0))" } ?? "")
        case .relayEnded:
            return "máy chủ nguồn tiếp sóng đóng luồng"
        case .relaySilent:
            return "nguồn tiếp sóng im lặng" + (numbers.first.map { " quá \(formatSeconds($0))" } ?? "")
        case .relayCapture:
            return "không mở được đường vào tiếp sóng" + (detail.map { ": \($0)" } ?? "")
        case .relayUnderrun:
            return "bộ đệm tiếp sóng cạn (nguồn hoặc mạng chậm hơn card âm thanh)"
        case .relayReturned:
            return "dừng phát dự phòng vì nguồn tiếp sóng đã có tiếng trở lại"
        case .relayUnknownSource:
            return "khung giờ tiếp sóng nguồn \(quoted(detail).map { "\($0) " } ?? "")không có trong loa.toml ([[source]])"
        case .planTooLong:
            let item = quoted(figures.segment) ?? "bản tin"
            guard numbers.count == 2 else { return "\(item) không vừa thời gian còn lại của khung giờ" }
            return "\(item) dài \(formatSeconds(numbers[0])), không vừa \(formatSeconds(numbers[1])) còn lại của khung giờ"
        case .planNotInLibrary:
            return "\(quoted(figures.segment) ?? "bản tin") không có trong thư viện (thêm bằng: loa segment add)"
        case .planNotEnough:
            guard numbers.count == 2 else { return "thư viện không đủ bản tin phù hợp" }
            return "cần \(Int(numbers[0])) bản tin nhưng thư viện chỉ có \(Int(numbers[1])) bản phù hợp"
        }
    }

    /// What the officer reads of a dropout as it happens: how long the loudspeaker was silent, in what, on which device,
    /// and why.
    public static func dropout(seconds: Double, title: String, device: String) -> String {
        let ms = Int((seconds * 1000).rounded())
        return "Loa mất tiếng \(ms > 0 ? "\(ms) ms" : "trong chốc lát") khi phát “\(title)”: thiết bị “\(device)” hết dữ liệu "
            + "(máy quá bận hoặc máy chủ âm thanh chậm); phần còn lại của mục này phát muộn ngần ấy"
    }

    /// The sentence of a row: from its code, or, for a row logged before codes, the sentence it was logged with.
    public static func sentence(of record: AiringRecord) -> String? {
        guard let code = record.reasonCode else { return record.reason }
        return sentence(Reason(code, record.reason), Figures(record))
    }

    /// `dropped.would_not_fit` with the seconds the rest needed and those left before the hard end.
    public static func wouldNotFit(neededSeconds: Double, leftSeconds: Double) -> Reason {
        Reason(.droppedWouldNotFit, number(neededSeconds) + " " + number(leftSeconds))
    }

    /// A number as a detail holds it: ASCII, three decimals, so that it reads back the same everywhere.
    public static func number(_ value: Double) -> String { RFC3339.threeDecimals(value) }

    /// ` (late = join: vào giữa theo giờ)`, or nothing without a policy.
    private static func policyNote(_ policy: LatenessPolicy?) -> String {
        policy.map { " (late = \($0.rawValue): \($0.label))" } ?? ""
    }

    private static func pathPrefix(_ figures: Figures) -> String {
        figures.path.map { "\($0): " } ?? ""
    }
}

extension AiringRecord {
    /// The sentence an officer reads for this row's reason (``ReasonCatalogue/sentence(of:)``).
    public var reasonText: String? { ReasonCatalogue.sentence(of: self) }
}

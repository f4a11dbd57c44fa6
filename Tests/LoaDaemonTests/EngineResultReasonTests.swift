import Foundation
@testable import LoaAudio
import LoaCore
@testable import LoaDaemon
import Testing

@Suite("The engine's results read back as reason codes, until the engine reports codes itself")
struct EngineResultReasonTests {
    @Test("Each sentence the engine words a result with gives its code, and the detail the catalogue's sentence needs")
    func engineSentencesToCodes() {
        let device = AudioError.device(name: "pulse", code: -2, message: "No such file or directory").description
        let stall = AudioError.stalled(name: "pulse", seconds: 1).description
        let decode = AudioError.decode(path: "a.mp3", message: "bad frame").description
        let cases: [(ItemResult, AiringOutcome, Reason?)] = [
            (.completed, .completed, nil),
            (.truncated(PlayoutEngine.cutAtHardEnd), .truncated, Reason(.cutHardEnd)),
            (.truncated("mất 4,0 giây không phát được (thiết bị âm thanh hoặc Loa vào muộn)"), .truncated, Reason(.lateJoined)),
            (.interrupted(PlayoutEngine.stopped), .interrupted, Reason(.stopped)),
            (.interrupted("nhường sóng cho thông báo “bao-bao”"), .interrupted, Reason(.preemptedAnnouncement, "bao-bao")),
            (.interrupted("nhường sóng cho bản tin khẩn cấp “Bão số 3”"), .interrupted, Reason(.preemptedEmergency, "Bão số 3")),
            (.interrupted(EntryDropReason.onTheClock(.next).description), .interrupted, Reason(.lateOnTheClock)),
            (.skipped(PlayoutEngine.stoppedBeforeStart), .skipped, Reason(.stoppedBeforeStart)),
            (.skipped(EntryDropReason.passed(.join).description), .skipped, Reason(.latePassed)),
            (.skipped(EntryDropReason.policySkip.description), .skipped, Reason(.latePolicySkip)),
            (.skipped(EntryDropReason.wouldNotFit(neededSeconds: 75, leftSeconds: 20).description), .skipped, Reason(.droppedWouldNotFit)),
            (.skipped("không còn đủ thời gian trước giờ kết thúc khung giờ"), .skipped, Reason(.droppedWouldNotFit)),
            (.failed(device), .failed, Reason(.deviceLost, device)),
            (.failed(stall), .failed, Reason(.deviceStalled, stall)),
            (.failed(decode), .failed, Reason(.fileUnreadable, decode)),
            (.failed("a.mp3: tệp chỉ còn 3,0 giây trong 6,0 giây đã đo khi nhập (tệp bị cắt hoặc hỏng)"), .failed, Reason(.fileShort, "3.000")),
            (.failed("a.mp3: tệp gần như không có âm thanh (0,05 giây): nhập lại bản đầy đủ"), .failed, Reason(.fileEmpty, "3.000")),
        ]
        for (result, outcome, reason) in cases {
            let logged = result.logged(policy: .join, airedSeconds: 3)
            #expect(logged.0 == outcome && logged.1 == reason, "\(result) → \(logged)")
        }
    }
}

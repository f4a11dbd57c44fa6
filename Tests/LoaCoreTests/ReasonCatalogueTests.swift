import Foundation
import LoaCore
import Testing

@Suite("Reason codes and their sentences")
struct ReasonCatalogueTests {
    @Test("The codes' texts are stable: the chain signs them, exports and tests compare them")
    func codesAreStable() {
        #expect(ReasonCode.allCases.map(\.rawValue) == [
            "preempted.announcement", "preempted.emergency", "late.passed", "late.on_the_clock", "late.policy_skip",
            "late.joined", "resumed", "cut.hard_end", "dropped.would_not_fit", "device.lost", "device.stalled",
            "device.dropout", "file.unreadable", "file.short", "file.empty", "stopped", "stopped.before_start",
            "daemon.died", "daemon.not_running", "relay.connecting", "relay.unreachable", "relay.http", "relay.not_audio",
            "relay.stalled", "relay.ended", "relay.silent", "relay.capture", "relay.underrun", "relay.returned",
            "relay.unknown_source", "plan.too_long", "plan.not_in_library", "plan.not_enough",
        ])
    }

    @Test("Every code has its own sentence, in Vietnamese, with or without a detail and figures")
    func everyCodeHasASentence() {
        let bare = ReasonCode.allCases.map { ReasonCatalogue.sentence(Reason($0)) }
        #expect(Set(bare).count == bare.count, "two codes share a sentence: \(bare)")
        let figures = ReasonCatalogue.Figures(airedSeconds: 3.5, plannedSeconds: 12, lostSeconds: 2, fromSeconds: 5.5,
                                              policy: .join, xruns: 2, segment: "tin-a", path: "asean/a.mp3")
        for (code, sentence) in zip(ReasonCode.allCases, bare) {
            #expect(sentence.unicodeScalars.contains { !$0.isASCII }, "\(code): \(sentence)")
            // A detail of numbers, as the codes that read numbers keep them (the others take it as words).
            let detailed = ReasonCatalogue.sentence(Reason(code, "1.000 2.000"), figures)
            #expect(!detailed.isEmpty && !detailed.contains("Optional"), "\(code): \(detailed)")
        }
    }

    @Test("The sentences moved here read as they did where they were written before")
    func movedSentencesUnchanged() {
        #expect(DropReason.doesNotFit(segmentID: "tin-a", durationSeconds: 90, remainingSeconds: 30).description
                == "“tin-a” dài 1:30, không vừa 30,0 giây còn lại của khung giờ")
        #expect(DropReason.notInLibrary(reference: "asean/x.mp3").description
                == "“asean/x.mp3” không có trong thư viện (thêm bằng: loa segment add)")
        #expect(DropReason.notEnoughSegments(wanted: 3, found: 1).description == "cần 3 bản tin nhưng thư viện chỉ có 1 bản phù hợp")
        #expect(ReasonCatalogue.sentence(Reason(.latePassed), ReasonCatalogue.Figures(policy: .join))
                == "đã qua giờ phát khi Loa vào được khung giờ (late = join: vào giữa theo giờ)")
        #expect(ReasonCatalogue.sentence(Reason(.lateOnTheClock), ReasonCatalogue.Figures(policy: .next))
                == "đang đến giờ phát khi Loa vào được khung giờ, không vào giữa bản tin (late = next: vào từ mục kế tiếp)")
        #expect(ReasonCatalogue.sentence(Reason(.latePolicySkip)) == "khung giờ đã bắt đầu khi Loa vào được (late = skip: bỏ phần còn lại)")
        #expect(ReasonCatalogue.sentence(ReasonCatalogue.wouldNotFit(neededSeconds: 75, leftSeconds: 20))
                == "phát trọn muộn cần 1:15, chỉ còn 20,0 giây trước giờ kết thúc (late = whole)")
        #expect(ReasonCatalogue.sentence(Reason(.preemptedAnnouncement, "bao-bao")) == "nhường sóng cho thông báo “bao-bao”")
        #expect(ReasonCatalogue.sentence(Reason(.preemptedEmergency, "Bão số 3")) == "nhường sóng cho bản tin khẩn cấp “Bão số 3”")
        #expect(ReasonCatalogue.sentence(Reason(.daemonDied)) == "Loa dừng đột ngột khi đang phát (mất điện hoặc bị tắt)")
        #expect(ReasonCatalogue.sentence(Reason(.cutHardEnd)) == "cắt ở giờ kết thúc của khung giờ")
        #expect(ReasonCatalogue.sentence(Reason(.fileShort, "3.000"), ReasonCatalogue.Figures(plannedSeconds: 6, path: "a.mp3"))
                == "a.mp3: tệp chỉ còn 3,0 giây trong 6,0 giây đã đo khi nhập (tệp bị cắt hoặc hỏng)")
    }

    @Test("A row reads its sentence from its code, its detail and its own figures; a row logged before codes reads what it was logged with")
    func rowSentence() {
        let t = Date(timeIntervalSince1970: 1_794_478_500)
        var row = AiringRecord(slot: "s", slotStartsAt: t, segmentID: "a", title: "A", path: "a.mp3", scheduledAt: t,
                               plannedSeconds: 12, airedSeconds: 8, outcome: .truncated, policy: .join, lostSeconds: 4)
        row.codedReason = Reason(.lateJoined)
        #expect(row.reason == nil && row.reasonCode == .lateJoined)
        #expect(row.reasonText == "vào muộn, mất 4,0 giây không phát được (late = join: vào giữa theo giờ)")
        row.reasonCode = nil
        row.reason = "mất 4,0 giây không phát được (thiết bị âm thanh hoặc Loa vào muộn)"
        #expect(row.reasonText == row.reason && row.codedReason == nil)
    }

    @Test("A stretch copies what was planned of its item, names the row it continues, and starts as planned")
    func stretchCopiesThePlan() {
        let t = Date(timeIntervalSince1970: 1_794_478_500)
        let cut = AiringRecord(id: 41, slot: "s", slotStartsAt: t, segmentID: "a", title: "A", pillar: .kinhTe, campaign: "C",
                               path: "a.mp3", sha256: "ab", category: "Thời sự", feed: "huyen", scheduledAt: t.addingTimeInterval(5),
                               plannedSeconds: 12, startedAt: t, endedAt: t, airedSeconds: 3.5, outcome: .interrupted,
                               reason: "bao", reasonCode: .preemptedAnnouncement, device: "pulse", kind: .segment, policy: .join,
                               lostSeconds: 1, xruns: 2, station: "Xã", priority: .priority, confirmed: .heard, monitorDBFS: -20)
        let next = cut.stretch(fromSeconds: 5.5)
        #expect(next == AiringRecord(slot: "s", slotStartsAt: t, segmentID: "a", title: "A", pillar: .kinhTe, campaign: "C",
                                     path: "a.mp3", sha256: "ab", category: "Thời sự", feed: "huyen",
                                     scheduledAt: t.addingTimeInterval(5), plannedSeconds: 12, outcome: .planned, device: "pulse",
                                     kind: .segment, station: "Xã", priority: .priority, continues: 41, fromSeconds: 5.5))
    }
}

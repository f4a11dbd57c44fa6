import Foundation
import LoaCore
import Testing

@Suite("RelaySwitch: upstream or fallback, decided from what the relay sees")
struct RelaySwitchTests {
    let tuning: RelayTuning = {
        var tuning = RelayTuning()
        tuning.bufferSeconds = 3
        tuning.silenceSeconds = 10
        tuning.returnSeconds = 3
        return tuning
    }()

    @Test("a relay heard at its second airs the upstream; one still connecting airs the fallback at once, saying why")
    func firstDecision() {
        var ready = RelaySwitch(tuning: tuning)
        #expect(ready.decide(UpstreamObservation(connected: true, bufferedSeconds: 3)).decision == .relay)
        var connecting = RelaySwitch(tuning: tuning)
        #expect(connecting.decide(UpstreamObservation(connected: false, bufferedSeconds: 0)).decision == .fallback(Reason(.relayConnecting)))
        var refused = RelaySwitch(tuning: tuning)
        let fault = Reason(.relayHTTP, "404")
        #expect(refused.decide(UpstreamObservation(connected: false, bufferedSeconds: 0, fault: fault)).decision == .fallback(fault))
        // Connected but with less than a second buffered: not yet.
        var thin = RelaySwitch(tuning: tuning)
        #expect(thin.decide(UpstreamObservation(connected: true, bufferedSeconds: 0.5)) == (.fallback(Reason(.relayConnecting)), true))
    }

    @Test("a buffer run dry leaves the upstream at once, with the connection's fault or as an underrun")
    func dryBuffer() {
        var relay = RelaySwitch(tuning: tuning)
        _ = relay.decide(UpstreamObservation(connected: true, bufferedSeconds: 3))
        #expect(relay.decide(UpstreamObservation(connected: true, bufferedSeconds: 2.9)) == (.relay, false))
        #expect(relay.decide(UpstreamObservation(connected: true, bufferedSeconds: 0)) == (.fallback(Reason(.relayUnderrun)), true))
        var lost = RelaySwitch(tuning: tuning)
        _ = lost.decide(UpstreamObservation(connected: true, bufferedSeconds: 3))
        let stalled = Reason(.relayStalled, "4.000")
        #expect(lost.decide(UpstreamObservation(connected: false, bufferedSeconds: 0, fault: stalled)).decision == .fallback(stalled))
    }

    @Test("an upstream silent for its bound is left; one with sound returns only after its return seconds")
    func silenceAndReturn() {
        var relay = RelaySwitch(tuning: tuning)
        _ = relay.decide(UpstreamObservation(connected: true, bufferedSeconds: 3))
        #expect(relay.decide(UpstreamObservation(connected: true, bufferedSeconds: 3, silentSeconds: 9.9)).decision == .relay)
        #expect(relay.decide(UpstreamObservation(connected: true, bufferedSeconds: 3, silentSeconds: 10)).decision
            == .fallback(Reason(.relaySilent, "10.000")))
        // Sound again, but not yet for three seconds: the fallback stays.
        #expect(relay.decide(UpstreamObservation(connected: true, bufferedSeconds: 3, soundSeconds: 2.9)) == (.fallback(Reason(.relaySilent, "10.000")), false))
        #expect(relay.decide(UpstreamObservation(connected: true, bufferedSeconds: 3, soundSeconds: 3)) == (.relay, true))
    }

    @Test("an upstream that was only still connecting airs as soon as it is ready; one that was lost must prove itself")
    func connectingAirsWhenReady() {
        var late = RelaySwitch(tuning: tuning)
        _ = late.decide(UpstreamObservation(connected: false, bufferedSeconds: 0))
        #expect(late.decide(UpstreamObservation(connected: true, bufferedSeconds: 1, soundSeconds: 1)) == (.relay, true))
        var lost = RelaySwitch(tuning: tuning)
        _ = lost.decide(UpstreamObservation(connected: false, bufferedSeconds: 0, fault: Reason(.relayEnded)))
        #expect(lost.decide(UpstreamObservation(connected: true, bufferedSeconds: 1, soundSeconds: 1)).decision == .fallback(Reason(.relayEnded)))
    }

    @Test("a later fault replaces the reason the fallback airs for")
    func laterFault() {
        var relay = RelaySwitch(tuning: tuning)
        _ = relay.decide(UpstreamObservation(connected: false, bufferedSeconds: 0))
        let http = Reason(.relayHTTP, "403")
        #expect(relay.decide(UpstreamObservation(connected: false, bufferedSeconds: 0, fault: http)) == (.fallback(http), false))
    }
}

@Suite("DriftController: an upstream's clock followed by the resampler's ratio")
struct DriftControllerTests {
    /// A buffer fed `rate` times faster than it is drained, for `hours`, stepped every 0.1 s as the receiving thread does.
    func simulate(rate: Double, hours: Double, from start: Double = 3, correcting: Bool = true)
        -> (low: Double, high: Double, final: Double, correction: Double) {
        var controller = DriftController(targetSeconds: 3)
        if !correcting { controller.maximumCorrection = 0 }
        var buffered = start, low = start, high = start
        let step = 0.1
        for _ in 0..<Int(hours * 3600 / step) {
            let correction = controller.step(bufferedSeconds: buffered, elapsedSeconds: step)
            // The upstream delivers `rate` seconds of its audio per second; the resampler turns (1 + correction) of it
            // into one second of output; the card drains one second per second.
            buffered += step * rate / (1 + correction) - step
            low = min(low, buffered)
            high = max(high, buffered)
        }
        return (low, high, buffered, controller.correction)
    }

    @Test("a source 0.5 % fast is held within 0.15 s of its target for hours, the ratio settling on it; 2 % within half a second")
    func fastSource() {
        let run = simulate(rate: 1.005, hours: 3)
        #expect(run.high - 3 < 0.15)
        #expect(run.low > 2.85)
        #expect(abs(run.final - 3) < 0.01)
        #expect(abs(run.correction - 0.005) < 0.0002)
        let far = simulate(rate: 1.02, hours: 1)
        #expect(far.high - 3 < 0.5)
    }

    @Test("a source 0.5 % slow is held too; without the controller it would drain in ten minutes")
    func slowSource() {
        let run = simulate(rate: 0.995, hours: 3)
        #expect(run.low > 2.85)
        #expect(abs(run.correction + 0.005) < 0.0002)
        // What the controller prevents: uncorrected, the 3 s buffer is dry within ten minutes.
        #expect(simulate(rate: 0.995, hours: 600.0 / 3600, correcting: false).low <= 0.01)
    }

    @Test("a buffer a second above its target at the start comes down to it without overshooting (no wind-up under the clamp)")
    func startOffTarget() {
        let run = simulate(rate: 1.005, hours: 1, from: 4)
        // Measured through ALSA before the integral was held under the clamp: 2 % for a minute, then 0.3 s under.
        #expect(run.low > 2.85, "\(run)")
        #expect(abs(run.final - 3) < 0.02 && abs(run.correction - 0.005) < 0.0002, "\(run)")
    }

    @Test("the correction moves slowly (inaudibly) and never past its clamp")
    func slewAndClamp() {
        var controller = DriftController(targetSeconds: 3)
        var previous = 0.0
        for _ in 0..<10_000 {
            let now = controller.step(bufferedSeconds: 60, elapsedSeconds: 0.1)
            #expect(abs(now - previous) <= 0.001 * 0.1 + 1e-12)
            previous = now
        }
        #expect(abs(previous - 0.02) < 1e-9)
    }

    @Test("reconnecting waits double each failure up to the source's maximum")
    func backoff() {
        let tuning = RelayTuning()
        #expect((1...6).map { reconnectDelay(afterFailures: $0, tuning: tuning) } == [2, 4, 8, 15, 15, 15])
    }
}

@Suite("RelayRows: the figures a relay's rows carry")
struct RelayRowsTests {
    let whole = RowClosing(outcome: .completed, reason: nil, airedSeconds: 600, lostSeconds: 0, policy: nil, wasOnAir: true)

    @Test("a relay heard throughout is completed with its seconds; one with fallbacks is truncated with the first fallback's reason")
    func relayRow() {
        let heard = RelayRows.closing(whole, relayedSeconds: 599.7, firstFallback: nil)
        #expect(heard.outcome == .completed && heard.airedSeconds == 599.7)
        let stalled = Reason(.relayStalled, "4.000")
        let partly = RelayRows.closing(whole, relayedSeconds: 420, firstFallback: stalled)
        #expect(partly.outcome == .truncated && partly.reason == stalled && partly.airedSeconds == 420 && partly.lostSeconds == 180)
        let never = RelayRows.closing(whole, relayedSeconds: 0, firstFallback: Reason(.relayUnreachable))
        #expect(never.outcome == .failed && never.reason?.code == .relayUnreachable)
        // A stop or a preemption keeps its own outcome and reason; the seconds are still the upstream's.
        let stopped = RowClosing(outcome: .interrupted, reason: Reason(.stopped), airedSeconds: 100, lostSeconds: 0, policy: nil, wasOnAir: true)
        let closed = RelayRows.closing(stopped, relayedSeconds: 40, firstFallback: stalled)
        #expect(closed.outcome == .interrupted && closed.reason == Reason(.stopped) && closed.airedSeconds == 40)
    }

    @Test("a fallback row says why it aired, and how it stopped")
    func fallbackRow() {
        let loss = Reason(.relaySilent, "10.000")
        #expect(RelayRows.fallbackClosing(heardSeconds: 30, plannedSeconds: 30, returned: false, failed: nil, lossReason: loss)
            .outcome == .completed)
        let back = RelayRows.fallbackClosing(heardSeconds: 12, plannedSeconds: 30, returned: true, failed: nil, lossReason: loss)
        #expect(back.outcome == .truncated && back.reason?.code == .relayReturned && back.lostSeconds == 18)
        let end = RelayRows.fallbackClosing(heardSeconds: 12, plannedSeconds: 30, returned: false, failed: nil, lossReason: loss)
        #expect(end.outcome == .truncated && end.reason == loss)
    }
}

import Foundation
import Testing

@Suite("Test harness: PulseAudio null sink", .serialized)
struct SoundServerTests {
    @Test("The private sound server starts, answers, and stops")
    func startsAndStops() async throws {
        let server = try SoundServer()
        let info = try await Harness.run("/usr/bin/pactl", ["-s", server.socket, "list", "short", "sinks"])
        #expect(info.out.contains(server.sink))
        server.stop()
    }
}

import Foundation
import LoaAudio

/// `loa-bench source-join FILE SECONDS seek|skip`: opens FILE as a ``FileSource`` entered SECONDS in, by seeking or by
/// decoding and dropping, and prints `source_join OPEN_MS FIRST_FRAME_MS`: the milliseconds the open took on the
/// caller's thread, and from the start of the open until the first frame was read (read every 0.2 ms meanwhile, as an
/// output thread would between writes).
///
/// `loa-bench source-decode FILE [direct]`: decodes FILE whole to 48 kHz stereo and prints `source_decode FRAMES`;
/// through a ``FileSource`` read 4096 frames at a time by this thread (which sleeps 1 ms whenever the decoder is
/// behind), or with `direct` through the plain ``SndFileDecoder`` on this thread, for the cost of the ring and thread.
func runSourceBench(_ arguments: [String]) -> Int32 {
    let clock = ContinuousClock()
    func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15
    }
    var buffer = [Float](repeating: 0, count: 4096 * 2)
    do {
        switch (arguments.count, arguments.first) {
        case (4, "source-join"):
            guard let seconds = Double(arguments[2]), ["seek", "skip"].contains(arguments[3]) else { break }
            let start = clock.now
            let source = try FileSource(path: arguments[1], startFrame: Int(seconds * 48000), seeking: arguments[3] == "seek")
            let opened = clock.now
            defer { source.close() }
            while true {
                let result = buffer.withUnsafeMutableBufferPointer { out in
                    out.baseAddress.map { source.read(into: $0, frames: 4096) } ?? .ended
                }
                switch result {
                case .frames:
                    print("source_join \(milliseconds(opened - start)) \(milliseconds(clock.now - start))")
                    return 0
                case .underflow: Thread.sleep(forTimeInterval: 0.0002)
                case .ended, .failed:
                    FileHandle.standardError.write(Data("loa-bench: \(arguments[1]) ended before its entry: \(result)\n".utf8))
                    return 1
                }
            }
        case (2, "source-decode"):
            let source = try FileSource(path: arguments[1])
            defer { source.close() }
            var frames = 0
            while true {
                let result = buffer.withUnsafeMutableBufferPointer { out in
                    out.baseAddress.map { source.read(into: $0, frames: 4096) } ?? .ended
                }
                switch result {
                case let .frames(n): frames += n
                case .underflow: Thread.sleep(forTimeInterval: 0.001)
                case .ended:
                    print("source_decode \(frames)")
                    return 0
                case let .failed(error): throw error
                }
            }
        case (3, "source-decode") where arguments[2] == "direct":
            let decoder = try SndFileDecoder(path: arguments[1])
            var frames = 0
            while case let n = try buffer.withUnsafeMutableBufferPointer({ (out) throws(AudioError) -> Int in
                guard let base = out.baseAddress else { return 0 }
                return try decoder.read(into: base, frames: 4096)
            }), n > 0 { frames += n }
            print("source_decode \(frames)")
            return 0
        default: break
        }
    } catch {
        FileHandle.standardError.write(Data("loa-bench: \(error)\n".utf8))
        return 1
    }
    FileHandle.standardError.write(Data("usage: loa-bench source-join FILE SECONDS seek|skip | source-decode FILE [direct]\n".utf8))
    return 1
}

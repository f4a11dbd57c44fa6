import CSndFile
import Foundation

/// A file's audio as it is stored: interleaved Float32 frames at the file's own rate and channels, read front to back.
///
/// libsndfile reads what it knows (``SoundFile``: WAV, MP3, FLAC, Ogg Vorbis and Opus), FFmpeg's libraries what it
/// refuses (``FFmpegFile``: M4A/AAC, raw AAC, WebM, AMR, WMA, what phones record and messaging apps send);
/// ``openAudioFile(_:)`` picks by the file's content. ``SndFileDecoder`` converts either to the output format, and its
/// probe measures and copies either, so every format is imported, measured, copied and aired the same way.
protocol AudioFileReader: AnyObject {
    /// What the header says: rate, channels, the format's name, and the frames it announces (0 when it does not say).
    var info: MediaInfo { get }
    /// Reads up to `frames` frames into `buffer` (room for `frames × info.channels` floats) and returns how many;
    /// 0 at the end of the file and once ``failure`` is set. The frames decoded before a fault are returned first.
    func read(into buffer: UnsafeMutablePointer<Float>, frames: Int) -> Int
    /// Why the reading ended before the file's end, once it has: the operator's words, naming the file.
    var failure: AudioError? { get }
    /// Moves so that the next read returns frame `frame` (at the file's rate) and returns true; false when the file
    /// cannot be sought there, the reader then being back at its first frame, or not moved before any read.
    func seek(toFrame frame: Int) -> Bool
    /// The frames the file's header vouches for, to tell a file cut short from a whole one after a full decode; 0 when
    /// the header gives no length worth trusting (an MP3 without a frame count, a length guessed from the bit rate).
    var declaredFrames: Int { get }
}

/// Opens `path` for reading by its content: with libsndfile when it reads it, so WAV, MP3, FLAC and Ogg decode as they
/// always have; otherwise with FFmpeg's libraries. A missing, unreadable or empty file, or a folder, is refused
/// before either library is asked, in words that say which.
func openAudioFile(_ path: String) throws(AudioError) -> any AudioFileReader {
    if let file = SoundFile(path: path) {
        guard file.info.channels > 0, file.info.sampleRate > 0 else { throw .decode(path: path, message: "tệp không có kênh âm thanh") }
        return file
    }
    let sndfileWords = String(cString: sf_strerror(nil))
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw .decode(path: path, message: "không có tệp này")
    }
    if isDirectory.boolValue { throw .decode(path: path, message: "đây là thư mục, không phải tệp âm thanh") }
    guard FileManager.default.isReadableFile(atPath: path) else { throw .decode(path: path, message: "không có quyền đọc") }
    let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
    if bytes == 0 { throw .decode(path: path, message: "tệp rỗng (0 byte): chép lại tệp âm thanh") }
    // libsndfile's answer to any format it does not know blames a pipe: it would only mislead, so only FFmpeg's is kept.
    return try FFmpegFile(path: path, sndfileWords: sndfileWords.contains("possibly a pipe") ? nil : sndfileWords)
}

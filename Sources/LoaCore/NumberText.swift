import Foundation

/// One decimal, a decimal comma and a true minus sign, as Vietnamese prints numbers: `−23,1`;
/// `signed` adds `+` to positive values (gains).
public func decimalText(_ value: Double, signed: Bool = false) -> String {
    let rounded = (value * 10).rounded() / 10
    let digits = String(format: "%.1f", abs(rounded)).replacingOccurrences(of: ".", with: ",")
    if rounded < 0 { return "−" + digits }
    return signed && rounded > 0 ? "+" + digits : digits
}

/// `0,05 giây`: seconds to the hundredth, for lengths under a second where a tenth would read 0,1 for 0,05.
public func secondsText(_ seconds: Double) -> String {
    String(format: "%.2f", seconds).replacingOccurrences(of: ".", with: ",") + " giây"
}

/// `1,5 MB`, `320 kB`, `12 byte`.
public func byteText(_ bytes: Int) -> String {
    if bytes >= 1_000_000 { return decimalText(Double(bytes) / 1e6) + " MB" }
    if bytes >= 1000 { return "\(bytes / 1000) kB" }
    return "\(bytes) byte"
}

/// Bytes as lowercase hexadecimal (digests, as `sha256sum` prints them).
public func hexText<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.underestimatedCount * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}

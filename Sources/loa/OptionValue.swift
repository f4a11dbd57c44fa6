import ArgumentParser

/// Numbers given on the command line, checked while it is parsed: a value out of range is refused as one that is
/// not a number is, saying what is expected (`--year: giá trị “-5” không hợp lệ (một năm như 2026)`), before
/// anything is read or written. Used as an option's `transform`.
enum OptionValue {
    static func year(_ text: String) throws -> Int {
        guard let year = Int(text), (1900...9999).contains(year) else { throw ValidationError("một năm như 2026") }
        return year
    }

    /// A count: 1, 2, 3…
    static func count(_ text: String) throws -> Int {
        guard let count = Int(text), count >= 1 else { throw ValidationError("một số nguyên từ 1 trở lên") }
        return count
    }

    /// A number of days, fractions allowed: more than 0, and at most ten years (a manifest's `expires` must stay a
    /// date every commune can read; a feed is republished long before).
    static func days(_ text: String) throws -> Double {
        guard let days = Double(text), days.isFinite, days > 0, days <= 3660 else {
            throw ValidationError("một số ngày lớn hơn 0 và không quá 3660, ví dụ 7")
        }
        return days
    }
}

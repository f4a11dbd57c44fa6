/// What to say about a key that a table of a file does not know: which key was probably meant, and the keys it may
/// hold. Shared by `loa.toml`, schedule files and segment sidecars.
enum UnknownKey {
    /// `khóa không hợp lệ “taget_lufs” trong [loudness]: có phải “target_lufs”? (các khóa hợp lệ: target_lufs)`.
    /// `table` is the table as written (`[loudness]`, `[[feed]]`), nil for the top of the file; `listed` is what
    /// the list shows when it is not `known` as it is (tables among the keys).
    static func message(_ key: String, in table: String?, known: [String], listed: [String]? = nil) -> String {
        let place = table.map { " trong \($0)" } ?? ""
        let guess = closest(to: key, among: known).map { ": có phải “\($0)”?" } ?? ""
        return "khóa không hợp lệ “\(key)”\(place)\(guess) (các khóa hợp lệ: \((listed ?? known).joined(separator: ", ")))"
    }

    /// The known name closest to `name`, when it is close enough to be a slip of the hand: one edit (a letter
    /// missing, added, changed or two swapped) for names of up to four letters, two for longer ones. Case is ignored.
    static func closest(to name: String, among known: [String]) -> String? {
        let limit = name.count <= 4 ? 1 : 2
        let typed = Array(name.lowercased())
        var best: (name: String, distance: Int)? = nil
        for candidate in known {
            let distance = editDistance(typed, Array(candidate.lowercased()))
            if distance <= limit, distance < best?.distance ?? Int.max { best = (candidate, distance) }
        }
        return best?.name
    }

    /// Edits (insertions, deletions, substitutions, swaps of neighbours) from `a` to `b`: optimal string alignment.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var before = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], before[j - 2] + 1)
                }
            }
            (before, previous, current) = (previous, current, before)
        }
        return previous[b.count]
    }
}

/// How healthy one part of the station is: `ok`, `warning` (works, but look at it), or `fail` (it will not air,
/// or not as it should). Ordered from best to worst, so the worst of several is their `max()`.
public enum HealthVerdict: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
    case ok, warning, fail

    /// The mark a verdict line starts with: `✓`, `!` or `✗`.
    public var symbol: String {
        switch self {
        case .ok: "✓"
        case .warning: "!"
        case .fail: "✗"
        }
    }

    public static func < (a: HealthVerdict, b: HealthVerdict) -> Bool {
        allCases.firstIndex(of: a) ?? 0 < allCases.firstIndex(of: b) ?? 0
    }
}

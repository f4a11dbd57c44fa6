/// An error whose description is one line an operator can act on. Each module has one such type;
/// the CLI prints any of them as `loa: <description>` and exits 1.
public protocol OperatorFacingError: Error, CustomStringConvertible {}

/// A problem found in a file, pointing at the line to fix.
public struct Diagnostic: OperatorFacingError, Sendable, Hashable {
    public let location: SourceLocation
    public let message: String
    /// For a problem that stands for several (a slot's overlaps): what it is about and how many it counts.
    public let tally: Tally?

    /// What a problem that stands for several is about (`subject`, free of line numbers) and how many it counts: an
    /// edit that leaves as many or fewer has added nothing there, though the words (the neighbours named) change.
    public struct Tally: Sendable, Hashable {
        public let subject: String
        public let count: Int

        public init(subject: String, count: Int) {
            self.subject = subject
            self.count = count
        }
    }

    public init(_ location: SourceLocation, _ message: String, tally: Tally? = nil) {
        self.location = location
        self.message = message
        self.tally = tally
    }

    /// `file:line: message`, the way compilers and editors expect it.
    public var description: String { "\(location): \(message)" }
}

/// An error whose description is one line an operator can act on. Each module has one such type;
/// the CLI prints any of them as `loa: <description>` and exits 1.
public protocol OperatorFacingError: Error, CustomStringConvertible {}

/// A problem found in a file, pointing at the line to fix.
public struct Diagnostic: OperatorFacingError, Sendable, Hashable {
    public let location: SourceLocation
    public let message: String

    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    /// `file:line: message`, the way compilers and editors expect it.
    public var description: String { "\(location): \(message)" }
}

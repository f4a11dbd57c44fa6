/// A problem found in a file, pointing at the line to fix.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public let location: SourceLocation
    public let message: String

    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    /// `file:line: message`, the way compilers and editors expect it.
    public var description: String { "\(location): \(message)" }
}

/// A problem the review core reports to its front end: a sentence the user can act on. The shell
/// prints it as an error (as it does its own validation errors), the service returns it in the
/// body of a 4xx response.
public struct ReviewError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

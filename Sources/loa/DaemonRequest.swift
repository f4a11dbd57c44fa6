import ArgumentParser
import Foundation
import LoaConfig
import LoaDaemon

/// Sends one request to the running daemon through its control socket. When no daemon answers, says so in
/// one line and exits 3, the status `loa status` also uses for "not running".
func askDaemon(_ request: ControlRequest, config: StationConfig, timeout: Double = 10) throws -> ControlResponse {
    do {
        return try ControlClient.send(request, socketPath: config.controlSocket.path, timeout: timeout)
    } catch {
        guard error.isNotRunning else { throw error }
        FileHandle.standardError.write(Data("loa: \(error)\n".utf8))
        throw ExitCode(3)
    }
}

extension DaemonError {
    var isNotRunning: Bool {
        if case .notRunning = self { return true }
        return false
    }
}

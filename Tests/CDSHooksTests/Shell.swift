import Foundation
import JWTKit
import Patients
import TestSupport

/// The real `rounds` executable on a store the service wrote.
enum Shell {
    static let executable: URL = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return [here.appendingPathComponent("rounds"), here.deletingLastPathComponent().appendingPathComponent("rounds"),
                TestSupport.repoRoot.appendingPathComponent(".build/debug/rounds")].first { FileManager.default.isExecutableFile(atPath: $0.path) }
            ?? here.appendingPathComponent("rounds")
    }()

    static func run(_ args: [String], db: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["ROUNDS_DB"] = db; env["ROUNDS_KNOWLEDGE"] = TestSupport.knowledgeDirectory.path; env["ROUNDS_NO_DEMO"] = "1"; env["NO_COLOR"] = "1"; env["COLUMNS"] = "250"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

/// A key the service does not trust.
enum JWTKeyCollectionFactory {
    static func stranger() async -> JWTKeyCollection {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: ES384PrivateKey(), kid: "ehr-test-1")
        return keys
    }
}

extension KnowledgePack {
    func overrideReasonsForTests() throws -> OverrideReasons { try OverrideReasons.load(from: directory) }
}

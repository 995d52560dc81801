import Foundation
import GRDB
import Patients

/// A model version kept in the store: a candidate learned from decisions, with its lineage.
public struct ModelVersion: Sendable, Codable {
    public var version: Int
    public var sha256: String
    public var parentSha256: String
    public var createdAt: String
    /// JSON: the decisions used, the settings, the evaluation.
    public var lineage: String
    public var active: Bool
}

extension RoundsStore {
    /// Saves a model file as a new (inactive) version, with an audit entry, in one transaction.
    @discardableResult
    public func saveModelVersion(file: Data, parentSha256: String, lineage: String, audit: AuditEntry) throws -> ModelVersion {
        try writeImmediate { db in
            let sha = Digest.sha256(file)
            let now = ClinicalCalendar.instantString(Date(), milliseconds: true)
            try db.execute(sql: "INSERT INTO model_version (sha256, parent_sha256, created_at, lineage, file) VALUES (?, ?, ?, ?, ?)",
                           arguments: [sha, parentSha256, now, lineage, file])
            let version = Int(db.lastInsertedRowID)
            var e = audit
            e.event = .modelTrained; e.action = "C"
            e.detail["version"] = String(version); e.detail["model_sha256"] = sha; e.detail["parent_sha256"] = parentSha256
            _ = try Self.append(db, e, key: siteKey)
            return ModelVersion(version: version, sha256: sha, parentSha256: parentSha256, createdAt: now, lineage: lineage, active: false)
        }
    }

    /// Every stored version, oldest first (without the files).
    public func modelVersions() throws -> [ModelVersion] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT version, sha256, parent_sha256, created_at, lineage, active FROM model_version ORDER BY version").map {
                ModelVersion(version: $0["version"], sha256: $0["sha256"], parentSha256: $0["parent_sha256"], createdAt: $0["created_at"],
                             lineage: $0["lineage"], active: $0["active"])
            }
        }
    }

    /// The active version and its file, or nil when the pack's default is in use.
    public func activeModel() throws -> (version: ModelVersion, file: Data)? {
        try pool.read { db in
            guard let r = try Row.fetchOne(db, sql: "SELECT * FROM model_version WHERE active = 1") else { return nil }
            return (ModelVersion(version: r["version"], sha256: r["sha256"], parentSha256: r["parent_sha256"], createdAt: r["created_at"],
                                 lineage: r["lineage"], active: true), r["file"])
        }
    }

    /// Makes `version` the active model (nil: back to the pack's default), with its audit
    /// entry, in one transaction. Throws for an unknown version.
    public func activateModel(_ version: Int?, audit: AuditEntry) throws {
        try writeImmediate { db in
            if let v = version {
                guard let sha = try String.fetchOne(db, sql: "SELECT sha256 FROM model_version WHERE version = ?", arguments: [v]) else {
                    throw StoreError.notFound("no model version \(v) (`model list` shows them)")
                }
                try db.execute(sql: "UPDATE model_version SET active = 0 WHERE active = 1")
                try db.execute(sql: "UPDATE model_version SET active = 1 WHERE version = ?", arguments: [v])
                var e = audit
                e.event = .modelActivated; e.action = "U"; e.detail["version"] = String(v); e.detail["model_sha256"] = sha
                _ = try Self.append(db, e, key: siteKey)
            } else {
                try db.execute(sql: "UPDATE model_version SET active = 0 WHERE active = 1")
                var e = audit
                e.event = .modelActivated; e.action = "U"; e.detail["version"] = "default"
                _ = try Self.append(db, e, key: siteKey)
            }
        }
    }
}

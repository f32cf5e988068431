import Foundation

/// Start-up failures of the database in words an operator can act on: each names the file.
enum DatabaseChecks {
    /// Why `dataDir` cannot hold the database at `databasePath`, seen before SQLite opens it; nil
    /// when nothing is in the way.
    static func problem(dataDir: String, databasePath: String, explicit: Bool = false) -> String? {
        var isFolder: ObjCBool = false
        if !explicit, FileManager.default.fileExists(atPath: dataDir, isDirectory: &isFolder), !isFolder.boolValue {
            return "the data folder '\(dataDir)' is a file, not a folder (--data-dir)"
        }
        if FileManager.default.fileExists(atPath: databasePath, isDirectory: &isFolder), isFolder.boolValue {
            return "the database '\(databasePath)' is a folder, not a database file"
        }
        return nil
    }

    /// The message for a failure to open or load the database at `databasePath`.
    static func describe(_ error: any Error, databasePath: String) -> String {
        let text = "\(error)"
        // SQLite's own texts for SQLITE_NOTADB (26) and SQLITE_CORRUPT (11).
        if text.contains("file is not a database") || text.contains("database disk image is malformed") {
            return """
                the database '\(databasePath)' is damaged or is not a Switchboard database (\(sqliteReason(text))); \
                restore it from a backup, or move it away (with its -wal and -shm files) to start with an empty one
                """
        }
        return text.contains(databasePath) ? text : "cannot load the database '\(databasePath)': \(text)"
    }

    /// The SQLite part of `text`, without GRDB's "while executing `PRAGMA ...`" tail.
    private static func sqliteReason(_ text: String) -> String {
        var reason = text
        if let range = reason.range(of: "SQLite error ") { reason = String(reason[range.lowerBound...]) }
        else if let range = reason.range(of: "storage failed: ") { reason = String(reason[range.upperBound...]) }
        if let range = reason.range(of: " - while executing") { reason = String(reason[..<range.lowerBound]) }
        return reason
    }
}

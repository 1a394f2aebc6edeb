import GRDB
import GRDBSQLite

/// SQLite's "copy the bytes now" destructor.
private let SQLITE_TRANSIENT = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
private let emptyText: StaticString = ""

/// A prepared statement bound and stepped through the C API, for hot loops.
/// It borrows a GRDB cached statement, so GRDB still owns its lifetime.
struct FastStatement {
    let db: Database
    let statement: Statement
    var handle: OpaquePointer { statement.sqliteStatement }

    init(db: Database, statement: Statement) {
        self.db = db
        self.statement = statement
    }

    @inline(__always) func reset() {
        sqlite3_reset(handle)
    }

    @inline(__always) func bind(_ i: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, i, value) } else { sqlite3_bind_null(handle, i) }
    }

    @inline(__always) func bind(_ i: Int32, _ value: Double?) {
        if let value { sqlite3_bind_double(handle, i, value) } else { sqlite3_bind_null(handle, i) }
    }

    @inline(__always) func bind(_ i: Int32, _ value: String?) {
        guard var value else { sqlite3_bind_null(handle, i); return }
        value.withUTF8 { buf in
            if buf.count == 0 {
                sqlite3_bind_text(handle, i, UnsafeRawPointer(emptyText.utf8Start).assumingMemoryBound(to: CChar.self), 0, SQLITE_TRANSIENT)
            } else {
                buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                    _ = sqlite3_bind_text(handle, i, $0, Int32(buf.count), SQLITE_TRANSIENT)
                }
            }
        }
    }

    @inline(__always) func bindText(_ i: Int32, _ bytes: UnsafeRawBufferPointer) {
        let p = bytes.baseAddress ?? UnsafeRawPointer(emptyText.utf8Start)
        sqlite3_bind_text(handle, i, p.assumingMemoryBound(to: CChar.self), Int32(bytes.count), SQLITE_TRANSIENT)
    }

    @inline(__always) func bindBlob(_ i: Int32, _ bytes: UnsafeRawBufferPointer) {
        let p = bytes.baseAddress ?? UnsafeRawPointer(emptyText.utf8Start)
        sqlite3_bind_blob(handle, i, p, Int32(bytes.count), SQLITE_TRANSIENT)
    }

    /// Steps once. Returns true when a row is available, false when done; throws on error.
    @discardableResult
    func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_DONE: return false
        case SQLITE_ROW: return true
        default:
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: message, sql: String(cString: sqlite3_sql(handle)))
        }
    }

    /// Steps past any remaining rows (a RETURNING statement must run to completion).
    func finishRows() throws {
        while try step() {}
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
}

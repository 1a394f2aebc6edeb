import ArgumentParser
import FlywheelCore
import FlywheelStore
import Foundation

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Print row counts per table.")

    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func run() throws {
        try reportingErrors {
            let store = try database.open()
            try printStats(store: store, path: database.path, json: json)
        }
    }
}

func printStats(store: Store, path: String, json: Bool) throws {
    let counts = try store.tableCounts()
    if json {
        let fields = counts.map { "\(jsonQuoted($0.table)):\($0.count)" }
        print("{\"db\":\(jsonQuoted(path)),\"tables\":{\(fields.joined(separator: ","))}}")
        return
    }
    print("database: \(path)")
    let width = counts.map(\.table.count).max() ?? 0
    for (table, count) in counts {
        print("  " + table.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + String(count).leftPadded(to: 9))
    }
}

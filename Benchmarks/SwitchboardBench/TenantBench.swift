import ArgumentParser
import Foundation
import SwitchboardClient

/// Tenants side by side, busy and asleep.
///
/// Busy: N tenants, each with its own agents and its own containerd Go ttrpc client running
/// durable lifecycles at the same depth, measured over one shared window, against one tenant
/// alone (and one tenant driven by two clients, to tell the tenants' isolation from the load).
/// Asleep: many small tenants put to sleep; the server's resident memory for each, and the time
/// of the call that wakes one.
struct TenantBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants",
        abstract: "Busy tenants side by side (lifecycles/s against one tenant's), and many sleeping tenants (memory each, time to wake one)."
    )

    @Option(help: "Busy tenant counts, each on a fresh server (empty: no busy run).")
    var tenants = "1,2,4,8"
    @Option(name: .customLong("lifecycles-in-flight"), help: "Lifecycles in flight per busy tenant (its own ttrpc-load, its own connection).")
    var lifecyclesInFlight = 64
    @Option(help: "Agents online per busy tenant (each with room for 1,000 sessions).")
    var agents = 16
    @Option(help: "Warm-up seconds before each busy measurement.")
    var warmup = 2.0
    @Option(help: "Measured seconds of each busy run.")
    var duration = 5.0
    @Option(name: .customLong("repeat"), help: "Rounds of the busy rows, run in turn (figures are medians over the rounds).")
    var repeats = 3
    @Flag(inversion: .prefixedNo, help: "Also run one tenant driven by two clients (the load of two tenants in one).")
    var control = true
    @Option(help: "Sleeping tenants (0: no sleeping run).")
    var sleeping = 1000
    @Option(help: "Open sessions (with the bot) of each sleeping tenant, beside its one agent (the wake calls GetSession on one).")
    var sessions = 3
    @Option(help: "Sleeping tenants woken one at a time, for the time to wake.")
    var wakes = 50
    @Option(help: "Rounds of waking those tenants all at once and letting them sleep (memory given back?).")
    var rounds = 3
    @Flag(inversion: .prefixedNo, help: "Also read the sleeping run's memory after the server's malloc_trim(0) (this build's serve only).")
    var trim = true
    @Option(help: "Sleeping tenants filled at once.")
    var concurrency = 16
    @Option(help: "The switchboard-bench whose `serve` is the server (another build's, to compare); this one when not given.")
    var swiftServer: String?
    @Option(help: "File the figures are written to (Markdown).")
    var output = ".build/benchmarks/tenants.md"

    func validate() throws {
        guard busyCounts.allSatisfy({ $0 > 0 }), busyCounts.count == tenants.split(separator: ",").count else {
            throw ValidationError("--tenants takes positive counts, comma-separated: 1,2,4,8")
        }
        guard lifecyclesInFlight > 0, agents > 0, duration > 0, warmup >= 0, repeats > 0 else {
            throw ValidationError("--lifecycles-in-flight, --agents, --duration and --repeat must be positive")
        }
        guard sleeping >= 0, sessions > 0, concurrency > 0, wakes >= 0, rounds >= 0, sleeping == 0 || wakes <= sleeping else {
            throw ValidationError("--sleeping and --wakes must not be negative (--wakes at most --sleeping), --sessions and --concurrency positive")
        }
    }

    private var busyCounts: [Int] { tenants.split(separator: ",").compactMap { Int($0) } }

    func run() async throws {
        var sections: [String] = []
        var summary: [String] = []
        if !busyCounts.isEmpty {
            let load = try GoLoad(binary: ServerProcess.buildGo("ttrpc-load"))
            let disk = DiskProbe.syncRates(folder: FileManager.default.temporaryDirectory)
            print("disk: \(disk.line)")
            var busyRounds: [[BusyRow]] = []
            for round in 1...repeats {
                var rows: [BusyRow] = []
                for count in busyCounts {
                    let ids = (1...count).map { "t\($0)" }
                    rows.append(try await busy(load: load, tenants: ids, clients: ids))
                    print("round \(round): \(rows.last!.line)")
                    if count == 2 && control {
                        rows.append(try await busy(load: load, tenants: ["t1"], clients: ["t1", "t1"]))
                        print("round \(round): \(rows.last!.line)")
                    }
                }
                busyRounds.append(rows)
            }
            var (text, lines) = busyMarkdown(busyRounds)
            text += "- disk (the temporary folder's): \(disk.line)\n"
            lines.append("disk: \(disk.line)")
            sections.append(text)
            summary += lines
        }
        if sleeping > 0 {
            let figures = try await asleep()
            let (text, lines) = sleepingMarkdown(figures)
            sections.append(text)
            summary += lines
        }
        let report = (["# Tenants benchmark", ""] + sections).joined(separator: "\n")
        print(summary.joined(separator: "\n"))
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: output).deletingLastPathComponent(), withIntermediateDirectories: true
        )
        try report.write(toFile: output, atomically: true, encoding: .utf8)
        print("written to \(output)")
    }

    // MARK: Busy tenants

    struct BusyRow {
        /// The tenants made.
        let tenants: Int
        /// One ttrpc-load per entry, naming its tenant.
        let clients: [String]
        let run: GoLoad.Together

        var rates: [Double] { run.figures.map { Double($0.units) / $0.seconds } }
        var total: Double { rates.reduce(0, +) }
        var units: Int { run.figures.map(\.units).reduce(0, +) }
        var errors: Int { run.figures.map(\.errors).reduce(0, +) }
        var serverCPUPerLifecycle: Double { units > 0 ? run.serverCPU / Double(units) * 1e6 : 0 }
        /// Disk flushes per lifecycle.
        var flushesPerLifecycle: Double? { run.flushes.map { units > 0 ? Double($0) / Double(units) : 0 } }
        /// The server's busiest thread, in cores, with its name.
        var busiestThread: String {
            guard let top = run.serverThreads.first else { return "?" }
            return "\(String(format: "%.2f", top.seconds / run.seconds)) (\(top.name))"
        }
        var label: String { clients.count == tenants ? "\(tenants)" : "\(tenants), \(clients.count) clients (control)" }

        var line: String {
            "tenants=\(label): \(Int(total)) lifecycles/s (per client \(rates.map { String(Int($0)) }.joined(separator: ", "))), "
                + "server CPU \(String(format: "%.0f", serverCPUPerLifecycle)) us/lifecycle, "
                + "server \(String(format: "%.2f", run.serverCores)) cores, clients \(String(format: "%.2f", run.generatorCores)) cores, "
                + "machine busy \(String(format: "%.2f", run.machine.busyCores)) iowait \(String(format: "%.2f", run.machine.iowaitCores)) "
                + "steal \(String(format: "%.2f", run.machine.stealCores)), disk flushes/lifecycle \(flushesPerLifecycle.map { String(format: "%.2f", $0) } ?? "?"), "
                + "disk busy \(run.diskBusy.map { String(format: "%.0f%%", $0 * 100) } ?? "?"), "
                + "server threads \(run.serverThreads.prefix(6).map { "\($0.name) \(String(format: "%.2f", $0.seconds / run.seconds))" }.joined(separator: ", ")), errors \(errors)"
                + (run.figures.compactMap(\.firstError).first.map { " (\($0))" } ?? "")
        }
    }

    /// A fresh server with `tenants`, each prepared like LifecycleBench does through a client
    /// naming it, then one ttrpc-load per entry of `clients`, all measured over one window.
    private func busy(load: GoLoad, tenants ids: [String], clients: [String]) async throws -> BusyRow {
        let server = try await ServerProcess.startSwitchboard(binary: swiftServer)
        defer { server.stop() }
        let admin = SwitchboardClient(host: server.host, port: server.port)
        for id in ids {
            _ = try await TenantService.Client(connection: admin.connection).createTenant(CreateTenantRequest(id: id))
            var configuration = RPCConnection.Configuration()
            configuration.metadata.add("switchboard-tenant", id)
            let client = SwitchboardClient(host: server.host, port: server.port, configuration: configuration)
            try await LifecycleBench.prepare(client, agents: agents)
            await client.close()
        }
        await admin.close()
        let run = try load.runTogether(
            "lifecycle", server: server, tenants: clients, inFlight: lifecyclesInFlight, warmup: warmup, duration: duration
        )
        return BusyRow(tenants: ids.count, clients: clients, run: run)
    }

    private func busyMarkdown(_ rounds: [[BusyRow]]) -> (String, [String]) {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var lines = [
            "## Busy tenants", "",
            "Each row a fresh server (`switchboard-bench serve`, a database file); each tenant created with `CreateTenant` and "
                + "given \(agents) agents online with room for 1,000 sessions each; then one containerd Go ttrpc client "
                + "(`ttrpc-load lifecycle --tenant ID`, its own process and connection) per tenant, \(lifecyclesInFlight) lifecycles "
                + "in flight each (create, request agent, agent message, user message, close: 5 durable calls). All clients warm up "
                + "\(warmup) s, then measure the same \(duration) s window; CPU is user+system over that window "
                + "(`/proc/<pid>/stat`, the server and the sum of the clients; machine: `/proc/stat`, in cores of \(cores); disk "
                + "flushes, and busy: the share of the window with I/O in flight, from `/proc/diskstats`). The rows were run in turn, \(rounds.count) round(s); each figure is the median over "
                + "the rounds (the range after it), each ratio taken within its round.",
            "",
            "| tenants | lifecycles/s | vs 1 tenant | per client, min-max | server CPU us/lifecycle | server cores | busiest server thread, cores | clients cores | machine busy cores | iowait, steal cores | disk flushes/s (per lifecycle) | disk busy | p50 ms (worst client) | p99 ms (worst client) | errors |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return 0 }
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        func f(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
        /// The median, and the range when there are several.
        func spread(_ values: [Double], _ digits: Int, suffix: String = "") -> String {
            let text = f(median(values), digits) + suffix
            guard values.count > 1, let low = values.min(), let high = values.max() else { return text }
            return "\(text) (\(f(low, digits))-\(f(high, digits)))"
        }
        let isOne = { (row: BusyRow) in row.tenants == 1 && row.clients.count == 1 }
        /// Each round's `label` row over the same round's one tenant.
        func ratios(_ label: String, over base: (BusyRow) -> Bool = isOne) -> [Double] {
            rounds.compactMap { round in
                guard let one = round.first(where: base), let row = round.first(where: { $0.label == label }), one.total > 0 else { return nil }
                return row.total / one.total
            }
        }
        let labels = rounds.first?.map(\.label) ?? []
        for label in labels {
            let rows = rounds.compactMap { $0.first { $0.label == label } }
            let rates = rows.flatMap(\.rates)
            lines.append(
                "| \(label) | \(spread(rows.map(\.total), 0)) | \(spread(ratios(label), 2, suffix: "x")) | "
                    + "\(Int(rates.min() ?? 0))-\(Int(rates.max() ?? 0)) | \(spread(rows.map(\.serverCPUPerLifecycle), 0)) | "
                    + "\(f(median(rows.map(\.run.serverCores)), 2)) | "
                    + "\(f(median(rows.map { ($0.run.serverThreads.first?.seconds ?? 0) / $0.run.seconds }), 2)) (\(rows.first?.run.serverThreads.first?.name ?? "?")) | "
                    + "\(f(median(rows.map(\.run.generatorCores)), 2)) | \(spread(rows.map(\.run.machine.busyCores), 2)) | "
                    + "\(f(median(rows.map(\.run.machine.iowaitCores)), 2)), \(f(median(rows.map(\.run.machine.stealCores)), 2)) | "
                    + "\(f(median(rows.map { Double($0.run.flushes ?? 0) / $0.run.seconds }), 0)) (\(f(median(rows.map { $0.flushesPerLifecycle ?? 0 }), 2))) | "
                    + "\(f(median(rows.map { ($0.run.diskBusy ?? 0) * 100 }), 0)) % | "
                    + "\(f(median(rows.map { Double($0.run.figures.map(\.p50).max() ?? 0) / 1e6 }), 1)) | "
                    + "\(f(median(rows.map { Double($0.run.figures.map(\.p99).max() ?? 0) / 1e6 }), 1)) | \(rows.map(\.errors).reduce(0, +)) |"
            )
        }
        if rounds.count > 1 {
            lines += ["", "Lifecycles/s, round by round:", "", "| round | " + labels.joined(separator: " | ") + " |",
                      "|---|" + String(repeating: "---|", count: labels.count)]
            for (index, round) in rounds.enumerated() {
                lines.append("| \(index + 1) | " + round.map { String(Int($0.total)) }.joined(separator: " | ") + " |")
            }
        }
        var summary: [String] = []
        let two = ratios("2")
        if !two.isEmpty {
            let met = two.filter { $0 >= 1.6 }.count
            let ones = rounds.compactMap { $0.first(where: isOne) }
            summary.append(
                "2 tenants / 1 tenant, lifecycles/s: \(spread(two, 2, suffix: "x")) over \(two.count) round(s) "
                    + "(goal: at least 1.6x: \(met == two.count ? "met" : met == 0 ? "not met" : "met in \(met) of \(two.count) rounds")); "
                    + "with 1 tenant the machine is already busy \(spread(ones.map(\.run.machine.busyCores), 2)) of \(cores) cores "
                    + "(server \(f(median(ones.map(\.run.serverCores)), 2)), clients \(f(median(ones.map(\.run.generatorCores)), 2))), "
                    + "so were it all CPU the ratio could be at most \(spread(ones.map { Double(cores) / $0.run.machine.busyCores }, 2, suffix: "x"))"
            )
            let controlLabel = labels.first { $0.contains("control") }
            if let controlLabel {
                let twoOverControl = ratios("2", over: { $0.label == controlLabel })
                summary.append(
                    "1 tenant driven by 2 clients / 1 tenant: \(spread(ratios(controlLabel), 2, suffix: "x")); "
                        + "2 tenants / that: \(spread(twoOverControl, 2, suffix: "x")) (what separate tenants add to the same load)"
                )
            }
        }
        lines.append("")
        lines.append(contentsOf: summary.map { "- \($0)" })
        return (lines.joined(separator: "\n") + "\n", summary)
    }

    // MARK: Sleeping tenants

    struct SleepingFigures {
        /// VmRSS, KiB, as read and (`trimmed`) after the server's malloc_trim(0), and what malloc
        /// says is in use then (KiB).
        struct Memory: CustomStringConvertible {
            var resident = 0
            var trimmed: Int?
            var inUse: Int?

            var description: String { "VmRSS \(resident) KiB, trimmed \(trimmed.map(String.init) ?? "-"), in use \(inUse.map(String.init) ?? "-")" }
        }

        var start = Memory()
        var startFiles = 0
        var half = Memory()
        var asleep = Memory()
        var peakKiB = 0
        var asleepFiles = 0
        var mostFilesFilling = 0
        var fillSeconds = 0.0
        var asleepAfterSeconds = 0.0
        var wakeNanos: [UInt64] = []
        var awakeNanos: [UInt64] = []
        var notAsleepBeforeWake = 0
        var awakeAtOnce = 0
        var awakeAtOnceKiB = 0
        var awakeAtOnceFiles = 0
        var awakeAtOnceInUseKiB: Int?
        /// VmRSS (trimmed when trimming) with all asleep before each round of waking the chosen
        /// tenants at once, and after the last.
        var roundsAsleepKiB: [Int] = []
    }

    /// A server putting tenants to sleep after 1 s: its memory at start, with `sleeping` tenants of
    /// one agent and `sessions` open sessions each asleep, and with `wakes` of them awake; the time
    /// of a call that wakes a tenant against the same call right after.
    private func asleep() async throws -> SleepingFigures {
        let server = try await ServerProcess.startSwitchboard(binary: swiftServer, arguments: ["--idle-seconds", "1"])
        defer { server.stop() }
        let client = SwitchboardClient(host: server.host, port: server.port)
        let admin = TenantService.Client(connection: client.connection)
        var figures = SleepingFigures()
        func memory() throws -> SleepingFigures.Memory {
            var memory = SleepingFigures.Memory(resident: try ProcessMemory.residentKiB(pid: server.pid))
            if trim {
                memory.inUse = try server.trimMemory().map { $0 / 1024 }
                memory.trimmed = try ProcessMemory.residentKiB(pid: server.pid)
            }
            return memory
        }
        _ = try await client.health.check(HealthCheckRequest())
        try await Task.sleep(for: .seconds(1))  // let start-up work settle
        figures.start = try memory()
        figures.startFiles = ProcessMemory.openFiles(pid: server.pid)
        print("sleeping: start-up \(figures.start), \(figures.startFiles) fds; filling \(sleeping) tenants")

        let ids = (0..<sleeping).map { String(format: "sleepy-%04d", $0) }
        let clock = ContinuousClock()
        // In two halves: the second fills a heap already grown by the first's awake tenants, so
        // its growth is closer to what a sleeping tenant keeps.
        let half = ids.count / 2
        var firstSessions: [String: String] = [:]
        figures.half = figures.start
        for (part, slice) in [ids[..<half], ids[half...]].enumerated() where !slice.isEmpty {
            let fillStart = clock.now
            let pid = server.pid
            let sampler = Task {
                var most = 0
                while !Task.isCancelled {
                    most = max(most, ProcessMemory.openFiles(pid: pid))
                    try? await Task.sleep(for: .milliseconds(100))
                }
                return most
            }
            firstSessions.merge(try await fill(Array(slice), client: client), uniquingKeysWith: { a, _ in a })
            sampler.cancel()
            figures.fillSeconds += (clock.now - fillStart).secondCount
            figures.mostFilesFilling = max(figures.mostFilesFilling, await sampler.value)
            if part == 1 { figures.peakKiB = try ProcessMemory.peakKiB(pid: server.pid) }
            let asleepStart = clock.now
            try await waitAsleep(Array(slice), admin: admin)
            figures.asleepAfterSeconds = max(figures.asleepAfterSeconds, (clock.now - asleepStart).secondCount)
            try await Task.sleep(for: .seconds(2))  // their stores close in tasks of their own
            if part == 0 { figures.half = try memory() } else { figures.asleep = try memory() }
            print("sleeping: \(part == 0 ? half : ids.count) tenants asleep, \(part == 0 ? figures.half : figures.asleep)")
        }
        figures.asleepFiles = ProcessMemory.openFiles(pid: server.pid)
        print(
            "sleeping: filled in \(String(format: "%.1f", figures.fillSeconds)) s, all asleep at most \(String(format: "%.1f", figures.asleepAfterSeconds)) s later; "
                + "peak RSS \(figures.peakKiB) KiB, \(figures.asleepFiles) fds (at most \(figures.mostFilesFilling) while filling)"
        )

        // One at a time: the call that wakes a sleeping tenant, then the same call to it awake.
        let chosen = stride(from: 0, to: ids.count, by: max(ids.count / max(wakes, 1), 1)).prefix(wakes).map { ids[$0] }
        for id in chosen {
            if try await admin.getTenant(GetTenantRequest(id: id)).usage?.awake ?? true { figures.notAsleepBeforeWake += 1 }
            let options = CallOptions(metadata: ["switchboard-tenant": id])
            let request = GetSessionRequest(sessionID: firstSessions[id]!)
            let start = clock.now
            _ = try await client.sessions.getSession(request, options: options)
            let woken = clock.now
            _ = try await client.sessions.getSession(request, options: options)
            let end = clock.now
            figures.wakeNanos.append((woken - start).nanosecondCount)
            figures.awakeNanos.append((end - woken).nanosecondCount)
        }

        // All of them awake at once, then asleep again, `rounds` times: what an awake tenant holds
        // beyond a sleeping one, and whether sleeping gives it all back (the memory with all
        // asleep must not grow round after round).
        for round in 0..<(chosen.isEmpty ? 0 : rounds + 1) {
            try await waitAsleep(chosen, admin: admin)
            try await Task.sleep(for: .seconds(2))
            let asleep = try memory()
            let asleepKiB = asleep.trimmed ?? asleep.resident
            let asleepFiles = ProcessMemory.openFiles(pid: server.pid)
            figures.roundsAsleepKiB.append(asleepKiB)
            guard round < rounds else { break }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in chosen {
                    let request = GetSessionRequest(sessionID: firstSessions[id]!)
                    group.addTask {
                        let options = CallOptions(metadata: ["switchboard-tenant": id])
                        _ = try await client.sessions.getSession(request, options: options)
                    }
                }
                try await group.waitForAll()
            }
            let awakeKiB = try ProcessMemory.residentKiB(pid: server.pid)
            let awakeFiles = ProcessMemory.openFiles(pid: server.pid)
            guard round == 0 else { continue }
            figures.awakeAtOnceKiB = awakeKiB - asleepKiB
            figures.awakeAtOnceFiles = awakeFiles - asleepFiles
            if trim, let before = asleep.inUse, let now = try server.trimMemory() { figures.awakeAtOnceInUseKiB = now / 1024 - before }
            // Read at once (they sleep 1 s after their call): how many were still awake.
            for id in chosen {
                if try await admin.getTenant(GetTenantRequest(id: id)).usage?.awake == true { figures.awakeAtOnce += 1 }
            }
        }
        print("sleeping: RSS with all asleep before each of \(rounds) rounds of waking \(chosen.count) at once, and after: \(figures.roundsAsleepKiB) KiB")
        await client.close()
        return figures
    }

    /// Creates tenants `ids`, `concurrency` at a time, each with one agent and `sessions` sessions
    /// left with the bot; answers each tenant's first session.
    private func fill(_ ids: [String], client: SwitchboardClient) async throws -> [String: String] {
        let admin = TenantService.Client(connection: client.connection)
        let sessions = self.sessions
        return try await withThrowingTaskGroup(of: (String, String).self) { group in
            var found: [String: String] = [:]
            for (index, id) in ids.enumerated() {
                if index >= concurrency, let (done, session) = try await group.next() { found[done] = session }
                group.addTask {
                    _ = try await admin.createTenant(CreateTenantRequest(id: id))
                    let options = CallOptions(metadata: ["switchboard-tenant": id])
                    _ = try await client.agents.createAgent(CreateAgentRequest(id: "agent-0", displayName: "Agent 0"), options: options)
                    var first = ""
                    for index in 0..<sessions {
                        let session = try await client.sessions.createSession(CreateSessionRequest(userID: "user-\(index)"), options: options)
                        if index == 0 { first = session.id }
                    }
                    return (id, first)
                }
            }
            for try await (done, session) in group { found[done] = session }
            return found
        }
    }

    /// Polls `GetTenant` until none of `ids` is awake (the server's sweeper runs every second).
    private func waitAsleep(_ ids: [String], admin: TenantService.Client) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            var awake = 0
            for id in ids {
                if try await admin.getTenant(GetTenantRequest(id: id)).usage?.awake ?? true { awake += 1 }
            }
            if awake == 0 { return }
            guard ContinuousClock.now < deadline else { throw BenchError("\(awake) of \(ids.count) tenants still awake after 120 s") }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    private func sleepingMarkdown(_ figures: SleepingFigures) -> (String, [String]) {
        func mib(_ kib: Int) -> String { String(format: "%.1f", Double(kib) / 1024) }
        func ms(_ nanoseconds: UInt64) -> String { String(format: "%.2f", Double(nanoseconds) / 1e6) }
        func kib(_ value: Double) -> String { String(format: "%.1f", value) }
        func percentile(_ values: [UInt64], _ p: Double) -> UInt64 {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(Int(p / 100 * Double(sorted.count)), sorted.count - 1)]
        }
        let secondHalf = sleeping - sleeping / 2
        /// (per sleeping tenant over all, over the second half) of one way of reading the memory.
        func perTenant(_ read: (SleepingFigures.Memory) -> Int?) -> (all: Double, second: Double)? {
            guard let start = read(figures.start), let half = read(figures.half), let asleep = read(figures.asleep) else { return nil }
            return (Double(asleep - start) / Double(sleeping), Double(asleep - half) / Double(secondHalf))
        }
        let resident = perTenant { $0.resident }!
        let trimmed = perTenant { $0.trimmed }
        let inUse = perTenant { $0.inUse }
        let filesPerAwake = Double(figures.awakeAtOnceFiles) / Double(max(figures.awakeAtOnce, 1))
        let mostAwakeFilling = filesPerAwake > 0 ? Double(figures.mostFilesFilling - figures.startFiles) / filesPerAwake : 0
        let awake = max(figures.awakeAtOnce, 1)
        var roundGrowth = "-"
        if let first = figures.roundsAsleepKiB.first, let last = figures.roundsAsleepKiB.last, figures.roundsAsleepKiB.count > 1 {
            let wakes = Double((figures.roundsAsleepKiB.count - 1) * figures.wakeNanos.count)
            roundGrowth = String(format: "%.1f KiB", Double(last - first) / wakes)
        }
        func row(_ name: String, _ memory: SleepingFigures.Memory) -> String {
            "| \(name) | \(mib(memory.resident)) MiB | \(memory.trimmed.map { "\(mib($0)) MiB" } ?? "-") | \(memory.inUse.map { "\(mib($0)) MiB" } ?? "-") |"
        }
        func perRow(_ name: String, _ pick: ((all: Double, second: Double)) -> Double, raw: Bool = true) -> String {
            "| \(name) | \(raw ? "\(kib(pick(resident))) KiB" : "-") | \(trimmed.map { "\(kib(pick($0))) KiB" } ?? "-") | "
                + "\(inUse.map { "\(kib(pick($0))) KiB" } ?? "-") |"
        }
        var lines = [
            "## Sleeping tenants", "",
            "A fresh server (`switchboard-bench serve --idle-seconds 1`, a database file); \(sleeping) tenants created, "
                + "\(concurrency) at a time, each with 1 agent (offline) and \(sessions) sessions left with the bot (open), "
                + "in two halves, each filled (\(String(format: "%.1f", figures.fillSeconds)) s in all), then waited for until all asleep "
                + "(`GetTenant` usage.awake false, at most \(String(format: "%.1f", figures.asleepAfterSeconds)) s after its last call); "
                + "the resident memory (VmRSS of `/proc/<pid>/status`) read 2 s later, as it is and after the server's glibc "
                + "`malloc_trim(0)` (which gives the free heap of every arena back: what is left is in use, or pages shared "
                + "with what is), and the bytes malloc has handed out and not had back (`malloc_info`: the arenas' size less "
                + "their free chunks, plus mapped chunks).",
            "",
            "| memory | VmRSS | VmRSS after malloc_trim(0) | malloc in use |",
            "|---|---|---|---|",
            row("after start-up", figures.start),
            row("the first \(sleeping / 2) tenants asleep", figures.half),
            row("all \(sleeping) tenants asleep", figures.asleep),
            perRow("**per sleeping tenant**: all \(sleeping) (growth / \(sleeping))", \.all),
            // Trimmed at the half, the heap as read after it is not the one grown by the first half.
            perRow("per sleeping tenant: the second \(secondHalf) only", \.second, raw: !trim),
            "",
            "| figure | value |",
            "|---|---|",
            "| peak VmRSS while filling (VmHWM) | \(mib(figures.peakKiB)) MiB |",
            "| tenants awake at once while filling (most open files over the files of one awake tenant) | about \(Int(mostAwakeFilling.rounded())) |",
            "| peak growth over that many awake tenants | \(mostAwakeFilling > 0 ? String(format: "%.0f KiB", Double(figures.peakKiB - figures.start.resident) / mostAwakeFilling) : "-") |",
            "| open files: after start-up, \(sleeping) asleep | \(figures.startFiles), \(figures.asleepFiles) |",
            "| \(figures.wakeNanos.count) tenants woken at once: VmRSS added per awake tenant\(trim ? " (on the trimmed heap)" : "") | "
                + "\(String(format: "%.0f", Double(figures.awakeAtOnceKiB) / Double(awake))) KiB (\(figures.awakeAtOnce) still awake when read) |",
            "| the same: malloc in use added per awake tenant | \(figures.awakeAtOnceInUseKiB.map { String(format: "%.0f KiB", Double($0) / Double(awake)) } ?? "-") |",
            "| the same: open files per awake tenant | \(String(format: "%.1f", filesPerAwake)) |",
            "| memory\(trim ? " (trimmed)" : "") with all asleep before each of \(rounds) rounds of waking those \(figures.wakeNanos.count) at once, and after the last | "
                + "\(figures.roundsAsleepKiB.map { mib($0) }.joined(separator: ", ")) MiB |",
            "| the same: growth per wake and sleep of a tenant | \(roundGrowth) |",
            "",
            "Time of one `GetSession` (one client, one call at a time, \(figures.wakeNanos.count) tenants spread over the "
                + "\(sleeping); \(figures.notAsleepBeforeWake) of them found awake before their call):",
            "",
            "| call | p50 ms | p90 ms | max ms |",
            "|---|---|---|---|",
            "| to a sleeping tenant (wakes it: opens its file, loads its state) | \(ms(percentile(figures.wakeNanos, 50))) | "
                + "\(ms(percentile(figures.wakeNanos, 90))) | \(ms(figures.wakeNanos.max() ?? 0)) |",
            "| the same call right after (awake) | \(ms(percentile(figures.awakeNanos, 50))) | "
                + "\(ms(percentile(figures.awakeNanos, 90))) | \(ms(figures.awakeNanos.max() ?? 0)) |",
        ]
        let summary = [
            "\(sleeping) sleeping tenants: \(kib(resident.all)) KiB each as read"
                + (trimmed.map { ", \(kib($0.all)) KiB after malloc_trim (the second half's \(kib($0.second)))" } ?? "")
                + (inUse.map { ", malloc in use \(kib($0.all)) KiB (the second half's \(kib($0.second)))" } ?? "")
                + "; waking one: GetSession p50 \(ms(percentile(figures.wakeNanos, 50))) ms, p90 \(ms(percentile(figures.wakeNanos, 90))) ms "
                + "(awake: p50 \(ms(percentile(figures.awakeNanos, 50))) ms)"
        ]
        lines.append("")
        lines.append(contentsOf: summary.map { "- \($0)" })
        return (lines.joined(separator: "\n") + "\n", summary)
    }
}

extension GoLoad {
    /// What several ttrpc-load processes measured over one window.
    struct Together {
        /// One per process, in the order of the tenants given.
        let figures: [Figures]
        /// The window, seconds (from the signal to start to the last DONE).
        let seconds: Double
        /// The server's CPU over the window, seconds.
        let serverCPU: Double
        /// The load generators' CPU over the window (each up to its DONE), seconds.
        let generatorCPU: Double
        let machine: MachineCPU.Delta
        /// Disk flushes over the window (of the disk holding the temporary folder), when known.
        let flushes: Int?
        /// The share of the window that disk had I/O in flight, when known.
        let diskBusy: Double?
        /// The server's busiest threads over the window: name and CPU seconds, busiest first.
        let serverThreads: [(name: String, seconds: Double)]

        var serverCores: Double { serverCPU / seconds }
        var generatorCores: Double { generatorCPU / seconds }
    }

    /// Runs one ttrpc-load per entry of `tenants` (each calling in that tenant), all at once: each
    /// warms up and says READY; once all have, all are told to measure, so their windows and the
    /// CPU samples coincide.
    func runTogether(
        _ mode: String, server: ServerProcess, tenants: [String], inFlight: Int, warmup: Double, duration: Double
    ) throws -> Together {
        var running: [(process: Process, input: Pipe, lines: LineReader)] = []
        defer {
            for entry in running where entry.process.isRunning {
                entry.process.terminate()
                entry.process.waitUntilExit()
            }
        }
        for tenant in tenants {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = [
                mode, "\(server.host):\(server.port)", "--in-flight", "\(inFlight)", "--warmup", "\(warmup)",
                "--duration", "\(duration)", "--ready-line", "--tenant", tenant,
            ]
            let output = Pipe()
            let input = Pipe()
            process.standardOutput = output
            process.standardInput = input
            try process.run()
            running.append((process, input, LineReader(handle: output.fileHandleForReading)))
        }
        for index in running.indices {
            guard running[index].lines.next() == "READY" else { throw BenchError("ttrpc-load \(mode) exited before measuring") }
        }
        let clock = ContinuousClock()
        let start = clock.now
        let serverStart = server.cpuSeconds()
        let machineStart = MachineCPU.sample()
        let disk = DiskFlushes(path: FileManager.default.temporaryDirectory.path)
        let diskStart = disk.sample()
        let threadsStart = ThreadCPU.sample(pid: server.pid)
        let generatorStart = running.map { ProcessCPU.seconds(pid: $0.process.processIdentifier) }
        for entry in running { entry.input.fileHandleForWriting.write(Data("go\n".utf8)) }
        var generatorCPU = 0.0
        for index in running.indices {
            guard running[index].lines.next() == "DONE" else { throw BenchError("ttrpc-load \(mode) exited while measuring") }
            generatorCPU += ProcessCPU.seconds(pid: running[index].process.processIdentifier) - generatorStart[index]
        }
        let serverCPU = server.cpuSeconds() - serverStart
        let machine = MachineCPU.sample().since(machineStart)
        let diskEnd = disk.sample()
        let threadsEnd = ThreadCPU.sample(pid: server.pid)
        let seconds = (clock.now - start).secondCount
        var figures: [Figures] = []
        for index in running.indices {
            guard let json = running[index].lines.next(), let result = try? JSONDecoder().decode(Figures.self, from: Data(json.utf8)) else {
                throw BenchError("ttrpc-load \(mode) printed no figures")
            }
            running[index].process.waitUntilExit()
            figures.append(result)
        }
        return Together(
            figures: figures, seconds: seconds, serverCPU: serverCPU, generatorCPU: generatorCPU,
            machine: MachineCPU.Delta(machine, seconds: seconds),
            flushes: diskStart.flatMap { start in diskEnd.map { $0.flushes - start.flushes } },
            diskBusy: diskStart.flatMap { start in diskEnd.map { Double($0.busyMilliseconds - start.busyMilliseconds) / 1000 / seconds } },
            serverThreads: threadsEnd.map { tid, end in (end.name, end.seconds - (threadsStart[tid]?.seconds ?? 0)) }
                .sorted { $0.seconds > $1.seconds }
        )
    }
}

/// The whole machine's CPU time, from the first line of /proc/stat.
struct MachineCPU {
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Jiffies: every state, idle, waiting for I/O, and stolen by the hypervisor.
    var total = 0.0, idle = 0.0, iowait = 0.0, steal = 0.0

    static func sample() -> MachineCPU {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return MachineCPU() }
        // cpu user nice system idle iowait irq softirq steal guest guest_nice (guests are in user)
        let fields = line.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
        guard fields.count == 8 else { return MachineCPU() }
        return MachineCPU(total: fields.reduce(0, +), idle: fields[3], iowait: fields[4], steal: fields[7])
    }

    func since(_ earlier: MachineCPU) -> MachineCPU {
        MachineCPU(total: total - earlier.total, idle: idle - earlier.idle, iowait: iowait - earlier.iowait, steal: steal - earlier.steal)
    }

    /// Over a window, in cores: busy (running anything, the kernel included), idle waiting for
    /// I/O, stolen.
    struct Delta {
        let busyCores: Double
        let iowaitCores: Double
        let stealCores: Double

        init(_ delta: MachineCPU, seconds: Double) {
            let cores = { (jiffies: Double) in jiffies / MachineCPU.ticksPerSecond / seconds }
            busyCores = cores(delta.total - delta.idle - delta.iowait - delta.steal)
            iowaitCores = cores(delta.iowait)
            stealCores = cores(delta.steal)
        }
    }
}

/// Flush requests (what an fsync asks of the disk) completed by the block device holding a path,
/// from /proc/diskstats (its 19th field, Linux 5.5 and later).
struct DiskFlushes {
    private let device: (major: UInt64, minor: UInt64)?

    init(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            device = nil
            return
        }
        // glibc's major()/minor() encoding of dev_t.
        let dev = UInt64(info.st_dev)
        device = (((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff), (dev & 0xff) | ((dev >> 12) & ~0xff))
    }

    /// Counters of the device so far.
    struct Sample {
        /// Flush requests completed.
        var flushes: Int
        /// Milliseconds with I/O in flight (iostat's %util over time).
        var busyMilliseconds: Int
    }

    /// The device's counters; nil when unknown.
    func sample() -> Sample? {
        guard let device, let stats = try? String(contentsOfFile: "/proc/diskstats", encoding: .utf8) else { return nil }
        for line in stats.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 19, UInt64(fields[0]) == device.major, UInt64(fields[1]) == device.minor,
                let flushes = Int(fields[18]), let busy = Int(fields[12])
            else { continue }
            return Sample(flushes: flushes, busyMilliseconds: busy)
        }
        return nil
    }
}

/// How many syncs the disk takes per second: 8 KiB appended then `fdatasync`, as a WAL commit
/// does, in one file and in two files at once (two tenants' writers).
enum DiskProbe {
    struct Rates {
        let one: Double
        let two: Double

        var line: String {
            "fdatasync of 8 KiB appends, one file: \(Int(one))/s; two files at once: \(Int(two))/s in all (\(String(format: "%.2f", two / one))x)"
        }
    }

    static func syncRates(folder: URL, syncs: Int = 1000) -> Rates {
        func rate(files: Int) -> Double {
            let clock = ContinuousClock()
            let start = clock.now
            DispatchQueue.concurrentPerform(iterations: files) { index in
                let path = folder.appendingPathComponent("switchboard-disk-probe-\(getpid())-\(index)").path
                let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                guard fd >= 0 else { return }
                defer {
                    close(fd)
                    unlink(path)
                }
                let block = [UInt8](repeating: 0x5A, count: 8192)
                for _ in 0..<syncs {
                    _ = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    _ = fdatasync(fd)
                }
            }
            return Double(files * syncs) / (clock.now - start).secondCount
        }
        return Rates(one: rate(files: 1), two: rate(files: 2))
    }
}

/// The CPU time of each thread of a process, from /proc/<pid>/task/<tid>/stat.
enum ThreadCPU {
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Thread id -> its name and user+system seconds.
    static func sample(pid: Int32) -> [Int32: (name: String, seconds: Double)] {
        var threads: [Int32: (name: String, seconds: Double)] = [:]
        for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [] {
            guard let tid = Int32(task), let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            threads[tid] = (String(stat[stat.index(after: open)..<close]), (user + system) / ticksPerSecond)
        }
        return threads
    }
}

/// A process's memory and open files, from /proc.
enum ProcessMemory {
    /// VmRSS, KiB.
    static func residentKiB(pid: Int32) throws -> Int { try field("VmRSS:", pid: pid) }

    /// VmHWM (the peak resident size), KiB.
    static func peakKiB(pid: Int32) throws -> Int { try field("VmHWM:", pid: pid) }

    /// Entries of /proc/<pid>/fd.
    static func openFiles(pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }

    private static func field(_ name: String, pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { throw BenchError("no \(name) for process \(pid)") }
        return kib
    }
}

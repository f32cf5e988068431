import Foundation

struct Result {
    let server: String
    let inFlight: Int
    let callsPerSecond: Double
    let p50, p90, p99, p999: UInt64
    let serverCPUPerCall: Double
    let clientCPUPerCall: Double
    let calls: Int
    let errors: Int

    static func us(_ nanoseconds: UInt64) -> String {
        String(format: "%.1f", Double(nanoseconds) / 1000)
    }

    var line: String {
        "\(server) in-flight=\(inFlight): \(Int(callsPerSecond)) calls/s, p50 \(Self.us(p50)) us, p90 \(Self.us(p90)) us, "
            + "p99 \(Self.us(p99)) us, p99.9 \(Self.us(p999)) us, server CPU \(String(format: "%.2f", serverCPUPerCall)) us/call, "
            + "load generator CPU \(String(format: "%.2f", clientCPUPerCall)) us/call, errors \(errors)"
    }
}

struct Report {
    let results: [Result]
    let connections: Int
    let payload: Int
    let duration: Double

    var ratios: [String] {
        Set(results.map(\.inFlight)).sorted(by: >).compactMap { depth in
            guard let swift = results.first(where: { $0.server == "swift" && $0.inFlight == depth }),
                let go = results.first(where: { $0.server == "go" && $0.inFlight == depth })
            else { return nil }
            return "in-flight \(depth): Switchboard/Go calls/s = \(String(format: "%.2f", swift.callsPerSecond / go.callsPerSecond))x, "
                + "server CPU per call Go/Switchboard = \(String(format: "%.2f", go.serverCPUPerCall / swift.serverCPUPerCall))x"
        }
    }

    var summary: String {
        ratios.joined(separator: "\n")
    }

    var markdown: String {
        var lines = [
            "# RPC benchmark",
            "",
            "\(connections) connection(s), \(payload)-byte payload echoed, \(duration) s measured after warm-up.",
            "",
            "| server | in flight | calls/s | p50 us | p90 us | p99 us | p99.9 us | server CPU us/call | generator CPU us/call | errors |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in results {
            lines.append(
                "| \(r.server) | \(r.inFlight) | \(Int(r.callsPerSecond)) | \(Result.us(r.p50)) | \(Result.us(r.p90)) | "
                    + "\(Result.us(r.p99)) | \(Result.us(r.p999)) | \(String(format: "%.2f", r.serverCPUPerCall)) | "
                    + "\(String(format: "%.2f", r.clientCPUPerCall)) | \(r.errors) |"
            )
        }
        lines.append("")
        lines.append(contentsOf: ratios.map { "- \($0)" })
        return lines.joined(separator: "\n") + "\n"
    }
}

extension Duration {
    /// Whole nanoseconds, for histograms.
    var nanosecondCount: UInt64 {
        UInt64(components.seconds) * 1_000_000_000 + UInt64(components.attoseconds / 1_000_000_000)
    }

    /// Seconds as a floating-point number, for rates.
    var secondCount: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

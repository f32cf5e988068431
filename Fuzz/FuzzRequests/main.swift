// Fuzzes every request message of Switchboard's services through the server's own path: the
// input picks methods and supplies their request payloads; each call is wrapped in a valid ttrpc
// envelope and frame and written to an in-process connection of a real server (in-memory store),
// which must answer every unary call with a well-formed response that is not INTERNAL/UNKNOWN.
//
// Input: up to 12 records, each
//   selector u8   the method: InProcessServer.methods[selector % count] (sorted by service/method);
//                 255 is no call but time passing: the payload's first byte (0-255) in minutes,
//                 after which the server's due timers fire (offers, user timeouts, queue messages)
//   options  u8   bit 0: append the last session id the server returned as the request's
//                 session_id field (1 for SessionService, 2 for AgentService), so calls can reach
//                 a live session
//   length   u16  big-endian, the payload's length (cut to what remains)
//   payload       the request message's protobuf encoding
// Each payload that decodes as the method's request type must also survive an encode/decode
// round trip unchanged.
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import SwitchboardProto
import SwitchboardRPC
import SwitchboardServices

/// The request type of every method, to check the bridges' round trip.
let requestTypes: [MethodDescriptor: any ProtoMessage.Type] = [
    Health.Method.Check.descriptor: Health.Method.Check.Input.self,
    Health.Method.Watch.descriptor: Health.Method.Watch.Input.self,
    SettingsService.Method.GetSettings.descriptor: SettingsService.Method.GetSettings.Input.self,
    SettingsService.Method.UpdateSettings.descriptor: SettingsService.Method.UpdateSettings.Input.self,
    AgentService.Method.CreateAgent.descriptor: AgentService.Method.CreateAgent.Input.self,
    AgentService.Method.UpdateAgent.descriptor: AgentService.Method.UpdateAgent.Input.self,
    AgentService.Method.GetAgent.descriptor: AgentService.Method.GetAgent.Input.self,
    AgentService.Method.ListAgents.descriptor: AgentService.Method.ListAgents.Input.self,
    AgentService.Method.DeleteAgent.descriptor: AgentService.Method.DeleteAgent.Input.self,
    AgentService.Method.SetAgentStatus.descriptor: AgentService.Method.SetAgentStatus.Input.self,
    AgentService.Method.CreateGroup.descriptor: AgentService.Method.CreateGroup.Input.self,
    AgentService.Method.RenameGroup.descriptor: AgentService.Method.RenameGroup.Input.self,
    AgentService.Method.GetGroup.descriptor: AgentService.Method.GetGroup.Input.self,
    AgentService.Method.DeleteGroup.descriptor: AgentService.Method.DeleteGroup.Input.self,
    AgentService.Method.ListGroups.descriptor: AgentService.Method.ListGroups.Input.self,
    AgentService.Method.AddGroupMember.descriptor: AgentService.Method.AddGroupMember.Input.self,
    AgentService.Method.RemoveGroupMember.descriptor: AgentService.Method.RemoveGroupMember.Input.self,
    AgentService.Method.ListGroupAgents.descriptor: AgentService.Method.ListGroupAgents.Input.self,
    AgentService.Method.AcceptSession.descriptor: AgentService.Method.AcceptSession.Input.self,
    AgentService.Method.SendAgentMessage.descriptor: AgentService.Method.SendAgentMessage.Input.self,
    AgentService.Method.CloseSession.descriptor: AgentService.Method.CloseSession.Input.self,
    AgentService.Method.TransferSession.descriptor: AgentService.Method.TransferSession.Input.self,
    AgentService.Method.InviteRating.descriptor: AgentService.Method.InviteRating.Input.self,
    AgentService.Method.ListAgentSessions.descriptor: AgentService.Method.ListAgentSessions.Input.self,
    AgentService.Method.WatchAgent.descriptor: AgentService.Method.WatchAgent.Input.self,
    SessionService.Method.CreateSession.descriptor: SessionService.Method.CreateSession.Input.self,
    SessionService.Method.SendUserMessage.descriptor: SessionService.Method.SendUserMessage.Input.self,
    SessionService.Method.RequestAgent.descriptor: SessionService.Method.RequestAgent.Input.self,
    SessionService.Method.GetSession.descriptor: SessionService.Method.GetSession.Input.self,
    SessionService.Method.ListMessages.descriptor: SessionService.Method.ListMessages.Input.self,
    SessionService.Method.GetQueuePosition.descriptor: SessionService.Method.GetQueuePosition.Input.self,
    SessionService.Method.CloseSession.descriptor: SessionService.Method.CloseSession.Input.self,
    SessionService.Method.SubmitRating.descriptor: SessionService.Method.SubmitRating.Input.self,
    SessionService.Method.ListGroups.descriptor: SessionService.Method.ListGroups.Input.self,
    SessionService.Method.WatchSession.descriptor: SessionService.Method.WatchSession.Input.self,
    TenantService.Method.CreateTenant.descriptor: TenantService.Method.CreateTenant.Input.self,
    TenantService.Method.GetTenant.descriptor: TenantService.Method.GetTenant.Input.self,
    TenantService.Method.ListTenants.descriptor: TenantService.Method.ListTenants.Input.self,
    TenantService.Method.UpdateTenant.descriptor: TenantService.Method.UpdateTenant.Input.self,
    TenantService.Method.DeleteTenant.descriptor: TenantService.Method.DeleteTenant.Input.self,
]

func checkRoundTrip<M: ProtoMessage>(_: M.Type, _ payload: [UInt8], _ method: MethodDescriptor) {
    guard let message = try? M(serializedBytes: payload) else { return }
    let encoded: [UInt8]
    do {
        encoded = try message.serializedBytes()
    } catch {
        preconditionFailure("\(method): a decoded \(M.self) does not encode: \(error)")
    }
    let again: M
    do {
        again = try M(serializedBytes: encoded)
    } catch {
        preconditionFailure("\(method): a re-encoded \(M.self) does not decode: \(error)")
    }
    precondition(again == message, "\(method): \(M.self) changed in an encode/decode round trip")
}

/// Appends a length-delimited field to a protobuf encoding (the last value of a field wins).
func appendingString(_ payload: [UInt8], field: UInt32, _ value: String) -> [UInt8] {
    var out = payload
    func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }
    varint(UInt64(field) << 3 | 2)
    varint(UInt64(value.utf8.count))
    out += value.utf8
    return out
}

precondition(Set(requestTypes.keys) == Set(InProcessServer.make().methods), "requestTypes does not list every registered method")

/// FUZZ_VERBOSE=1 prints each call's outcome (to check what seeds reach).
let verbose = getenv("FUZZ_VERBOSE") != nil
/// FUZZ_SHARED_SERVER=1 keeps one server for the whole run: about 5 times the executions, and
/// state (settings, agents, sessions) carried from input to input, but a finding may then need
/// the inputs before it to reproduce.
let sharedServer = getenv("FUZZ_SHARED_SERVER") != nil ? InProcessServer.make() : nil

FuzzDriver.main("FuzzRequests") { input in
    // By default a fresh server (empty in-memory database) per input: an input reproduces alone.
    let server = sharedServer ?? InProcessServer.make()
    var bytes = input[...]
    var lastSessionID: String?
    let connection = server.connect()
    defer { connection.close() }
    var streamID: UInt32 = 1
    while bytes.count >= 4, streamID < 24 {
        let selector = bytes[bytes.startIndex]
        let method = server.methods[Int(selector) % server.methods.count]
        let options = bytes[bytes.startIndex + 1]
        let length = min(Int(bytes[bytes.startIndex + 2]) << 8 | Int(bytes[bytes.startIndex + 3]), bytes.count - 4)
        var payload = Array(bytes[(bytes.startIndex + 4)..<(bytes.startIndex + 4 + length)])
        bytes = bytes[(bytes.startIndex + 4 + length)...]
        if selector == 255 {
            server.advanceTime(seconds: 60 * Int(payload.first ?? 1))
            continue
        }
        if options & 1 != 0, let lastSessionID {
            payload = appendingString(payload, field: method.service == SessionService.name ? 1 : 2, lastSessionID)
        }
        checkRoundTrip(requestTypes[method]!, payload, method)

        let envelope = try! Ttrpc_Request(service: method.service, method: method.method, payload: payload).serializedBytes()
        connection.write(requestFrame(streamID: streamID, envelope: envelope))
        if server.streamingMethods.contains(method) {
            // A watch answers only when it fails or ends; give it a moment to fail.
            if let frame = connection.waitForAnswer(streamID: streamID, orData: true, timeout: .milliseconds(2)),
                frame.header.type == .response
            {
                checkResponse(frame, for: "\(method) with \(payload)")
            }
        } else {
            guard let frame = connection.waitForAnswer(streamID: streamID, timeout: .seconds(10)) else {
                preconditionFailure("\(method) was not answered within 10 s (payload \(payload))")
            }
            let response = checkResponse(frame, for: "\(method) with \(payload)")
            if verbose {
                print("\(method): \(response.status.map { "\($0.code) \($0.message)" } ?? "OK")")
            }
            if response.status == nil || response.status?.code == 0, InProcessServer.sessionReturning.contains(method) {
                guard let session = try? Session(serializedBytes: response.payload) else {
                    preconditionFailure("\(method) answered OK with a payload that is not a Session")
                }
                lastSessionID = session.id
            }
        }
        precondition(connection.isActive, "the server closed the connection after \(method)")
        streamID += 2
    }
}

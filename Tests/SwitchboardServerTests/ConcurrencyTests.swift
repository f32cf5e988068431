import SwitchboardClient
import SwitchboardServer
import SwitchboardTestSupport
import Testing

@Suite("Concurrency")
struct ConcurrencyTests {
    @Test("many users and desks at once: no agent over capacity, no double assignment, FIFO queue, every session accounted for")
    func invariantsUnderLoad() async throws {
        try await withScenario { scenario in
            try await scenario.update {
                $0.serviceMode = Settings.ServiceMode(mode: .manual, connectTimeoutSeconds: 3600)
                $0.queue?.maxSessionsPerAgent = 2
            }
            let agentIDs = ["ann", "bob", "cat", "dan"]
            for id in agentIDs {
                _ = try await scenario.agents.createAgent(CreateAgentRequest(id: id, displayName: id))
            }
            _ = try await scenario.agents.createGroup(CreateGroupRequest(id: "tech", name: "Tech"))
            for id in ["cat", "dan"] {
                _ = try await scenario.agents.addGroupMember(GroupMemberRequest(groupID: "tech", agentID: id))
            }
            for id in agentIDs {
                _ = try await scenario.agents.setAgentStatus(SetAgentStatusRequest(id: id, status: .online))
            }
            let users = 120
            let created = try await withThrowingTaskGroup(of: String.self) { group in
                // Users: create, ask for an agent, some leave, some write.
                for index in 0..<users {
                    group.addTask {
                        let client = scenario.server.makeClient()
                        defer { Task { await client.close() } }
                        let session = try await client.sessions.createSession(CreateSessionRequest(userID: "user-\(index)"))
                        _ = try await client.sessions.requestAgent(RequestAgentRequest(sessionID: session.id))
                        if index % 5 == 0 {
                            _ = try? await client.sessions.closeSession(CloseSessionRequest(sessionID: session.id))
                        } else {
                            _ = try? await client.sessions.sendUserMessage(SendUserMessageRequest(sessionID: session.id, text: "hello \(index)"))
                        }
                        return session.id
                    }
                }
                // Desks: accept offers, talk, transfer some, close the rest.
                for (deskIndex, agentID) in agentIDs.enumerated() {
                    group.addTask {
                        let client = scenario.server.makeClient()
                        defer { Task { await client.close() } }
                        for round in 0..<60 {
                            let mine = try await client.agents.listAgentSessions(ListAgentSessionsRequest(agentID: agentID)).sessions
                            for session in mine {
                                let request = AgentSessionRequest(agentID: agentID, sessionID: session.id)
                                if session.state == .offered {
                                    _ = try? await client.agents.acceptSession(request)
                                } else if (round + deskIndex) % 4 == 0 {
                                    let target: TransferSessionRequest.Target = deskIndex < 2 ? .toGroupID("tech") : .toAgentID(agentIDs[(deskIndex + 1) % 4])
                                    _ = try? await client.agents.transferSession(
                                        TransferSessionRequest(agentID: agentID, sessionID: session.id, target: target)
                                    )
                                } else {
                                    _ = try? await client.agents.sendAgentMessage(
                                        SendAgentMessageRequest(agentID: agentID, sessionID: session.id, text: "hi")
                                    )
                                    _ = try? await client.agents.closeSession(request)
                                }
                            }
                        }
                        return ""
                    }
                }
                var ids: [String] = []
                for try await id in group where !id.isEmpty { ids.append(id) }
                return ids
            }
            #expect(created.count == users)

            // Invariants, from the public API only.
            var assigned: [String: String] = [:]
            for agentID in agentIDs {
                let sessions = try await scenario.agents.listAgentSessions(ListAgentSessionsRequest(agentID: agentID)).sessions
                #expect(sessions.count <= 2, "agent \(agentID) over capacity: \(sessions.count)")
                for session in sessions {
                    #expect(assigned[session.id] == nil, "session \(session.id) assigned to two agents")
                    assigned[session.id] = agentID
                    #expect(session.agentID == agentID)
                }
            }
            var queued: [(id: String, position: UInt32, group: String)] = []
            for id in created {
                let session = try await scenario.session(id)
                switch session.state {
                case .offered, .active:
                    #expect(assigned[id] == session.agentID, "session \(id) is \(session.state) but not in its agent's list")
                case .queued:
                    let position = try await scenario.sessions.getQueuePosition(GetQueuePositionRequest(sessionID: id))
                    #expect(position.queued)
                    queued.append((id, position.position, session.groupID))
                case .bot, .closed:
                    #expect(assigned[id] == nil)
                default:
                    Issue.record("session \(id) in state \(session.state)")
                }
            }
            // Queue: positions per target are exactly 1...n, and nobody waits while an agent who
            // may serve them has free capacity.
            for (_, entries) in Dictionary(grouping: queued, by: \.group) {
                #expect(entries.map(\.position).sorted() == Array(1...UInt32(entries.count)))
            }
            if !queued.isEmpty {
                for agentID in agentIDs {
                    let agent = try await scenario.agents.getAgent(GetAgentRequest(id: agentID))
                    let load = assigned.values.filter { $0 == agentID }.count
                    let servesAll = queued.contains { $0.group.isEmpty }
                    if agent.status == .online && servesAll {
                        #expect(load == 2, "agent \(agentID) has free capacity while sessions wait")
                    }
                }
            }
        }
    }
}

public import SwitchboardProto
public import SwitchboardRPC
public import SwitchboardServices

/// Every item of a paged list: iterating calls for one page after another (passing each answer's
/// `next_page_token`) until the last, and yields the items in the server's order.
///
/// ```swift
/// for try await session in client.agents.allAgentSessions(agentID: "alice") { print(session.id) }
/// ```
/// Each iteration starts from the first page. A failed call ends the iteration with its `RPCError`.
public struct PagedList<Item: Sendable>: AsyncSequence, Sendable {
    /// The error iteration throws.
    public typealias Failure = RPCError

    /// A page: its items, and the cursor of the next page (`nil` after the last).
    typealias Fetch = @Sendable (_ cursor: String) async throws(RPCError) -> (items: [Item], next: String?)

    private let fetch: Fetch

    /// A list whose pages `fetch` gets; the first page's cursor is the empty string.
    init(_ fetch: @escaping Fetch) {
        self.fetch = fetch
    }

    /// Starts at the first page.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(fetch: fetch)
    }

    /// Iterates over the items, calling for the next page when a page is used up.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private let fetch: Fetch
        private var items: [Item] = []
        private var index = 0
        private var cursor: String? = ""

        init(fetch: @escaping Fetch) {
            self.fetch = fetch
        }

        /// The next item; `nil` after the last page's last item.
        public mutating func next() async throws(RPCError) -> Item? {
            try await next(isolation: nil)
        }

        /// The next item; `nil` after the last page's last item.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(RPCError) -> Item? {
            while index == items.count {
                guard let current = cursor else { return nil }
                let page = try await fetch(current)
                items = page.items
                index = 0
                cursor = page.next
            }
            defer { index += 1 }
            return items[index]
        }
    }
}

/// The token of the next page as a cursor: `nil` when it is empty (the last page).
private func nextCursor(_ nextPageToken: String) -> String? {
    nextPageToken.isEmpty ? nil : nextPageToken
}

extension AgentService.Client {
    /// Every session OFFERED to or ACTIVE with the agent, by id, page after page
    /// (`ListAgentSessions`; `pageSize` 0 is the server's default).
    public func allAgentSessions(agentID: String, pageSize: UInt32 = 0, options: CallOptions = .defaults) -> PagedList<Session> {
        let client = self
        return PagedList { cursor throws(RPCError) in
            let page = try await client.listAgentSessions(
                ListAgentSessionsRequest(agentID: agentID, pageSize: pageSize, pageToken: cursor), options: options
            )
            return (page.sessions, nextCursor(page.nextPageToken))
        }
    }

    /// Every agent, by id, page after page (`ListAgents`).
    public func allAgents(pageSize: UInt32 = 0, options: CallOptions = .defaults) -> PagedList<Agent> {
        let client = self
        return PagedList { cursor throws(RPCError) in
            let page = try await client.listAgents(ListAgentsRequest(pageSize: pageSize, pageToken: cursor), options: options)
            return (page.agents, nextCursor(page.nextPageToken))
        }
    }

    /// Every group, by id, page after page (`ListGroups`).
    public func allGroups(pageSize: UInt32 = 0, options: CallOptions = .defaults) -> PagedList<Group> {
        let client = self
        return PagedList { cursor throws(RPCError) in
            let page = try await client.listGroups(ListGroupsRequest(pageSize: pageSize, pageToken: cursor), options: options)
            return (page.groups, nextCursor(page.nextPageToken))
        }
    }

    /// Every agent of a group, by id, page after page (`ListGroupAgents`).
    public func allGroupAgents(groupID: String, pageSize: UInt32 = 0, options: CallOptions = .defaults) -> PagedList<Agent> {
        let client = self
        return PagedList { cursor throws(RPCError) in
            let page = try await client.listGroupAgents(
                ListGroupAgentsRequest(groupID: groupID, pageSize: pageSize, pageToken: cursor), options: options
            )
            return (page.agents, nextCursor(page.nextPageToken))
        }
    }
}

extension SessionService.Client {
    /// Every group a user may choose from, by id, page after page (`ListGroups`).
    public func allGroups(pageSize: UInt32 = 0, options: CallOptions = .defaults) -> PagedList<SessionGroup> {
        let client = self
        return PagedList { cursor throws(RPCError) in
            let page = try await client.listGroups(ListSessionGroupsRequest(pageSize: pageSize, pageToken: cursor), options: options)
            return (page.groups, nextCursor(page.nextPageToken))
        }
    }

    /// Every message of a session's transcript after sequence `after`, in order, answer after answer
    /// (`ListMessages` while `more`; `limit` 0 is the server's default).
    public func allMessages(sessionID: String, after: Int64 = 0, limit: UInt32 = 0, options: CallOptions = .defaults)
        -> PagedList<Message>
    {
        let client = self
        return PagedList { cursor throws(RPCError) in
            let last = cursor.isEmpty ? after : Int64(cursor) ?? after
            let page = try await client.listMessages(
                ListMessagesRequest(sessionID: sessionID, afterSequence: last, limit: limit), options: options
            )
            let next = page.more ? page.messages.last.map { String($0.sequence) } : nil
            return (page.messages, next)
        }
    }
}

extension TenantService.Client {
    /// Every tenant, by id, page after page (`ListTenants`; without usage).
    public func allTenants(pageSize: UInt32 = 0, options: CallOptions = .defaults) -> PagedList<Tenant> {
        let client = self
        return PagedList { cursor throws(RPCError) in
            let page = try await client.listTenants(ListTenantsRequest(pageSize: pageSize, pageToken: cursor), options: options)
            return (page.tenants, nextCursor(page.nextPageToken))
        }
    }
}

// Package switchboardpb mirrors the Switchboard messages the Go benchmark programs send and
// receive, as gogo/protobuf structs (Debian's golang-github-gogo-protobuf-dev, GOPATH mode): only
// the fields the programs use; a decoder skips the others.
package switchboardpb

import "github.com/gogo/protobuf/proto"

// HealthCheckRequest mirrors switchboard.v1.HealthCheckRequest.
type HealthCheckRequest struct {
	Service string `protobuf:"bytes,1,opt,name=service,proto3" json:"service,omitempty"`
}

func (m *HealthCheckRequest) Reset()         { *m = HealthCheckRequest{} }
func (m *HealthCheckRequest) String() string { return proto.CompactTextString(m) }
func (*HealthCheckRequest) ProtoMessage()    {}

// HealthCheckResponse mirrors switchboard.v1.HealthCheckResponse.
type HealthCheckResponse struct {
	Status        int32  `protobuf:"varint,1,opt,name=status,proto3" json:"status,omitempty"`
	ServerVersion string `protobuf:"bytes,2,opt,name=server_version,json=serverVersion,proto3" json:"server_version,omitempty"`
}

func (m *HealthCheckResponse) Reset()         { *m = HealthCheckResponse{} }
func (m *HealthCheckResponse) String() string { return proto.CompactTextString(m) }
func (*HealthCheckResponse) ProtoMessage()    {}

// EchoRequest mirrors switchboard.testing.v1.EchoRequest (the fields the benchmarks use).
type EchoRequest struct {
	Payload []byte `protobuf:"bytes,1,opt,name=payload,proto3" json:"payload,omitempty"`
	Text    string `protobuf:"bytes,2,opt,name=text,proto3" json:"text,omitempty"`
}

func (m *EchoRequest) Reset()         { *m = EchoRequest{} }
func (m *EchoRequest) String() string { return proto.CompactTextString(m) }
func (*EchoRequest) ProtoMessage()    {}

// EchoResponse mirrors switchboard.testing.v1.EchoResponse, which has EchoRequest's first fields.
type EchoResponse = EchoRequest

// CreateSessionRequest mirrors switchboard.v1.CreateSessionRequest (the field used).
type CreateSessionRequest struct {
	UserID string `protobuf:"bytes,1,opt,name=user_id,json=userId,proto3" json:"user_id,omitempty"`
}

func (m *CreateSessionRequest) Reset()         { *m = CreateSessionRequest{} }
func (m *CreateSessionRequest) String() string { return proto.CompactTextString(m) }
func (*CreateSessionRequest) ProtoMessage()    {}

// RequestAgentRequest mirrors switchboard.v1.RequestAgentRequest.
type RequestAgentRequest struct {
	SessionID string `protobuf:"bytes,1,opt,name=session_id,json=sessionId,proto3" json:"session_id,omitempty"`
}

func (m *RequestAgentRequest) Reset()         { *m = RequestAgentRequest{} }
func (m *RequestAgentRequest) String() string { return proto.CompactTextString(m) }
func (*RequestAgentRequest) ProtoMessage()    {}

// SendUserMessageRequest mirrors switchboard.v1.SendUserMessageRequest.
type SendUserMessageRequest struct {
	SessionID string `protobuf:"bytes,1,opt,name=session_id,json=sessionId,proto3" json:"session_id,omitempty"`
	Text      string `protobuf:"bytes,2,opt,name=text,proto3" json:"text,omitempty"`
}

func (m *SendUserMessageRequest) Reset()         { *m = SendUserMessageRequest{} }
func (m *SendUserMessageRequest) String() string { return proto.CompactTextString(m) }
func (*SendUserMessageRequest) ProtoMessage()    {}

// SendAgentMessageRequest mirrors switchboard.v1.SendAgentMessageRequest.
type SendAgentMessageRequest struct {
	AgentID   string `protobuf:"bytes,1,opt,name=agent_id,json=agentId,proto3" json:"agent_id,omitempty"`
	SessionID string `protobuf:"bytes,2,opt,name=session_id,json=sessionId,proto3" json:"session_id,omitempty"`
	Text      string `protobuf:"bytes,3,opt,name=text,proto3" json:"text,omitempty"`
}

func (m *SendAgentMessageRequest) Reset()         { *m = SendAgentMessageRequest{} }
func (m *SendAgentMessageRequest) String() string { return proto.CompactTextString(m) }
func (*SendAgentMessageRequest) ProtoMessage()    {}

// AgentSessionRequest mirrors switchboard.v1.AgentSessionRequest.
type AgentSessionRequest struct {
	AgentID   string `protobuf:"bytes,1,opt,name=agent_id,json=agentId,proto3" json:"agent_id,omitempty"`
	SessionID string `protobuf:"bytes,2,opt,name=session_id,json=sessionId,proto3" json:"session_id,omitempty"`
}

func (m *AgentSessionRequest) Reset()         { *m = AgentSessionRequest{} }
func (m *AgentSessionRequest) String() string { return proto.CompactTextString(m) }
func (*AgentSessionRequest) ProtoMessage()    {}

// Session mirrors the fields of switchboard.v1.Session the lifecycle reads; the others are skipped.
type Session struct {
	ID      string `protobuf:"bytes,1,opt,name=id,proto3" json:"id,omitempty"`
	State   int32  `protobuf:"varint,5,opt,name=state,proto3" json:"state,omitempty"`
	AgentID string `protobuf:"bytes,6,opt,name=agent_id,json=agentId,proto3" json:"agent_id,omitempty"`
}

func (m *Session) Reset()         { *m = Session{} }
func (m *Session) String() string { return proto.CompactTextString(m) }
func (*Session) ProtoMessage()    {}

// Ignored takes any answer whose content the load does not need.
type Ignored struct{}

func (m *Ignored) Reset()         { *m = Ignored{} }
func (m *Ignored) String() string { return "" }
func (*Ignored) ProtoMessage()    {}

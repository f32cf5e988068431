// ttrpc-echo-server serves switchboard.testing.v1.EchoService/Echo with containerd's Go ttrpc
// (1.1.1): the peer the RPC benchmark compares Switchboard's server with, doing the same work
// (decode the request, answer its payload and text). It also answers switchboard.v1.Health/Check
// (SERVING and a version), so that a bare call can be compared on both servers.
// Usage: ttrpc-echo-server HOST:PORT
//
//	GO111MODULE=off GOPATH=$PWD/Benchmarks/go:/usr/share/gocode go build ttrpc-echo-server
package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/containerd/ttrpc"
	"github.com/gogo/protobuf/proto"
)

// EchoRequest mirrors switchboard.testing.v1.EchoRequest (fields used by the benchmark).
type EchoRequest struct {
	Payload []byte `protobuf:"bytes,1,opt,name=payload,proto3" json:"payload,omitempty"`
	Text    string `protobuf:"bytes,2,opt,name=text,proto3" json:"text,omitempty"`
}

func (m *EchoRequest) Reset()         { *m = EchoRequest{} }
func (m *EchoRequest) String() string { return proto.CompactTextString(m) }
func (*EchoRequest) ProtoMessage()    {}

// EchoResponse mirrors switchboard.testing.v1.EchoResponse.
type EchoResponse struct {
	Payload []byte `protobuf:"bytes,1,opt,name=payload,proto3" json:"payload,omitempty"`
	Text    string `protobuf:"bytes,2,opt,name=text,proto3" json:"text,omitempty"`
}

func (m *EchoResponse) Reset()         { *m = EchoResponse{} }
func (m *EchoResponse) String() string { return proto.CompactTextString(m) }
func (*EchoResponse) ProtoMessage()    {}

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

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ttrpc-echo-server HOST:PORT")
		os.Exit(2)
	}
	server, err := ttrpc.NewServer()
	if err != nil {
		panic(err)
	}
	server.Register("switchboard.testing.v1.EchoService", map[string]ttrpc.Method{
		"Echo": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var req EchoRequest
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			return &EchoResponse{Payload: req.Payload, Text: req.Text}, nil
		},
	})
	server.Register("switchboard.v1.Health", map[string]ttrpc.Method{
		"Check": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var req HealthCheckRequest
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			return &HealthCheckResponse{Status: 1, ServerVersion: "go-ttrpc-1.1.1"}, nil
		},
	})
	listener, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		panic(err)
	}
	fmt.Printf("READY %s\n", listener.Addr())
	if err := server.Serve(context.Background(), listener); err != nil {
		panic(err)
	}
}

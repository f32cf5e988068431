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

	pb "switchboardpb"
)

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
			var req pb.EchoRequest
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			return &pb.EchoResponse{Payload: req.Payload, Text: req.Text}, nil
		},
	})
	server.Register("switchboard.v1.Health", map[string]ttrpc.Method{
		"Check": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var req pb.HealthCheckRequest
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			return &pb.HealthCheckResponse{Status: 1, ServerVersion: "go-ttrpc-1.1.1"}, nil
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

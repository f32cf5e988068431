// switchboard-interop calls a Switchboard server with containerd's Go ttrpc client (1.1.1) and
// checks the answers: the interop test of the RPC layer. Usage: switchboard-interop HOST:PORT
//
// Build in GOPATH mode against Debian's golang-github-containerd-ttrpc-dev:
//
//	GO111MODULE=off GOPATH=$PWD/Tests/Interop/go:/usr/share/gocode go build switchboard-interop
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/gogo/protobuf/proto"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// HealthCheckRequest mirrors switchboard.v1.HealthCheckRequest (Protos/switchboard/v1/health.proto).
type HealthCheckRequest struct {
	Service string `protobuf:"bytes,1,opt,name=service,proto3" json:"service,omitempty"`
}

func (m *HealthCheckRequest) Reset()         { *m = HealthCheckRequest{} }
func (m *HealthCheckRequest) String() string { return proto.CompactTextString(m) }
func (*HealthCheckRequest) ProtoMessage()    {}

// rawHealthCheckRequest has HealthCheckRequest's wire shape with bytes for the string, so the
// client can send invalid UTF-8 (gogo refuses to marshal it into a proto3 string).
type rawHealthCheckRequest struct {
	Service []byte `protobuf:"bytes,1,opt,name=service,proto3" json:"service,omitempty"`
}

func (m *rawHealthCheckRequest) Reset()         { *m = rawHealthCheckRequest{} }
func (m *rawHealthCheckRequest) String() string { return proto.CompactTextString(m) }
func (*rawHealthCheckRequest) ProtoMessage()    {}

// HealthCheckResponse mirrors switchboard.v1.HealthCheckResponse.
type HealthCheckResponse struct {
	Status        int32  `protobuf:"varint,1,opt,name=status,proto3" json:"status,omitempty"`
	ServerVersion string `protobuf:"bytes,2,opt,name=server_version,json=serverVersion,proto3" json:"server_version,omitempty"`
}

func (m *HealthCheckResponse) Reset()         { *m = HealthCheckResponse{} }
func (m *HealthCheckResponse) String() string { return proto.CompactTextString(m) }
func (*HealthCheckResponse) ProtoMessage()    {}

const healthService = "switchboard.v1.Health"

var failures []string

func check(name string, ok bool, detail string) {
	if ok {
		fmt.Printf("ok   %s\n", name)
		return
	}
	fmt.Printf("FAIL %s: %s\n", name, detail)
	failures = append(failures, name)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: switchboard-interop HOST:PORT")
		os.Exit(2)
	}
	conn, err := net.DialTimeout("tcp", os.Args[1], 5*time.Second)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dial: %v\n", err)
		os.Exit(1)
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Health/Check answers SERVING (1) with a version.
	var resp HealthCheckResponse
	err = client.Call(ctx, healthService, "Check", &HealthCheckRequest{}, &resp)
	check("Health/Check", err == nil && resp.Status == 1 && resp.ServerVersion != "",
		fmt.Sprintf("err=%v resp=%+v", err, resp))

	// With metadata and a deadline (timeout_nano), as containerd sends them.
	mdCtx := ttrpc.WithMetadata(ctx, ttrpc.MD{"request-id": []string{"interop-1"}})
	resp = HealthCheckResponse{}
	err = client.Call(mdCtx, healthService, "Check", &HealthCheckRequest{Service: healthService}, &resp)
	check("Health/Check with metadata and deadline", err == nil && resp.Status == 1, fmt.Sprintf("err=%v", err))

	// An unknown method is UNIMPLEMENTED, with the code intact.
	err = client.Call(ctx, healthService, "Explode", &HealthCheckRequest{}, &resp)
	check("unknown method is UNIMPLEMENTED", status.Code(err) == codes.Unimplemented &&
		strings.Contains(status.Convert(err).Message(), "Explode"), fmt.Sprintf("err=%v", err))

	// An unknown service is UNIMPLEMENTED.
	err = client.Call(ctx, "switchboard.v9.Nothing", "Check", &HealthCheckRequest{}, &resp)
	check("unknown service is UNIMPLEMENTED", status.Code(err) == codes.Unimplemented, fmt.Sprintf("err=%v", err))

	// A domain error keeps its code and message.
	err = client.Call(ctx, healthService, "Check", &HealthCheckRequest{Service: "nope.Service"}, &resp)
	check("unknown health service is NOT_FOUND naming the field", status.Code(err) == codes.NotFound &&
		strings.Contains(status.Convert(err).Message(), "'service'"), fmt.Sprintf("err=%v", err))

	// Invalid UTF-8 in a string field is INVALID_ARGUMENT, not a mangled value.
	err = client.Call(ctx, healthService, "Check", &rawHealthCheckRequest{Service: []byte("bad\xff")}, &resp)
	check("invalid UTF-8 is INVALID_ARGUMENT", status.Code(err) == codes.InvalidArgument, fmt.Sprintf("err=%v", err))

	// Many concurrent calls multiplexed on the one connection.
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r HealthCheckResponse
			if err := client.Call(ctx, healthService, "Check", &HealthCheckRequest{}, &r); err != nil || r.Status != 1 {
				mu.Lock()
				bad++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	check("200 concurrent calls on one connection", bad == 0, fmt.Sprintf("%d failed", bad))

	if len(failures) > 0 {
		fmt.Printf("interop: %d failed\n", len(failures))
		os.Exit(1)
	}
	fmt.Println("interop: all checks passed")
}

// ttrpc-load drives a ttrpc server with containerd's Go ttrpc client (1.1.1), which writes each
// request with its own syscall, as every Go ttrpc program does: the load generator the server's
// CPU per call is measured with (switchboard-bench go). It prints one JSON object with the calls
// completed in the measured window and their latency.
//
//	ttrpc-load check ADDR [flags]      switchboard.v1.Health/Check (a bare call)
//	ttrpc-load echo ADDR [flags]       switchboard.testing.v1.EchoService/Echo
//	ttrpc-load lifecycle ADDR [flags]  create, request agent, agent message, user message, close
//
// With --tenant ID, every call carries metadata switchboard-tenant: ID (the tenant it acts in).
//
// Build in GOPATH mode against Debian's golang-github-containerd-ttrpc-dev:
//
//	GO111MODULE=off GOPATH=$PWD/Benchmarks/go:/usr/share/gocode go build ttrpc-load
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/ttrpc"

	pb "switchboardpb"
)

const sessionActive = 4 // switchboard.v1.SessionState SESSION_STATE_ACTIVE

// Result is what the load generator prints.
type Result struct {
	Mode     string  `json:"mode"`
	InFlight int     `json:"in_flight"`
	Seconds  float64 `json:"seconds"`
	Units    int64   `json:"units"`
	// Completed counts every unit that succeeded, warm-up and the units finishing after the
	// window included: each worker finishes the unit it is in, so it is at least in_flight
	// when the server answers.
	Completed int64  `json:"completed"`
	Calls     int64  `json:"calls"`
	Errors    int64  `json:"errors"`
	P50       int64  `json:"p50_ns"`
	P90       int64  `json:"p90_ns"`
	P99       int64  `json:"p99_ns"`
	P999      int64  `json:"p999_ns"`
	Error     string `json:"first_error,omitempty"`
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: ttrpc-load check|echo|lifecycle HOST:PORT [--in-flight N] [--warmup S] [--duration S] [--payload BYTES] [--tenant ID]")
		os.Exit(2)
	}
	mode, address := os.Args[1], os.Args[2]
	flags := flag.NewFlagSet(mode, flag.ExitOnError)
	inFlight := flags.Int("in-flight", 64, "calls (or lifecycles) in flight on the one connection")
	warmup := flags.Float64("warmup", 2, "seconds before measuring")
	duration := flags.Float64("duration", 5, "measured seconds")
	payload := flags.Int("payload", 100, "echo payload bytes")
	tenant := flags.String("tenant", "", "the tenant every call acts in (metadata switchboard-tenant); none: the server's default")
	ready := flags.Bool("ready-line", false, "print READY after the warm-up and wait for a line on standard input before measuring (the parent samples the server's CPU between)")
	flags.Parse(os.Args[3:])

	conn, err := net.DialTimeout("tcp", address, 5*time.Second)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dial %s: %v\n", address, err)
		os.Exit(1)
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()

	var unit func(ctx context.Context, worker, round int) (int, error)
	switch mode {
	case "check":
		unit = func(ctx context.Context, _, _ int) (int, error) {
			var resp pb.HealthCheckResponse
			err := client.Call(ctx, "switchboard.v1.Health", "Check", &pb.HealthCheckRequest{}, &resp)
			if err == nil && resp.Status != 1 {
				err = fmt.Errorf("health status %d", resp.Status)
			}
			return 1, err
		}
	case "echo":
		request := &pb.EchoRequest{Payload: make([]byte, *payload), Text: "bench"}
		unit = func(ctx context.Context, _, _ int) (int, error) {
			var resp pb.EchoRequest
			err := client.Call(ctx, "switchboard.testing.v1.EchoService", "Echo", request, &resp)
			if err == nil && len(resp.Payload) != *payload {
				err = fmt.Errorf("echo answered %d bytes", len(resp.Payload))
			}
			return 1, err
		}
	case "lifecycle":
		unit = func(ctx context.Context, worker, round int) (int, error) {
			var session pb.Session
			if err := client.Call(ctx, "switchboard.v1.SessionService", "CreateSession",
				&pb.CreateSessionRequest{UserID: fmt.Sprintf("user-%d-%d", worker, round)}, &session); err != nil {
				return 1, err
			}
			var routed pb.Session
			if err := client.Call(ctx, "switchboard.v1.SessionService", "RequestAgent",
				&pb.RequestAgentRequest{SessionID: session.ID}, &routed); err != nil {
				return 2, err
			}
			if routed.State != sessionActive {
				return 2, fmt.Errorf("session %s not assigned: state %d", session.ID, routed.State)
			}
			if err := client.Call(ctx, "switchboard.v1.AgentService", "SendAgentMessage",
				&pb.SendAgentMessageRequest{AgentID: routed.AgentID, SessionID: session.ID, Text: "Hello, how can I help?"}, &pb.Ignored{}); err != nil {
				return 3, err
			}
			if err := client.Call(ctx, "switchboard.v1.SessionService", "SendUserMessage",
				&pb.SendUserMessageRequest{SessionID: session.ID, Text: "My order is late"}, &pb.Ignored{}); err != nil {
				return 4, err
			}
			var closed pb.Session
			err := client.Call(ctx, "switchboard.v1.AgentService", "CloseSession",
				&pb.AgentSessionRequest{AgentID: routed.AgentID, SessionID: session.ID}, &closed)
			return 5, err
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %q: check, echo or lifecycle\n", mode)
		os.Exit(2)
	}

	var measuring, stopped atomic.Bool
	var calls, errors, completed int64
	var firstError atomic.Value
	latencies := make([][]int64, *inFlight)
	var wg sync.WaitGroup
	ctx := context.Background()
	if *tenant != "" {
		// Read-only once made: every call copies it into its request.
		md := ttrpc.MD{}
		md.Set("switchboard-tenant", *tenant)
		ctx = ttrpc.WithMetadata(ctx, md)
	}
	for worker := 0; worker < *inFlight; worker++ {
		wg.Add(1)
		go func(worker int) {
			defer wg.Done()
			for round := 0; !stopped.Load(); round++ {
				counted := measuring.Load()
				start := time.Now()
				n, err := unit(ctx, worker, round)
				elapsed := time.Since(start)
				if err == nil {
					atomic.AddInt64(&completed, 1)
				}
				if !counted || !measuring.Load() {
					if err != nil {
						firstError.CompareAndSwap(nil, err.Error())
						atomic.AddInt64(&errors, 1)
						time.Sleep(time.Millisecond)
					}
					continue
				}
				atomic.AddInt64(&calls, int64(n))
				if err != nil {
					firstError.CompareAndSwap(nil, err.Error())
					atomic.AddInt64(&errors, 1)
					continue
				}
				latencies[worker] = append(latencies[worker], elapsed.Nanoseconds())
			}
		}(worker)
	}
	time.Sleep(time.Duration(*warmup * float64(time.Second)))
	if *ready {
		fmt.Println("READY")
		var line string
		fmt.Scanln(&line)
	}
	measuring.Store(true)
	start := time.Now()
	time.Sleep(time.Duration(*duration * float64(time.Second)))
	measuring.Store(false)
	seconds := time.Since(start).Seconds()
	if *ready {
		fmt.Println("DONE")
	}
	stopped.Store(true)
	wg.Wait()

	var all []int64
	for _, l := range latencies {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	at := func(p float64) int64 {
		if len(all) == 0 {
			return 0
		}
		i := int(p / 100 * float64(len(all)))
		if i >= len(all) {
			i = len(all) - 1
		}
		return all[i]
	}
	result := Result{Mode: mode, InFlight: *inFlight, Seconds: seconds, Units: int64(len(all)), Completed: completed, Calls: calls,
		Errors: errors, P50: at(50), P90: at(90), P99: at(99), P999: at(99.9)}
	if e, ok := firstError.Load().(string); ok {
		result.Error = e
	}
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}

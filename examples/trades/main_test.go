package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/marketwire/marketwire/examples/internal/connect"
	"github.com/marketwire/marketwire/runtime"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFor runs the example's main logic with -for: it prints the trades of
// every symbol, stops after that long, closes everything (goleak checks)
// and logs the closing line.
func TestFor(t *testing.T) {
	var out, logs syncBuffer
	log.SetOutput(&logs)
	defer log.SetOutput(os.Stderr)
	begin := time.Now()
	err := connect.MainArgs("spot", []string{"-for", "700ms", "-symbols", "BTCUSDT,ETHUSDT"}, func(ctx context.Context, c *runtime.Conn) error {
		return subscribe(ctx, c, strings.Split(*symbols, ","), &out)
	})
	took := time.Since(begin)
	if err != nil {
		t.Fatal(err)
	}
	if took < 700*time.Millisecond || took > 5*time.Second {
		t.Errorf("ran for %v with -for 700ms", took)
	}
	for _, sym := range []string{"BTCUSDT", "ETHUSDT"} {
		if !strings.Contains(out.String(), " "+sym+" ") {
			t.Errorf("no trade of %s:\n%s", sym, out.String())
		}
	}
	if !strings.Contains(logs.String(), "stopped (after -for 700ms); connection closed") {
		t.Errorf("no closing line:\n%s", logs.String())
	}
}

// TestSignals builds the example and stops it with SIGTERM and with SIGINT
// while it runs without -for: it exits with status 0 after its closing
// line.
func TestSignals(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the example with")
	}
	bin := filepath.Join(t.TempDir(), "trades")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "-symbols", "BTCUSDT")
			var stderr syncBuffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			lines := make(chan string, 100)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					select {
					case lines <- sc.Text():
					default:
					}
				}
				exited <- cmd.Wait()
			}()
			select {
			case line := <-lines:
				if !strings.Contains(line, "BTCUSDT") {
					t.Errorf("first line %q", line)
				}
			case err := <-exited:
				t.Fatalf("exited before printing a trade: %v\n%s", err, stderr.String())
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("no trade printed:\n%s", stderr.String())
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				var exit *exec.ExitError
				if errors.As(err, &exit) || err != nil {
					t.Fatalf("after %v: %v\n%s", sig, err, stderr.String())
				}
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("still running 10 s after %v:\n%s", sig, stderr.String())
			}
			if !strings.Contains(stderr.String(), "stopped (") || !strings.Contains(stderr.String(), "); connection closed") {
				t.Errorf("no closing line after %v:\n%s", sig, stderr.String())
			}
			if want := map[syscall.Signal]string{syscall.SIGTERM: "terminated", syscall.SIGINT: "interrupt"}[sig]; !strings.Contains(stderr.String(), want) {
				t.Errorf("the closing line does not name the signal (%q):\n%s", want, stderr.String())
			}
		})
	}
}

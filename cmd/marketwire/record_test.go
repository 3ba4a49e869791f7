package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketwire/marketwire/record"
)

func TestBadInputFiles(t *testing.T) {
	dir := t.TempDir()
	notRec := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notRec, []byte("not a recording\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkBad(t, []badCase{
		{[]string{"replay", filepath.Join(dir, "missing.mwr")}, "no such file"},
		{[]string{"replay", notRec}, "not a marketwire recording"},
		{[]string{"replay", "-speed", "fast", notRec}, `-speed "fast"`},
		{[]string{"record", "-o", filepath.Join(dir, "x.mwr"), "btcusdt@depth@7ms"}, `parameter speed: "7ms"`},
		{[]string{"record", "-o", filepath.Join(dir, "no", "such", "dir.mwr"), "btcusdt@aggTrade"}, "no such file"},
		{[]string{"record", "btcusdt@aggTrade"}, "-o FILE is required"},
		{[]string{"record", "-o", filepath.Join(dir, "x.mwr"), "-rotate-size", "12Q", "btcusdt@aggTrade"}, `"12Q" is not a size`},
	})
}

// want returns the JSON lines the recording holds, per stream, as
// record.Play decodes them.
func want(t *testing.T, file string) map[string][]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	err = record.Play(f, func(ev record.Event) error {
		out[ev.Stream] = append(out[ev.Stream], string(appendJSONLine(nil, ev.Stream, ev.Payload)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// byStream splits JSON lines by their stream.
func byStream(t *testing.T, out string) map[string][]string {
	t.Helper()
	m := map[string][]string{}
	for _, l := range lines(out) {
		var env struct{ Stream string }
		if err := json.Unmarshal([]byte(l), &env); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		m[env.Stream] = append(m[env.Stream], l+"\n")
	}
	return m
}

// TestRecordReplayTail records streams from the simulator, serves the
// recording with replay and tails it: the JSON lines are the recorded
// events, byte for byte, for each of the three simulators.
func TestRecordReplayTail(t *testing.T) {
	for _, tc := range []struct {
		market  string
		streams []string
		replay  []string // flags
		times   int      // how often the recording is played
	}{
		{"spot", []string{"btcusdt@aggTrade", "btcusdt@depth@100ms"}, []string{"-speed", "4x", "-loop"}, 2},
		{"usdm", []string{"btcusdt@aggTrade", "btcusdt@depth@100ms"}, []string{"-speed", "max"}, 1}, // two routes
		{"dex", []string{"BNB_BTCB-1DE@trades", "BNB_BTCB-1DE@marketDiff"}, []string{"-speed", "max"}, 1},
		{"zdex", []string{"ticker:BTCUSDT", "orderbook:BTCUSDT"}, []string{"-speed", "max"}, 1},
	} {
		t.Run(tc.market, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "rec.mwr")
			const n = 12
			args := append([]string{"record", "-market", tc.market, "-o", file, "-n", fmt.Sprint(n)}, tc.streams...)
			_, errOut, code := mw(t, args...)
			if code != 0 || !strings.Contains(errOut, fmt.Sprintf("recorded %d streams: %d messages", len(tc.streams), n)) {
				t.Fatalf("record: status %d, stderr:\n%s", code, errOut)
			}
			exp := want(t, file)
			total := 0
			for _, s := range tc.streams {
				total += len(exp[s])
			}
			if total != n {
				t.Fatalf("Play found %d events, recorded %d: %v", total, n, exp)
			}
			url := background(t, append(append([]string{"replay", "-addr", "127.0.0.1:0"}, tc.replay...), file)...)
			args = append([]string{"tail", "-market", tc.market, "-endpoint", url, "-json", "-n", fmt.Sprint(n * tc.times)}, tc.streams...)
			if tc.market == "zdex" {
				args = append(args, "-token", "marketwire-replay")
			}
			out, errOut, code := mw(t, args...)
			if code != 0 {
				t.Fatalf("tail: status %d, stderr:\n%s", code, errOut)
			}
			// Handlers of different streams run on their own goroutines, so
			// with -loop the -n cut may fall at another point in each
			// stream: each must be a prefix of the recording played again
			// and again, past its first pass.
			got := byStream(t, out)
			for _, s := range tc.streams {
				var w []string
				for range tc.times + 1 {
					w = append(w, exp[s]...)
				}
				min := len(exp[s])
				if tc.times > 1 {
					min++
				}
				if len(got[s]) < min || len(got[s]) > len(w) || strings.Join(got[s], "") != strings.Join(w[:len(got[s])], "") {
					t.Errorf("stream %s: replayed %d events, recorded %d, played %d times:\n%s\nwant\n%s",
						s, len(got[s]), len(exp[s]), tc.times, strings.Join(got[s], ""), strings.Join(w, ""))
				}
			}
		})
	}
}

func TestRecordRotation(t *testing.T) {
	dir := t.TempDir()
	_, errOut, code := mw(t, "record", "-o", filepath.Join(dir, "r.mwr"), "-rotate-size", "1", "-for", "2500ms", "btcusdt@aggTrade")
	if code != 0 {
		t.Fatalf("status %d: %s", code, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "r-*.mwr"))
	if len(files) < 2 {
		t.Fatalf("files %v, want one per second", files)
	}
	var frames int
	for _, f := range files {
		frames += len(want(t, f)["btcusdt@aggTrade"])
	}
	if !strings.Contains(errOut, fmt.Sprintf(": %d messages", frames)) {
		t.Errorf("the files hold %d frames; summary: %s", frames, errOut)
	}
	if _, _, err := readHeaders(files); err != nil {
		t.Error(err)
	}
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// build builds the command once.
func build(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "marketwire-test")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "marketwire")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// TestRecordKilled kills a recorder with SIGKILL: the file is readable and
// lacks at most the frames of about the last second.
func TestRecordKilled(t *testing.T) {
	bin := build(t)
	file := filepath.Join(t.TempDir(), "killed.mwr")
	cmd := exec.Command(bin, "record", "-o", file, "btcusdt@aggTrade", "btcusdt@bookTicker")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the first blocks, then kill it.
	deadline := time.Now().Add(15 * time.Second)
	for {
		fi, err := os.Stat(file)
		if err == nil && fi.Size() > 2000 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no blocks written; stderr:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1200 * time.Millisecond)
	killed := time.Now()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var last time.Time
	n := 0
	err = record.Play(f, func(ev record.Event) error {
		n++
		last = ev.Time
		return nil
	})
	if err != nil && !errors.Is(err, record.ErrTruncated) {
		t.Fatalf("after %d frames: %v", n, err)
	}
	// A block is written every second; allow for a loaded machine.
	if lost := killed.Sub(last); n == 0 || lost > 2500*time.Millisecond {
		t.Errorf("read %d frames, the last %v before the kill", n, lost)
	}

	// And the binary's exit status for bad input.
	out, err := exec.Command(bin, "tail", "btcusdt@kline_7m").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || strings.Count(string(out), "\n") != 1 {
		t.Errorf("bad parameter: %v, output %q; want status 2 and one line", err, out)
	}
}

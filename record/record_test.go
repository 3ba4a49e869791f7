package record

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/zdex"
)

func write(t *testing.T, h Header, frames []Frame) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		if err := w.Write(f); err != nil {
			t.Fatal(err)
		}
		if i%3 == 2 { // several blocks
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(frames[0]); err == nil {
		t.Error("Write after Close succeeded")
	}
	if got := w.Stats().Written; got != int64(buf.Len()) {
		t.Errorf("Stats.Written = %d, wrote %d", got, buf.Len())
	}
	return buf.Bytes()
}

func readAll(t *testing.T, b []byte) ([]Frame, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []Frame
	for {
		f, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, f)
	}
}

func testFrames(n int) []Frame {
	t0 := time.Unix(1700000000, 123456789)
	var out []Frame
	for i := range n {
		out = append(out, Frame{
			Time:   t0.Add(time.Duration(i) * time.Millisecond),
			Stream: fmt.Sprintf("s%d@trade", i%2),
			Data:   []byte(fmt.Sprintf(`{"stream":"s%d@trade","data":{"i":%d}}`, i%2, i)),
		})
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	h := Header{Market: "spot", Streams: []string{"s0@trade", "s1@trade"}, Source: "test", Created: time.Unix(1700000000, 0).UTC()}
	frames := testFrames(10)
	b := write(t, h, frames)
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Header(); got.Market != h.Market || !got.Created.Equal(h.Created) || strings.Join(got.Streams, ",") != "s0@trade,s1@trade" {
		t.Errorf("header = %+v, want %+v", got, h)
	}
	got, err := readAll(t, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(frames) {
		t.Fatalf("read %d frames, wrote %d", len(got), len(frames))
	}
	for i := range got {
		if !got[i].Time.Equal(frames[i].Time) || got[i].Stream != frames[i].Stream || !bytes.Equal(got[i].Data, frames[i].Data) {
			t.Errorf("frame %d = %+v, want %+v", i, got[i], frames[i])
		}
	}
}

func TestTornLastBlock(t *testing.T) {
	frames := testFrames(9) // three blocks of three
	b := write(t, Header{Market: "spot"}, frames)
	for cut := 1; cut < 12; cut++ {
		got, err := readAll(t, b[:len(b)-cut])
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut %d: err = %v, want ErrTruncated", cut, err)
		}
		if len(got) != 6 {
			t.Errorf("cut %d: read %d frames, want the 6 of the whole blocks", cut, len(got))
		}
	}
}

func TestBadInput(t *testing.T) {
	good := write(t, Header{Market: "spot"}, testFrames(3))
	newer := bytes.Clone(good)
	newer[len(magic)+1] = 2
	damaged := bytes.Clone(good)
	damaged[len(damaged)-5] ^= 0xff // inside the zstd frame (its checksum)
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, ErrNotRecording.Error()},
		{"text", []byte("hello, this is not a recording"), ErrNotRecording.Error()},
		{"newer", newer, "version 2"},
		{"damaged", damaged, "damaged block"},
	} {
		_, err := readAll(t, tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestConcurrentWriters(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Market: "spot"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				data := bytes.Repeat([]byte{'a' + byte(g)}, 1000+i)
				if err := w.Write(Frame{Time: time.Now(), Stream: fmt.Sprint(g), Data: data}); err != nil {
					t.Error(err)
					return
				}
				if i%100 == 0 {
					_ = w.Flush()
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	next := map[string]int{}
	for _, f := range got {
		if want := 1000 + next[f.Stream]; len(f.Data) != want {
			t.Fatalf("stream %s: frame of %d bytes, want %d (order or content lost)", f.Stream, len(f.Data), want)
		}
		next[f.Stream]++
	}
	if len(got) != 2000 {
		t.Errorf("read %d frames, want 2000", len(got))
	}
}

// envelope wraps a payload as a combined-stream frame.
func envelope(stream string, data []byte) []byte {
	return []byte(`{"stream":"` + stream + `","data":` + string(data) + `}`)
}

func TestPlay(t *testing.T) {
	fx := generated.Fixtures("spot", "aggTrade")
	if len(fx) == 0 {
		t.Fatal("no spot aggTrade fixtures")
	}
	var frames []Frame
	for i, f := range fx {
		frames = append(frames, Frame{Time: time.Unix(int64(i), 0), Stream: f.Stream, Data: envelope(f.Stream, f.Data)})
	}
	b := write(t, Header{Market: "spot"}, frames)
	i := 0
	err := Play(bytes.NewReader(b), func(ev Event) error {
		want, err := spot.Decode(fx[i].Stream, fx[i].Data)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := ev.Payload.(*spot.AggTradeEvent); !ok {
			t.Errorf("frame %d: payload %T, want *spot.AggTradeEvent", i, ev.Payload)
		}
		if got, want := string(ev.Payload.AppendJSON(nil)), string(want.AppendJSON(nil)); got != want || ev.Stream != fx[i].Stream {
			t.Errorf("frame %d: %s %s, want %s %s", i, ev.Stream, got, fx[i].Stream, want)
		}
		i++
		return nil
	})
	if err != nil || i != len(fx) {
		t.Fatalf("Play: %v after %d of %d events", err, i, len(fx))
	}
	stop := errors.New("stop")
	if err := Play(bytes.NewReader(b), func(Event) error { return stop }); err != stop {
		t.Errorf("Play returned %v, want the handler's error", err)
	}
}

// TestPlayWhole plays a stream whose decoder takes the whole frame (the
// ZDEX account channel).
func TestPlayWhole(t *testing.T) {
	fx := generated.GroupFixtures("zdex", "account")
	var frames []Frame
	for i, f := range fx {
		frames = append(frames, Frame{Time: time.Unix(int64(i), 0), Stream: "account", Data: f.Data})
	}
	b := write(t, Header{Market: "zdex"}, frames)
	n := 0
	err := Play(bytes.NewReader(b), func(ev Event) error {
		want, err := zdex.DecodeAccount(fx[n].Data)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(ev.Payload.AppendJSON(nil)), string(want.AppendJSON(nil)); got != want {
			t.Errorf("frame %d: got %s, want %s", n, got, want)
		}
		n++
		return nil
	})
	if err != nil || n != len(fx) || n == 0 {
		t.Fatalf("Play: %v, %d of %d events", err, n, len(fx))
	}
}

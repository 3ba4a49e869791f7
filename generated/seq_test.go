package generated_test

import (
	"strings"
	"testing"

	"github.com/marketwire/marketwire/gen"
	"github.com/marketwire/marketwire/generated"
	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/runtime"
)

// streamOf returns the runtime.Stream that a wire stream name subscribes to.
func streamOf(t *testing.T, market, name string) runtime.Stream {
	t.Helper()
	p, err := markets.All[market].ParseStream(name)
	if err != nil {
		t.Fatal(err)
	}
	sp, ok := p.(interface{ Stream() runtime.Stream })
	if !ok {
		t.Fatalf("%T has no Stream method", p)
	}
	return sp.Stream()
}

// TestSeq decodes every fixture of every stream, reads its sequence key
// through the stream's runtime.Stream and checks the kind the schema
// declares, a non-zero Last and First <= Last, and that SeqRaw, where the
// stream has it, reads the same key from the bytes (see checkSeqRaw). Fixtures of one wire stream
// named seq1.json, seq2.json, ... are recorded in order: each must follow
// the one before as its kind says (consecutive: First = previous Last + 1;
// linked: Prev = previous Last; increasing: First > previous Last; time:
// First >= previous Last).
func TestSeq(t *testing.T) {
	checked, ordered, raws := 0, 0, 0
	for _, m := range loadModel(t).Markets {
		for _, s := range m.Streams {
			fixtures := generated.Fixtures(m.Name, s.Name)
			prev := map[string]runtime.Seq{} // by wire stream name, for seq*.json
			for _, f := range fixtures {
				where := m.Name + "/" + s.Name + " fixture " + f.Stream
				st := streamOf(t, m.Name, f.Stream)
				if s.Sequence.Kind == "none" {
					if st.Seq != nil {
						t.Errorf("%s: kind none, but Stream().Seq is set", where)
					}
					continue
				}
				if st.Seq == nil {
					t.Errorf("%s: Stream().Seq is nil, want kind %s", where, s.Sequence.Kind)
					continue
				}
				v, err := st.Decode(f.Data)
				if err != nil {
					t.Errorf("%s: decode: %v", where, err)
					continue
				}
				seq := st.Seq(v)
				checked++
				if st.SeqRaw != nil {
					raws++
					checkSeqRaw(t, where, st, f.Data, seq)
				}
				if seq.Kind.String() != s.Sequence.Kind {
					t.Errorf("%s: kind %s, want %s", where, seq.Kind, s.Sequence.Kind)
				}
				if seq.Last == 0 || seq.First > seq.Last {
					t.Errorf("%s: %+v: want 0 < Last and First <= Last", where, seq)
				}
				if s.Sequence.Kind == "linked" && seq.Prev == 0 {
					t.Errorf("%s: %+v: linked without Prev", where, seq)
				}
				if !strings.HasPrefix(f.Name, "seq") {
					continue
				}
				if p, ok := prev[f.Stream]; ok {
					ordered++
					if msg := follows(s.Sequence, p, seq); msg != "" {
						t.Errorf("%s: %+v after %+v: %s", where, seq, p, msg)
					}
				}
				prev[f.Stream] = seq
			}
		}
	}
	if checked < 100 || ordered < 8 {
		t.Errorf("checked %d fixtures and %d ordered pairs; the fixtures are missing", checked, ordered)
	}
	if raws < checked/2 {
		t.Errorf("SeqRaw read the key of %d of %d fixtures; most streams should have it", raws, checked)
	}
	t.Logf("%d fixtures (%d by SeqRaw too), %d ordered pairs", checked, raws, ordered)
}

// TestSeqUnits checks the conversions of sequence keys: time fields become
// milliseconds (DEX depth times are seconds, DEX trade times nanoseconds),
// arrays span their elements, nested and tuple keys are found.
func TestSeqUnits(t *testing.T) {
	for _, tc := range []struct {
		market, stream, data string
		want                 runtime.Seq
	}{
		{"dex", "BNB_BTC@marketDiff", `{"e":"depthUpdate","E":1554964484,"s":"BNB_BTC","b":[],"a":[]}`,
			runtime.Seq{Kind: runtime.SeqTime, First: 1554964484000, Last: 1554964484000}},
		{"dex", "BNB_BTC@trades", `[` +
			`{"e":"trade","E":7,"s":"BNB_BTC","t":"7-1","p":"1","q":"1","b":"B-1","a":"A-1","T":1554964166437515341,"sa":"x","ba":"y"},` +
			`{"e":"trade","E":7,"s":"BNB_BTC","t":"7-0","p":"1","q":"1","b":"B-1","a":"A-1","T":1554964166436999999,"sa":"x","ba":"y"}]`,
			runtime.Seq{Kind: runtime.SeqTime, First: 1554964166436, Last: 1554964166437}},
		{"zdex", "kline:BTCUSDT", `[[1711756860000,"1","1","1","1","1",1711756919999,"1",1,"1","1","0"],` +
			`[1711756800000,"1","1","1","1","1",1711756859999,"1",1,"1","1","0"]]`,
			runtime.Seq{Kind: runtime.SeqTime, First: 1711756800000, Last: 1711756860000}},
		{"usdm", "btcusdt@depth", `{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":157,"u":160,"pu":149,"b":[],"a":[]}`,
			runtime.Seq{Kind: runtime.SeqLinked, First: 157, Last: 160, Prev: 149}},
		{"spot", "btcusdt@depth", `{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":157,"u":160,"b":[],"a":[]}`,
			runtime.Seq{Kind: runtime.SeqConsecutive, First: 157, Last: 160}},
		{"spot", "!miniTicker@arr", `[]`, runtime.Seq{Kind: runtime.SeqTime}},
	} {
		st := streamOf(t, tc.market, tc.stream)
		v, err := st.Decode([]byte(tc.data))
		if err != nil {
			t.Errorf("%s %s: %v", tc.market, tc.stream, err)
			continue
		}
		if got := st.Seq(v); got != tc.want {
			t.Errorf("%s %s: %+v, want %+v", tc.market, tc.stream, got, tc.want)
		}
	}
}

// follows says why b cannot come right after a in a stream of sequence q,
// or "" when it can.
func follows(q gen.SeqModel, a, b runtime.Seq) string {
	switch q.Kind {
	case "consecutive":
		if b.First != a.Last+1 {
			return "a gap or an overlap: want First = previous Last + 1"
		}
	case "linked":
		if b.Prev != a.Last {
			return "want Prev = previous Last"
		}
	case "increasing":
		if b.First <= a.Last {
			return "want First > previous Last"
		}
	case "time":
		if b.First < a.Last {
			return "went back in time"
		}
	}
	return ""
}

// checkSeqRaw checks the SeqRaw of st on a payload whose key Seq read as
// want: the same key from the bytes, and no panic on any truncation of it
// (a truncation that ends inside the last key's number may read a shorter
// number: frames reach SeqRaw whole).
func checkSeqRaw(t *testing.T, where string, st runtime.Stream, data []byte, want runtime.Seq) {
	t.Helper()
	got, err := st.SeqRaw(data)
	if err != nil || got != want {
		t.Errorf("%s: SeqRaw gave %+v, %v; Seq gave %+v", where, got, err, want)
		return
	}
	for n := range len(data) {
		if got, err := st.SeqRaw(data[:n]); err == nil && got.Kind != want.Kind {
			t.Errorf("%s: SeqRaw of the first %d bytes gave %+v, want kind %s", where, n, got, want.Kind)
			return
		}
	}
	if !st.Deferred {
		t.Errorf("%s: SeqRaw set on a stream that is not Deferred", where)
	}
}

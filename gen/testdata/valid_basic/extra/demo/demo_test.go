package demo

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/wire"
)

// This test runs inside a temporary module against the code generated from
// ../../schema.yaml (see gen_test.go, buildInTempModule).

func TestDispatch(t *testing.T) {
	v, err := DecodeAccount([]byte(`{"e":"fill","q":"1.50"}`))
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := v.(*FillEvent); !ok || f.Quantity.String() != "1.50" {
		t.Fatalf("got %#v", v)
	}
	v, err = DecodeAccount([]byte(`{"x":1,"e":"brandNew","y":[1]}`))
	if err != nil {
		t.Fatal(err)
	}
	u, ok := v.(*wire.UnknownEvent)
	if !ok || u.Kind != "brandNew" || string(u.Raw) != `{"x":1,"e":"brandNew","y":[1]}` {
		t.Fatalf("got %#v", v)
	}
	if _, err := DecodeAccount([]byte(`{"x":1}`)); err == nil {
		t.Fatal("a payload without the key decoded")
	}
}

func TestBook(t *testing.T) {
	p := BookParams{Symbol: "ABC", Speed: Speed100ms}
	if p.StreamName() != "abc@book@100ms" || p.Route() != "public" {
		t.Fatalf("%q %q", p.StreamName(), p.Route())
	}
	data := `{"e":"book","E":1,"U":5,"u":7,"pu":4,"st":{"t":1700000000},"S":"BUY","b":[["1.5",2e-8]],"i":{"id":"42","ts":1700000000000000001},"r":null,"x":{"a":[1]},"old":true}`
	v, err := Decode("abc@book@100ms", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	ev := v.(*BookEvent)
	if ev.Side != SideBid || ev.Bids[0].Size.String() != "2e-8" || ev.Inner.OrderID != 42 || ev.Inner.Time != 1700000000000000001 || ev.Ratio != nil || string(*ev.Extra) != `{"a":[1]}` {
		t.Fatalf("%#v", ev)
	}
	if got := string(ev.AppendJSON(nil)); got != data {
		t.Fatalf("re-encoded\n%s\nwant\n%s", got, data)
	}
	if err := (BookParams{Symbol: "ABC", Speed: "5s"}).Validate(); err == nil {
		t.Fatal("bad speed accepted")
	}
	if got, want := p.Stream().Seq(ev), (runtime.Seq{Kind: runtime.SeqLinked, First: 5, Last: 7, Prev: 4}); got != want {
		t.Fatalf("seq %+v, want %+v", got, want)
	}
}

func TestArraySeq(t *testing.T) {
	one := `{"e":"book","E":1,"U":1,"u":1,"pu":0,"st":{"t":%d},"S":"BUY","b":[],"r":null,"old":false}`
	data := "[" + fmt.Sprintf(one, 1700000001) + "," + fmt.Sprintf(one, 1700000000) + "]"
	v, err := Decode("!book@arr", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	got := AllBooksParams{}.Stream().Seq(v)
	if want := (runtime.Seq{Kind: runtime.SeqTime, First: 1700000000000, Last: 1700000001000}); got != want {
		t.Fatalf("seq %+v, want %+v", got, want)
	}
}

func TestLimitsAndDialect(t *testing.T) {
	if Market.Limits.ConnectionAttempts != 300 || Market.Limits.ConnectionWindow != 5*time.Minute || !Market.Dialect.ProbePing || Market.Dialect.Probe != "" {
		t.Fatalf("limits %+v, dialect %+v", Market.Limits, Market.Dialect)
	}
}

func TestNilHandler(t *testing.T) {
	_, err := SubscribeBook(context.Background(), nil, BookParams{Symbol: "ABC"}, nil)
	if err == nil || err.Error() != "demo: SubscribeBook: nil handler" {
		t.Fatalf("SubscribeBook: %v", err)
	}
	_, err = Subscribe(context.Background(), nil, BookParams{Symbol: "ABC"}, nil)
	if err == nil || err.Error() != "demo: Subscribe: nil handler" {
		t.Fatalf("Subscribe: %v", err)
	}
}

func TestChecks(t *testing.T) {
	_, err := Decode("abc@book", []byte(`{"e":"book","E":1}`))
	if err == nil || err.Error() != `demo: decode book field "U": missing` || !errors.Is(err, wire.ErrMissing) {
		t.Fatalf("missing key: %v", err)
	}
	_, err = Decode("abc@book", []byte(`{"e":"book","E":1,"U":1,"u":1,"pu":0,"st":{},"S":"BUY","b":[],"r":null,"old":false}`))
	if err == nil || err.Error() != `demo: decode book field "st.t": missing` {
		t.Fatalf("missing nested key: %v", err)
	}
	_, err = Decode("abc@book", []byte(`{"e":"fill","q":"1"}`))
	var ee *wire.EventError
	if !errors.As(err, &ee) || ee.Got != "fill" || err.Error() != `demo: decode book field "e": event "fill", want "book"` {
		t.Fatalf("another event: %v", err)
	}
	// Optional keys (i, x) may be absent; a nullable one (r) must be there.
	if _, err := Decode("abc@book", []byte(`{"e":"book","E":1,"U":1,"u":1,"pu":0,"st":{"t":1},"S":"BUY","b":[],"old":false}`)); err == nil || err.Error() != `demo: decode book field "r": missing` {
		t.Fatalf("nullable key: %v", err)
	}
}

// TestOptionalAbsentStaysAbsent re-encodes payloads with and without every
// kind of optional key: an absent key stays absent (not null), a present
// one comes back as it was.
func TestOptionalAbsentStaysAbsent(t *testing.T) {
	for _, data := range []string{
		`{"e":"fill","q":"1.50"}`,
		`{"e":"fill","q":"1.50","ap":"1.49","n":2e-8,"c":0,"cs":"7","m":false,"s":"","S":"SELL","T":0,"l":[],"st":{"t":1}}`,
		`{"e":"fill","q":"1.50","m":true,"l":[["1",2]]}`,
	} {
		v, err := DecodeAccount([]byte(data))
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if got := string(v.(*FillEvent).AppendJSON(nil)); got != data {
			t.Errorf("re-encoded\n%s\nwant\n%s", got, data)
		}
	}
}

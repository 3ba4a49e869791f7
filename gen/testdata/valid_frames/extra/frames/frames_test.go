package frames

import (
	"testing"
	"time"

	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/wire"
)

func TestStream(t *testing.T) {
	st := TradesParams{Symbol: "BTC"}.Stream()
	if st.Name != "trades:BTC" || st.Key != "" || st.Vars["channel"] != "trades" || st.Vars["symbol"] != "BTC" || st.Auth || st.Whole {
		t.Fatalf("trades: %+v", st)
	}
	acc := AccountParams{}.Stream()
	if acc.Name != "account" || acc.Vars["channel"] != "account" || !acc.Auth || !acc.Whole {
		t.Fatalf("account: %+v", acc)
	}
	v, err := acc.Decode([]byte(`{"channel":"account","event":"fill","data":{"qty":"3","seq":9}}`))
	if f, ok := v.(*FillEvent); err != nil || !ok || f.Quantity.String() != "3" {
		t.Fatalf("account decode: %#v, %v", v, err)
	}
	if got, want := acc.Seq(v), (runtime.Seq{Kind: runtime.SeqIncreasing, First: 9, Last: 9}); got != want {
		t.Fatalf("fill seq %+v, want %+v", got, want)
	}
	v, err = acc.Decode([]byte(`{"channel":"account","data":{"balance":1,"seq":10}}`))
	if got, want := acc.Seq(v), (runtime.Seq{Kind: runtime.SeqIncreasing, First: 10, Last: 10}); err != nil || got != want {
		t.Fatalf("state seq %+v, want %+v (%v)", got, want, err)
	}
	v, err = acc.Decode([]byte(`{"channel":"account","event":"notification","data":{}}`))
	if got, want := acc.Seq(v), (runtime.Seq{Kind: runtime.SeqIncreasing}); err != nil || got != want {
		t.Fatalf("unknown event seq %+v, want %+v (%v)", got, want, err)
	}
	if Market.Dialect.KeepAliveEvery != 20*time.Second || len(Market.Dialect.Key) != 2 || Market.Dialect.AuthOK[0].Value != "authenticated" ||
		Market.Dialect.Probe != `{"action":"ping"}` || Market.Dialect.ProbePing || Market.Limits.ConnectionAttempts != 0 {
		t.Fatalf("dialect: %+v", Market.Dialect)
	}
}

func TestEither(t *testing.T) {
	for _, data := range []string{`[{"id":"7-0","ts":1700000000000999,"price":"1.5"}]`, `{"id":"7-0","ts":1700000000000999,"price":"1.5"}`} {
		v, err := Decode("trades:BTC", []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := (TradesParams{Symbol: "BTC"}).Stream().Seq(v), (runtime.Seq{Kind: runtime.SeqTime, First: 1700000000000, Last: 1700000000000}); got != want {
			t.Fatalf("seq %+v, want %+v", got, want)
		}
		got := *v.(*TradeEvents)
		if len(got) != 1 || got[0].TradeID != "7-0" || got[0].Price.String() != "1.5" {
			t.Fatalf("%s: %+v", data, got)
		}
	}
	if _, err := ParseStream("trades:btc"); err == nil {
		t.Fatal("lower-case symbol accepted")
	}
}

func TestDispatchDataDefault(t *testing.T) {
	v, err := DecodeAccount([]byte(`{"channel":"account","event":"fill","data":{"qty":"2","seq":1},"ts":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := v.(*FillEvent); !ok || f.Quantity.String() != "2" {
		t.Fatalf("%#v", v)
	}
	v, err = DecodeAccount([]byte(`{"channel":"account","data":{"balance":12.5,"seq":2},"ts":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := v.(*StateEvent); !ok || s.Balance.String() != "12.5" {
		t.Fatalf("%#v", v)
	}
	v, err = DecodeAccount([]byte(`{"channel":"account","event":"notification","data":{"text":"hi"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := v.(*wire.UnknownEvent); !ok || u.Kind != "notification" || string(u.Raw) != `{"text":"hi"}` {
		t.Fatalf("%#v", v)
	}
	if _, err := DecodeAccount([]byte(`{"channel":"account","event":"fill"}`)); err == nil {
		t.Fatal("a frame without data decoded")
	}
}
